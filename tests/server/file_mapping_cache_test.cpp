// file_mapping_cache against real files: a file is mapped on its second request, then one
// mapping per inode while it covers the file, a new one for a file that grew or was replaced,
// the limits, and deleted files let go.
#include "file_mapping_cache.hpp"
#include "served_file.hpp"

#include "served_directory_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

class FileMappingCache : public ServedDirectoryTest {
protected:
  // What the session does: open the file, fstat it, ask the cache.
  std::shared_ptr<const mpserve::file_mapping> acquire(mpserve::file_mapping_cache& cache, const std::string& name) {
    std::error_code ec;
    auto file = mpserve::open_beneath(root_.get(), name, ec);
    EXPECT_FALSE(ec) << name << ": " << ec.message();
    auto mapping = cache.acquire(file.fd.get(), file.info, ec);
    EXPECT_FALSE(ec) << ec.message();
    return mapping;  // lives on after the descriptor is closed, as in a transfer
  }
  // The first request only notes the file; the second maps it.
  std::shared_ptr<const mpserve::file_mapping> map(mpserve::file_mapping_cache& cache, const std::string& name) {
    EXPECT_FALSE(acquire(cache, name)) << name << " was mapped on its first request";
    return acquire(cache, name);
  }
  // Reading a mapping is safe here: no test shrinks a file it reads through one.
  static std::string bytes_of(const mpserve::file_mapping& mapping) {
    return std::string(mapping.data(), static_cast<std::size_t>(mapping.size()));
  }
};

TEST_F(FileMappingCache, AFileIsMappedOnItsSecondRequestAndThenKept) {
  write("a.iso", std::string(100000, 'a'));
  mpserve::file_mapping_cache cache(4, 1 << 20);
  EXPECT_FALSE(acquire(cache, "a.iso"));  // fetched once: copied, no mapping to fault in
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.mapped_bytes(), 0u);
  auto first = acquire(cache, "a.iso");
  auto second = acquire(cache, "a.iso");
  ASSERT_TRUE(first);
  EXPECT_EQ(first, second);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.mapped_bytes(), 100000u);
  EXPECT_EQ(bytes_of(*first), std::string(100000, 'a'));
}

TEST_F(FileMappingCache, AnInPlaceRewriteShowsThroughTheKeptMapping) {
  write("a.iso", std::string(100000, 'a'));
  mpserve::file_mapping_cache cache(4, 1 << 20);
  auto before = map(cache, "a.iso");
  write("a.iso", std::string(100000, 'b'));  // same inode, same size
  auto after = acquire(cache, "a.iso");
  EXPECT_EQ(before, after);
  EXPECT_EQ(bytes_of(*after), std::string(100000, 'b'));
}

TEST_F(FileMappingCache, AFileThatGrewIsMappedAgainWhole) {
  write("a.iso", std::string(100000, 'a'));
  mpserve::file_mapping_cache cache(4, 1 << 20);
  auto small = map(cache, "a.iso");
  ASSERT_TRUE(small);
  write("a.iso", std::string(200000, 'c'));
  auto grown = acquire(cache, "a.iso");
  ASSERT_TRUE(grown);
  EXPECT_NE(small, grown);
  EXPECT_EQ(grown->size(), 200000u);
  EXPECT_EQ(bytes_of(*grown), std::string(200000, 'c'));
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.mapped_bytes(), 200000u);
}

TEST_F(FileMappingCache, AFileRenamedOverTheNameGetsItsOwnMappingAndTheOldOneStaysValid) {
  write("a.iso", std::string(100000, 'a'));
  write("new.iso", std::string(100000, 'n'));
  mpserve::file_mapping_cache cache(4, 1 << 20);
  auto old_file = map(cache, "a.iso");
  ASSERT_TRUE(old_file);
  fs::rename(root_path_ / "new.iso", root_path_ / "a.iso");
  auto new_file = map(cache, "a.iso");  // another inode: seen for the first time
  ASSERT_TRUE(new_file);
  EXPECT_NE(old_file, new_file);
  EXPECT_EQ(bytes_of(*new_file), std::string(100000, 'n'));
  EXPECT_EQ(bytes_of(*old_file), std::string(100000, 'a'));  // a transfer of the old file goes on
}

