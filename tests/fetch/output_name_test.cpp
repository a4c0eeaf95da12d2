#include "output_name.hpp"
#include "parsed_url.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using mpfetch::choose_output_path;
using mpfetch::max_output_name_bytes;
using mpfetch::path_in_directory;
using mpfetch::safe_file_name;
using mpfetch::url_target;

url_target url(std::string_view text) { return mpfetch::test::parsed_url(text); }

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = c < 0x80         ? 1
                               : (c >> 5) == 6  ? 2
                               : (c >> 4) == 14 ? 3
                               : (c >> 3) == 30 ? 4
                                                : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    i += length;
  }
  return true;
}

// --- safe_file_name --------------------------------------------------------------------------

TEST(SafeFileName, OrdinaryNamesAreKept) {
  EXPECT_EQ(safe_file_name("big.iso"), "big.iso");
  EXPECT_EQ(safe_file_name("my file.txt"), "my file.txt");
  EXPECT_EQ(safe_file_name("\xe2\x82\xac.txt"), "\xe2\x82\xac.txt");
  EXPECT_EQ(safe_file_name(".profile"), ".profile");
  EXPECT_EQ(safe_file_name("..."), "...");
}

TEST(SafeFileName, LeadingDashIsKeptLikeWget) {
  EXPECT_EQ(safe_file_name("-rf"), "-rf");
  EXPECT_EQ(safe_file_name("--help"), "--help");
}

TEST(SafeFileName, SeparatorsAndControlBytesBecomeUnderscores) {
  EXPECT_EQ(safe_file_name("a/b"), "a_b");
  EXPECT_EQ(safe_file_name("a\\b"), "a_b");
  EXPECT_EQ(safe_file_name(std::string_view("a\0b", 3)), "a_b");
  EXPECT_EQ(safe_file_name("a\nb\rc\td"), "a_b_c_d");
  EXPECT_EQ(safe_file_name("\x1b[31mred"), "_[31mred");  // no terminal escapes in a name
  EXPECT_EQ(safe_file_name("del\x7f"), "del_");
  EXPECT_EQ(safe_file_name("../../etc/passwd"), ".._.._etc_passwd");
}

TEST(SafeFileName, DotNamesAndEmptyBecomeIndexHtml) {
  EXPECT_EQ(safe_file_name(""), "index.html");
  EXPECT_EQ(safe_file_name("."), "index.html");
  EXPECT_EQ(safe_file_name(".."), "index.html");
}

TEST(SafeFileName, NamesAtTheLimitAreKept) {
  const std::string name(max_output_name_bytes, 'a');
  EXPECT_EQ(safe_file_name(name), name);
}

TEST(SafeFileName, LongNamesAreCutKeepingTheExtension) {
  const std::string name = std::string(1000, 'a') + ".tar.gz";
  const auto safe = safe_file_name(name);
  EXPECT_EQ(safe.size(), max_output_name_bytes);
  EXPECT_EQ(safe, std::string(max_output_name_bytes - 3, 'a') + ".gz");
}

TEST(SafeFileName, RoomIsLeftForPartAndNumberSuffixes) {
  const auto safe = safe_file_name(std::string(300, 'x') + ".iso");
  EXPECT_LE((safe + ".999999.part").size(), 255u);
}

TEST(SafeFileName, AVeryLongExtensionIsNotAnExtension) {
  const std::string name = "a." + std::string(400, 'b');
  const auto safe = safe_file_name(name);
  EXPECT_EQ(safe, name.substr(0, max_output_name_bytes));
}

TEST(SafeFileName, LongHiddenNameIsCutAsAWhole) {
  const std::string name = "." + std::string(400, 'h');
  EXPECT_EQ(safe_file_name(name), name.substr(0, max_output_name_bytes));
}

TEST(SafeFileName, CuttingNeverSplitsAUtf8Sequence) {
  // 3-byte euro signs: the cut must land on a character boundary for every stem length.
  for (std::size_t prefix = 0; prefix < 4; ++prefix) {
    std::string name(prefix, 'p');
    for (int i = 0; i < 200; ++i) name += "\xe2\x82\xac";
    name += ".txt";
    const auto safe = safe_file_name(name);
    EXPECT_LE(safe.size(), max_output_name_bytes) << prefix;
    EXPECT_GE(safe.size(), max_output_name_bytes - 2) << prefix;
    EXPECT_TRUE(is_valid_utf8(safe)) << prefix;
    EXPECT_EQ(safe.substr(safe.size() - 4), ".txt") << prefix;
  }
}

