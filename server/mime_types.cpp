#include "mime_types.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace mpserve {

namespace {

using mime_entry = std::pair<std::string_view, std::string_view>;  // lower-case extension, type

// nginx 1.22 conf/mime.types, every entry, with these changes: iso, deb and udeb get their own
// types instead of nginx's application/octet-stream; then compressors, disk images, signatures,
// checksums and common web/media types nginx lacks. Kept sorted for binary search.
constexpr auto mime_table = std::to_array<mime_entry>({
    {"3gp", "video/3gpp"},
    {"3gpp", "video/3gpp"},
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"ai", "application/postscript"},
    {"apk", "application/vnd.android.package-archive"},
    {"appimage", "application/vnd.appimage"},
    {"asc", "application/pgp-signature"},
    {"asf", "video/x-ms-asf"},
    {"asx", "video/x-ms-asf"},
    {"atom", "application/atom+xml"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/x-ms-bmp"},
    {"br", "application/x-brotli"},
    {"bz2", "application/x-bzip2"},
    {"cco", "application/x-cocoa"},
    {"cpio", "application/x-cpio"},
    {"crt", "application/x-x509-ca-cert"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"deb", "application/vnd.debian.binary-package"},
    {"der", "application/x-x509-ca-cert"},
    {"diff", "text/x-diff"},
    {"dll", "application/octet-stream"},
    {"dmg", "application/octet-stream"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"ear", "application/java-archive"},
    {"eot", "application/vnd.ms-fontobject"},
    {"eps", "application/postscript"},
    {"epub", "application/epub+zip"},
    {"exe", "application/octet-stream"},
    {"flac", "audio/flac"},
    {"flv", "video/x-flv"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"heic", "image/heic"},
    {"hqx", "application/mac-binhex40"},
    {"htc", "text/x-component"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/x-icon"},
    {"ics", "text/calendar"},
    {"img", "application/octet-stream"},
    {"iso", "application/x-iso9660-image"},
    {"jad", "text/vnd.sun.j2me.app-descriptor"},
    {"jar", "application/java-archive"},
    {"jardiff", "application/x-java-archive-diff"},
    {"jng", "image/x-jng"},
    {"jnlp", "application/x-java-jnlp-file"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "application/javascript"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"jxl", "image/jxl"},
    {"kar", "audio/midi"},
    {"kml", "application/vnd.google-earth.kml+xml"},
    {"kmz", "application/vnd.google-earth.kmz"},
    {"log", "text/plain"},
    {"lz4", "application/x-lz4"},
    {"lzma", "application/x-lzma"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/x-m4a"},
    {"m4v", "video/x-m4v"},
    {"map", "application/json"},
    {"markdown", "text/markdown"},
    {"md", "text/markdown"},
    {"md5", "text/plain"},
    {"mid", "audio/midi"},
    {"midi", "audio/midi"},
    {"mjs", "application/javascript"},
    {"mkv", "video/x-matroska"},
    {"mml", "text/mathml"},
    {"mng", "video/x-mng"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"msi", "application/octet-stream"},
    {"msm", "application/octet-stream"},
    {"msp", "application/octet-stream"},
    {"odg", "application/vnd.oasis.opendocument.graphics"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"},
    {"otf", "font/otf"},
    {"ova", "application/x-virtualbox-ova"},
    {"patch", "text/x-diff"},
    {"pdb", "application/x-pilot"},
    {"pdf", "application/pdf"},
    {"pem", "application/x-x509-ca-cert"},
    {"pl", "application/x-perl"},
    {"pm", "application/x-perl"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"prc", "application/x-pilot"},
    {"ps", "application/postscript"},
    {"qcow2", "application/x-qemu-disk"},
    {"ra", "audio/x-realaudio"},
    {"rar", "application/x-rar-compressed"},
    {"rpm", "application/x-redhat-package-manager"},
    {"rss", "application/rss+xml"},
    {"rtf", "application/rtf"},
    {"run", "application/x-makeself"},
    {"sea", "application/x-sea"},
    {"sha1", "text/plain"},
    {"sha256", "text/plain"},
    {"sha512", "text/plain"},
    {"shtml", "text/html"},
    {"sig", "application/pgp-signature"},
    {"sit", "application/x-stuffit"},
    {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"},
    {"swf", "application/x-shockwave-flash"},
    {"tar", "application/x-tar"},
    {"tbz2", "application/x-bzip2"},
    {"tcl", "application/x-tcl"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"tk", "application/x-tcl"},
    {"toml", "application/toml"},
    {"torrent", "application/x-bittorrent"},
    {"ts", "video/mp2t"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain"},
    {"txz", "application/x-xz"},
    {"udeb", "application/vnd.debian.binary-package"},
    {"vdi", "application/x-virtualbox-vdi"},
    {"vhd", "application/x-vhd"},
    {"vhdx", "application/x-vhdx"},
    {"vmdk", "application/x-vmdk"},
    {"war", "application/java-archive"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"wbmp", "image/vnd.wap.wbmp"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"wml", "text/vnd.wap.wml"},
    {"wmlc", "application/vnd.wap.wmlc"},
    {"wmv", "video/x-ms-wmv"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "text/xml"},
    {"xpi", "application/x-xpinstall"},
    {"xspf", "application/xspf+xml"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
    {"zstd", "application/zstd"},
});

static_assert(std::is_sorted(mime_table.begin(), mime_table.end(),
                             [](const mime_entry& a, const mime_entry& b) {
                               return a.first < b.first;
                             }),
              "mime_table must stay sorted by extension");
static_assert(std::adjacent_find(mime_table.begin(), mime_table.end(),
                                 [](const mime_entry& a, const mime_entry& b) {
                                   return a.first == b.first;
                                 }) == mime_table.end(),
              "mime_table must not list an extension twice");

// Longer than any extension in the table, so a longer one is simply unknown.
constexpr std::size_t max_extension_length = 16;

}  // namespace

std::string_view mime_type_for(std::string_view file_name) {
  const auto slash = file_name.rfind('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  // Leading dots name a hidden file (".bashrc"), not an extension, as in Python's splitext.
  const auto name_start = file_name.find_first_not_of('.');
  const auto dot = file_name.rfind('.');
  if (name_start == std::string_view::npos || dot == std::string_view::npos || dot < name_start)
    return default_mime_type;
  const auto extension = file_name.substr(dot + 1);
  if (extension.empty() || extension.size() > max_extension_length) return default_mime_type;

  std::array<char, max_extension_length> lowered{};
  std::transform(extension.begin(), extension.end(), lowered.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  const std::string_view key(lowered.data(), extension.size());
  const auto found =
      std::lower_bound(mime_table.begin(), mime_table.end(), key,
                       [](const mime_entry& entry, std::string_view k) { return entry.first < k; });
  if (found == mime_table.end() || found->first != key) return default_mime_type;
  return found->second;
}

}  // namespace mpserve