TEST_F(FileMappingCache, TheLeastRecentlyUsedGoesFirstAndTheLimitsHold) {
  for (const char* name : {"1.iso", "2.iso", "3.iso"}) write(name, std::string(1000, name[0]));
  write("big.iso", std::string(5000, 'b'));
  mpserve::file_mapping_cache cache(2, 4000);
  auto one = map(cache, "1.iso");
  ASSERT_TRUE(one);
  map(cache, "2.iso");
  EXPECT_EQ(acquire(cache, "1.iso"), one);  // 1 is now the most recent, 2 the least
  EXPECT_TRUE(map(cache, "3.iso"));          // two files at most: 2 goes
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.mapped_bytes(), 2000u);
  EXPECT_EQ(acquire(cache, "1.iso"), one);
  EXPECT_FALSE(acquire(cache, "2.iso")) << "2 was dropped, so this is its first request again";
  // Larger than all the cache may map: no mapping and no error (the body is copied).
  EXPECT_FALSE(acquire(cache, "big.iso"));
  EXPECT_FALSE(acquire(cache, "big.iso"));
  // Bytes: 1000 + 1000 + 3500 > 4000, so both others go; one a transfer still holds stays readable.
  write("4.iso", std::string(3500, '4'));
  EXPECT_TRUE(map(cache, "4.iso"));
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.mapped_bytes(), 3500u);
  EXPECT_EQ(bytes_of(*one), std::string(1000, '1'));
}

TEST_F(FileMappingCache, FilesFetchedOncePushOutOnlyEachOtherNeverAMapping) {
  write("popular.iso", std::string(1000, 'p'));
  for (int i = 0; i < 10; ++i) write("once" + std::to_string(i), std::string(1000, 'o'));
  mpserve::file_mapping_cache cache(2, 1 << 20, 4);  // remembers 4 files seen once
  auto popular = map(cache, "popular.iso");
  ASSERT_TRUE(popular);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(acquire(cache, "once" + std::to_string(i)));  // a crawler
  EXPECT_EQ(acquire(cache, "popular.iso"), popular);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_TRUE(acquire(cache, "once9")) << "the last 4 seen are remembered";
  EXPECT_FALSE(acquire(cache, "once0")) << "the first seen were forgotten";
}

TEST_F(FileMappingCache, DeletedFilesAreDroppedAndOthersStay) {
  write("gone.iso", std::string(1000, 'g'));
  write("kept.iso", std::string(1000, 'k'));
  mpserve::file_mapping_cache cache(4, 1 << 20);
  std::weak_ptr<const mpserve::file_mapping> gone = map(cache, "gone.iso");
  ASSERT_FALSE(gone.expired());
  map(cache, "kept.iso");
  write("seen.iso", std::string(1000, 's'));
  acquire(cache, "seen.iso");
  fs::remove(root_path_ / "seen.iso");  // only seen: holds nothing, stays
  EXPECT_EQ(cache.drop_removed(), 0u);
  fs::remove(root_path_ / "gone.iso");
  EXPECT_EQ(cache.drop_removed(), 1u);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.mapped_bytes(), 1000u);
  EXPECT_TRUE(gone.expired()) << "nothing else held it: it is unmapped";
}

TEST_F(FileMappingCache, EmptyFilesDirectoriesAndAClosedCacheGetNone) {
  write("empty", "");
  write("dir/x", "x");
  write("a.iso", std::string(1000, 'a'));
  mpserve::file_mapping_cache cache(4, 1 << 20);
  for (int request = 0; request < 2; ++request) {
    EXPECT_FALSE(acquire(cache, "empty"));
    EXPECT_FALSE(acquire(cache, "dir"));
  }
  mpserve::file_mapping_cache off(0, 0);
  EXPECT_FALSE(acquire(off, "a.iso"));
  EXPECT_FALSE(acquire(off, "a.iso"));
  EXPECT_EQ(cache.entries(), 0u);
}

TEST_F(FileMappingCache, AFailedMappingIsAnErrorOnceThenRemembered) {
  write("a.iso", std::string(1000, 'a'));
  mpserve::file_mapping_cache cache(4, 1 << 20);
  // Write-only: mmap needs a descriptor open for reading.
  const int fd = ::open((root_path_ / "a.iso").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct stat info {};
  ASSERT_EQ(::fstat(fd, &info), 0);
  std::error_code ec;
  EXPECT_FALSE(cache.acquire(fd, info, ec));  // seen
  EXPECT_FALSE(ec);
  EXPECT_FALSE(cache.acquire(fd, info, ec));
  EXPECT_EQ(ec, std::errc::permission_denied) << ec.message();
  EXPECT_EQ(cache.mapped_bytes(), 0u);
  // Remembered: not tried again (no error, no second warning in the log), the body is copied.
  std::error_code again;
  EXPECT_FALSE(cache.acquire(fd, info, again));
  EXPECT_FALSE(again) << again.message();
  ::close(fd);
}

}  // namespace