TEST(SafeFileName, IsIdempotent) {
  for (std::string_view name : {"", ".", "..", "a/b", "x", "-", "\x01", "index.html"}) {
    const auto once = safe_file_name(name);
    EXPECT_EQ(safe_file_name(once), once) << name;
  }
  const auto once = safe_file_name(std::string(999, 'z') + ".bin");
  EXPECT_EQ(safe_file_name(once), once);
}

// --- path_in_directory -----------------------------------------------------------------------

TEST(PathInDirectory, JoinsWithOneSlash) {
  EXPECT_EQ(path_in_directory("downloads", "f.iso"), "downloads/f.iso");
  EXPECT_EQ(path_in_directory("downloads/", "f.iso"), "downloads/f.iso");
  EXPECT_EQ(path_in_directory("/", "f.iso"), "/f.iso");
  EXPECT_EQ(path_in_directory("/tmp/a b", "f"), "/tmp/a b/f");
}

TEST(PathInDirectory, EmptyDirectoryIsTheCurrentOne) {
  EXPECT_EQ(path_in_directory("", "f.iso"), "f.iso");
}

TEST(PathInDirectory, AnUnsafeNameCannotLeaveTheDirectory) {
  EXPECT_EQ(path_in_directory("dl", "../../etc/passwd"), "dl/.._.._etc_passwd");
  EXPECT_EQ(path_in_directory("dl", "/etc/passwd"), "dl/_etc_passwd");
  EXPECT_EQ(path_in_directory("dl", ".."), "dl/index.html");
  EXPECT_EQ(path_in_directory("dl", ""), "dl/index.html");
}

// --- choose_output_path (through URLs) -------------------------------------------------------

std::string choose(std::string_view text, std::string_view directory,
                   const std::set<std::string>& taken = {}) {
  return choose_output_path(url(text), directory,
                            [&](const std::string& path) { return taken.count(path) > 0; });
}

TEST(ChooseOutputPath, LastSegmentInsideTheDirectory) {
  EXPECT_EQ(choose("http://example.org/pub/big.iso", "dl"), "dl/big.iso");
  EXPECT_EQ(choose("http://example.org/pub/big.iso", ""), "big.iso");
  EXPECT_EQ(choose("http://example.org/", "dl"), "dl/index.html");
}

TEST(ChooseOutputPath, EncodedTraversalStaysInside) {
  EXPECT_EQ(choose("http://example.org/..%2F..%2Fetc%2Fpasswd", "dl"), "dl/.._.._etc_passwd");
  EXPECT_EQ(choose("http://example.org/%2e%2e", "dl"), "dl/index.html");
  EXPECT_EQ(choose("http://example.org/%2E%2E/", "dl"), "dl/index.html");
  EXPECT_EQ(choose("http://example.org/a/%2e%2e%2f%2e%2e%2fx", "dl"), "dl/.._.._x");
  EXPECT_EQ(choose("http://example.org/%5C..%5Cwin.ini", "dl"), "dl/_.._win.ini");
  EXPECT_EQ(choose("http://example.org/%2Fetc%2Fpasswd", "dl"), "dl/_etc_passwd");
}

TEST(ChooseOutputPath, ControlBytesFromTheUrlAreReplaced) {
  EXPECT_EQ(choose("http://example.org/a%00b%0Ac%1B", "dl"), "dl/a_b_c_");
}

TEST(ChooseOutputPath, VeryLongSegmentIsCut) {
  const auto path = choose("http://example.org/" + std::string(5000, 'n') + ".iso", "dl");
  EXPECT_EQ(path, "dl/" + std::string(max_output_name_bytes - 4, 'n') + ".iso");
}

TEST(ChooseOutputPath, LeadingDashIsKept) {
  EXPECT_EQ(choose("http://example.org/-rf", "dl"), "dl/-rf");
}

TEST(ChooseOutputPath, TakenPathsGetWgetNumbers) {
  EXPECT_EQ(choose("http://example.org/f.iso", "dl", {"dl/f.iso"}), "dl/f.iso.1");
  EXPECT_EQ(choose("http://example.org/f.iso", "dl", {"dl/f.iso", "dl/f.iso.1"}), "dl/f.iso.2");
  EXPECT_EQ(choose("http://example.org/f.iso", "dl", {"f.iso"}), "dl/f.iso");
}

}  // namespace
