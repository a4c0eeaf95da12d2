#include "mime_types.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using mpserve::mime_type_for;

struct mime_case {
  std::string_view file_name;
  std::string_view type;
};

void PrintTo(const mime_case& c, std::ostream* os) { *os << '"' << c.file_name << '"'; }

class MimeTypeFor : public testing::TestWithParam<mime_case> {};

TEST_P(MimeTypeFor, MapsNameToType) {
  EXPECT_EQ(mime_type_for(GetParam().file_name), GetParam().type);
}

INSTANTIATE_TEST_SUITE_P(
    NginxTable, MimeTypeFor,
    testing::Values(
        mime_case{"index.html", "text/html"}, mime_case{"a.htm", "text/html"},
        mime_case{"style.css", "text/css"}, mime_case{"app.js", "application/javascript"},
        mime_case{"photo.jpg", "image/jpeg"}, mime_case{"photo.jpeg", "image/jpeg"},
        mime_case{"logo.svg", "image/svg+xml"}, mime_case{"doc.pdf", "application/pdf"},
        mime_case{"a.zip", "application/zip"}, mime_case{"a.7z", "application/x-7z-compressed"},
        mime_case{"song.mp3", "audio/mpeg"}, mime_case{"clip.mp4", "video/mp4"},
        mime_case{"f.woff2", "font/woff2"}, mime_case{"setup.exe", "application/octet-stream"},
        mime_case{"a.docx",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        mime_case{"list.m3u8", "application/vnd.apple.mpegurl"}, mime_case{"x.3gp", "video/3gpp"}));

INSTANTIATE_TEST_SUITE_P(
    DownloadServerAdditions, MimeTypeFor,
    testing::Values(
        mime_case{"debian-12.iso", "application/x-iso9660-image"},
        mime_case{"disk.img", "application/octet-stream"},
        mime_case{"vm.qcow2", "application/x-qemu-disk"},
        mime_case{"linux.tar.xz", "application/x-xz"}, mime_case{"a.xz", "application/x-xz"},
        mime_case{"a.tar.zst", "application/zstd"}, mime_case{"a.tar.gz", "application/gzip"},
        mime_case{"a.tar.bz2", "application/x-bzip2"}, mime_case{"a.tar", "application/x-tar"},
        mime_case{"pkg.deb", "application/vnd.debian.binary-package"},
        mime_case{"pkg.rpm", "application/x-redhat-package-manager"},
        mime_case{"SHA256SUMS.sha256", "text/plain"}, mime_case{"a.sha512", "text/plain"},
        mime_case{"a.md5", "text/plain"}, mime_case{"a.iso.sig", "application/pgp-signature"},
        mime_case{"a.iso.asc", "application/pgp-signature"},
        mime_case{"m.wasm", "application/wasm"}, mime_case{"m.mjs", "application/javascript"},
        mime_case{"d.json", "application/json"}, mime_case{"p.webp", "image/webp"},
        mime_case{"p.avif", "image/avif"}, mime_case{"README.md", "text/markdown"},
        mime_case{"notes.txt", "text/plain"}));

INSTANTIATE_TEST_SUITE_P(
    NameShapes, MimeTypeFor,
    testing::Values(mime_case{"INDEX.HTML", "text/html"}, mime_case{"Photo.JpG", "image/jpeg"},
                    mime_case{"A.TAR.XZ", "application/x-xz"},
                    mime_case{"archive.xz.txt", "text/plain"},  // the last extension wins
                    mime_case{"dir.d/file.pdf", "application/pdf"},
                    mime_case{"dir.pdf/file", "application/octet-stream"},
                    mime_case{"", "application/octet-stream"},
                    mime_case{"Makefile", "application/octet-stream"},
                    mime_case{"file.", "application/octet-stream"},
                    mime_case{".", "application/octet-stream"},
                    mime_case{"..", "application/octet-stream"},
                    mime_case{".bashrc", "application/octet-stream"},
                    mime_case{".json",
                              "application/octet-stream"},  // a hidden file, not an extension
                    mime_case{".config.json", "application/json"},
                    mime_case{"a.unknownext", "application/octet-stream"},
                    mime_case{"a.averyveryverylongextension", "application/octet-stream"},
                    mime_case{"a.html\x01", "application/octet-stream"},
                    mime_case{"a.h\xc3\xa9ml", "application/octet-stream"}));

TEST(MimeTypeForTextTypes, CarryNoCharsetLikeNginx) {
  EXPECT_EQ(mime_type_for("a.html"), "text/html");
  EXPECT_EQ(mime_type_for("a.txt"), "text/plain");
}

// Every line of the nginx mime.types this table was copied from, when the file is installed.
TEST(MimeTypeForNginxParity, EveryNginxExtensionIsKnown) {
  std::ifstream file("/etc/nginx/mime.types");
  if (!file) GTEST_SKIP() << "/etc/nginx/mime.types not installed";
  std::stringstream text;
  text << file.rdbuf();
  const std::string content = text.str();
  const std::regex line(R"(([a-z0-9.+-]+/[a-z0-9.+-]+)\s+([^;]+);)");
  int checked = 0;
  for (std::sregex_iterator it(content.begin(), content.end(), line), end; it != end; ++it) {
    const std::string type = (*it)[1];
    std::istringstream extensions((*it)[2].str());
    for (std::string extension; extensions >> extension; ++checked) {
      const auto ours = mime_type_for("file." + extension);
      // Deliberate departures: these have registered types better than a bare byte stream.
      if (extension == "iso" || extension == "deb") {
        EXPECT_NE(ours, "application/octet-stream") << extension;
        continue;
      }
      EXPECT_EQ(ours, type) << extension;
    }
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
