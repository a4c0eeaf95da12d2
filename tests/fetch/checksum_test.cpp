#include "checksum.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

using mpfetch::hash_file_prefix;
using mpfetch::normalize_sha256_hex;
using mpfetch::sha256;

constexpr const char* empty_digest =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* abc_digest =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string digest_of(std::string_view data) {
  sha256 hash;
  hash.update(data.data(), data.size());
  return hash.hex_digest();
}

// --- sha256 (FIPS 180-2 / NIST example vectors) ----------------------------------------------

TEST(Sha256, EmptyInput) { EXPECT_EQ(sha256().hex_digest(), empty_digest); }

TEST(Sha256, Abc) { EXPECT_EQ(digest_of("abc"), abc_digest); }

TEST(Sha256, TwoBlockMessage) {
  EXPECT_EQ(digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, OneMillionAsInUnevenPieces) {
  sha256 hash;
  const std::string piece(7919, 'a');
  std::size_t left = 1'000'000;
  while (left > 0) {
    const std::size_t n = std::min(left, piece.size());
    hash.update(piece.data(), n);
    left -= n;
  }
  EXPECT_EQ(hash.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ByteByByteEqualsAllAtOnce) {
  sha256 hash;
  for (const char c : std::string("abc")) hash.update(&c, 1);
  EXPECT_EQ(hash.hex_digest(), abc_digest);
}

TEST(Sha256, DigestCanBeReadMidwayAndHashingContinues) {
  sha256 hash;
  hash.update("ab", 2);
  EXPECT_EQ(hash.hex_digest(), digest_of("ab"));
  EXPECT_EQ(hash.hex_digest(), digest_of("ab"));  // reading twice changes nothing
  hash.update("c", 1);
  EXPECT_EQ(hash.hex_digest(), abc_digest);
}

TEST(Sha256, ZeroLengthUpdatesChangeNothing) {
  sha256 hash;
  hash.update(nullptr, 0);
  hash.update("abc", 3);
  hash.update(nullptr, 0);
  EXPECT_EQ(hash.hex_digest(), abc_digest);
}

TEST(Sha256, MovesKeepTheState) {
  sha256 first;
  first.update("a", 1);
  sha256 second(std::move(first));
  second.update("bc", 2);
  sha256 third;
  third = std::move(second);
  EXPECT_EQ(third.hex_digest(), abc_digest);
}

// --- normalize_sha256_hex --------------------------------------------------------------------

TEST(NormalizeSha256Hex, LowerCaseIsKept) {
  EXPECT_EQ(normalize_sha256_hex(abc_digest), abc_digest);
}

TEST(NormalizeSha256Hex, UpperAndMixedCaseAreLowered) {
  EXPECT_EQ(
      normalize_sha256_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
      abc_digest);
  EXPECT_EQ(
      normalize_sha256_hex("Ba7816bF8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aD"),
      abc_digest);
}

TEST(NormalizeSha256Hex, AnythingElseIsRejected) {
  const std::string good = abc_digest;
  for (const std::string& text :
       {std::string(), good.substr(1), good + "0", " " + good.substr(1), good.substr(0, 63) + "g",
        good.substr(0, 63) + "G", good.substr(0, 63) + " ", "sha256:" + good.substr(7),
        std::string(64, 'x'), good.substr(0, 32) + std::string(1, '\0') + good.substr(33)})
    EXPECT_EQ(normalize_sha256_hex(text), std::nullopt) << '"' << text << '"';
}

// --- hash_file_prefix ------------------------------------------------------------------------

class HashFilePrefix : public testing::Test {
protected:
  void SetUp() override {
    char name[] = "/tmp/checksum_test.XXXXXX";
    fd_ = ::mkstemp(name);
    ASSERT_GE(fd_, 0);
    ::unlink(name);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void write_all(const std::string& data) {
    ASSERT_EQ(::pwrite(fd_, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  }
  int fd_ = -1;
};

TEST_F(HashFilePrefix, HashesExactlyThePrefix) {
  write_all("abcdef");
  sha256 hash;
  EXPECT_FALSE(hash_file_prefix(fd_, 3, hash));
  EXPECT_EQ(hash.hex_digest(), abc_digest);
}

TEST_F(HashFilePrefix, ZeroLengthHashesNothing) {
  write_all("abc");
  sha256 hash;
  EXPECT_FALSE(hash_file_prefix(fd_, 0, hash));
  EXPECT_EQ(hash.hex_digest(), empty_digest);
}

TEST_F(HashFilePrefix, LargerThanTheBufferMatchesHashingInMemory) {
  std::string data(1'000'003, '\0');
  std::srand(7);
  for (auto& c : data) c = static_cast<char>(std::rand());
  write_all(data);
  sha256 hash;
  EXPECT_FALSE(hash_file_prefix(fd_, data.size(), hash));
  EXPECT_EQ(hash.hex_digest(), digest_of(data));
}

TEST_F(HashFilePrefix, ContinuesWithTheBodyAfterwards) {
  write_all("ab");
  sha256 hash;
  ASSERT_FALSE(hash_file_prefix(fd_, 2, hash));
  hash.update("c", 1);
  EXPECT_EQ(hash.hex_digest(), abc_digest);
}

TEST_F(HashFilePrefix, LeavesTheFileOffsetAlone) {
  write_all("abcdef");
  ASSERT_EQ(::lseek(fd_, 4, SEEK_SET), 4);
  sha256 hash;
  ASSERT_FALSE(hash_file_prefix(fd_, 6, hash));
  EXPECT_EQ(::lseek(fd_, 0, SEEK_CUR), 4);
}

TEST_F(HashFilePrefix, FileShorterThanTheLengthIsAnError) {
  write_all("abc");
  sha256 hash;
  EXPECT_EQ(hash_file_prefix(fd_, 4, hash), std::make_error_code(std::errc::io_error));
}

TEST(HashFilePrefixErrors, BadDescriptorIsReported) {
  sha256 hash;
  const auto ec = hash_file_prefix(-1, 10, hash);
  EXPECT_EQ(ec, std::error_code(EBADF, std::system_category()));
}

}  // namespace
