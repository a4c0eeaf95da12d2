// The output file: complete downloads appear under their name only when committed; special
// files such as /dev/null are written directly and never replaced.
#include "output_file.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

class OutputFile : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/mpfetch-output-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  fs::path dir_;
};

TEST_F(OutputFile, TheNameAppearsOnlyWhenCommitted) {
  const auto name = (dir_ / "file.iso").string();
  mpfetch::output_file file;
  std::error_code ec;
  file.open(name, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_FALSE(file.direct());
  file.write("abc", 3, ec);
  ASSERT_FALSE(ec);
  EXPECT_FALSE(fs::exists(name));
  EXPECT_EQ(read(name + ".part"), "abc");
  file.commit(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(read(name), "abc");
  EXPECT_FALSE(fs::exists(name + ".part"));
}

TEST_F(OutputFile, AnUncommittedDownloadStaysAPartFile) {
  const auto name = (dir_ / "file.iso").string();
  {
    mpfetch::output_file file;
    std::error_code ec;
    file.open(name, ec);
    file.write("partial", 7, ec);
  }
  EXPECT_FALSE(fs::exists(name));
  EXPECT_EQ(read(name + ".part"), "partial");
}

TEST_F(OutputFile, DevNullIsWrittenDirectlyAndStaysADevice) {
  mpfetch::output_file file;
  std::error_code ec;
  file.open("/dev/null", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(file.direct());
  file.write("discarded", 9, ec);
  file.commit(ec);
  EXPECT_FALSE(ec) << ec.message();
  struct stat info {};
  ASSERT_EQ(::stat("/dev/null", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode)) << "/dev/null was replaced";
  EXPECT_FALSE(fs::exists("/dev/null.part"));
}

TEST_F(OutputFile, AppendingToADeviceWritesItDirectlyToo) {
  // The downloader appends at offset 0 for a fresh answer: that path must not make a .part
  // and rename it over the device either. A private null device, so a failure breaks nothing.
  const auto device = (dir_ / "null").string();
  if (::mknod(device.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) GTEST_SKIP() << "cannot mknod (not root)";
  mpfetch::output_file file;
  std::error_code ec;
  EXPECT_EQ(file.open_to_append(device, ec), 0u);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(file.direct());
  file.write("discarded", 9, ec);
  file.commit(ec);
  EXPECT_FALSE(ec) << ec.message();
  struct stat info {};
  ASSERT_EQ(::stat(device.c_str(), &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode)) << "the device was replaced";
  EXPECT_FALSE(fs::exists(device + ".part"));
}

TEST_F(OutputFile, AnUnwritableDirectoryIsAnError) {
  mpfetch::output_file file;
  std::error_code ec;
  file.open((dir_ / "missing-dir" / "file").string(), ec);
  EXPECT_TRUE(ec);
}

}  // namespace
