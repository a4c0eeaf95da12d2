// small_file_cache against a real directory: an entry is used only while its path still names
// the unchanged file, whatever happens to it on disk.
#include "small_file_cache.hpp"
#include "served_file.hpp"
#include "static_responder.hpp"

#include "served_directory_fixture.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

class SmallFileCache : public ServedDirectoryTest {
protected:
  void TearDown() override {
    fs::remove_all(outside());
    ServedDirectoryTest::TearDown();
  }
  // A directory beside the served one, for symlinks that leave the root.
  fs::path outside() const { return root_path_.parent_path() / ("outside-" + root_path_.filename().string()); }

  // What the responder does on a miss: stat and read the file, offer it to the cache.
  bool store(mpserve::small_file_cache& cache, const std::string& name) {
    struct stat info {};
    if (::stat((root_path_ / name).c_str(), &info) != 0) return false;
    std::ifstream in(root_path_ / name, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return cache.store(name, info, std::move(content));
  }

  std::string found(mpserve::small_file_cache& cache, const std::string& name, bool follow_symlinks = false) {
    const auto* hit = cache.find(root_.get(), name, follow_symlinks);
    return hit ? hit->content : std::string("<miss>");
  }

  // Past the kernel's timestamp tick (at most 10 ms at HZ=100), so a change moves ctime.
  static void next_tick() { std::this_thread::sleep_for(25ms); }
};

TEST_F(SmallFileCache, AnUnchangedFileIsFoundAgain) {
  mpserve::small_file_cache cache(16, 1024, 0ms);
  write("a.txt", "alpha");
  EXPECT_EQ(found(cache, "a.txt"), "<miss>");
  ASSERT_TRUE(store(cache, "a.txt"));
  EXPECT_EQ(found(cache, "a.txt"), "alpha");
  EXPECT_EQ(found(cache, "a.txt"), "alpha");
  EXPECT_EQ(found(cache, "b.txt"), "<miss>");
}

TEST_F(SmallFileCache, AFileWrittenInPlaceMisses) {
  mpserve::small_file_cache cache(16, 1024, 0ms);
  write("a.txt", "alpha");
  ASSERT_TRUE(store(cache, "a.txt"));
  next_tick();
  write("a.txt", "omega");  // same size, same inode: only mtime and ctime tell
  EXPECT_EQ(found(cache, "a.txt"), "<miss>");
  EXPECT_EQ(found(cache, "a.txt"), "<miss>");  // the stale entry is gone, not just skipped
}

TEST_F(SmallFileCache, ReplacedDeletedOrRetypedFilesMiss) {
  mpserve::small_file_cache cache(16, 1024, 0ms);
  write("renamed.txt", "alpha");
  write("deleted.txt", "alpha");
  write("retyped", "alpha");
  write("linked.txt", "alpha");
  fs::create_directories(outside());
  std::ofstream(outside() / "linked.txt") << "alpha";
  for (const char* name : {"renamed.txt", "deleted.txt", "retyped", "linked.txt"}) ASSERT_TRUE(store(cache, name)) << name;

  write("new.txt", "omega");
  fs::rename(root_path_ / "new.txt", root_path_ / "renamed.txt");  // a new inode of the same size
  fs::remove(root_path_ / "deleted.txt");
  fs::remove(root_path_ / "retyped");
  fs::create_directory(root_path_ / "retyped");
  fs::remove(root_path_ / "linked.txt");
  fs::create_symlink(outside() / "linked.txt", root_path_ / "linked.txt");  // same bytes, another file

  for (const char* name : {"renamed.txt", "deleted.txt", "retyped", "linked.txt"})
    EXPECT_EQ(found(cache, name), "<miss>") << name;
}

// The very file that was read, but now reached through a link the normal open refuses: the
// path is resolved by the same rules, so the cache refuses it too.
TEST_F(SmallFileCache, TheSameFileThroughAForbiddenLinkMisses) {
  mpserve::small_file_cache cache(16, 1024, 0ms);
  write("dir/a.txt", "alpha");
  ASSERT_TRUE(store(cache, "dir/a.txt"));
  // Moving a directory leaves its files' ctime alone; an absolute symlink (even one that leads
  // back inside) is refused by RESOLVE_BENEATH.
  fs::rename(root_path_ / "dir", root_path_ / "dir2");
  fs::create_symlink(root_path_ / "dir2", root_path_ / "dir");
  EXPECT_EQ(found(cache, "dir/a.txt"), "<miss>");

  write("b.txt", "bravo");
  ASSERT_TRUE(store(cache, "b.txt"));
  fs::create_directories(outside());
  fs::rename(root_path_ / "b.txt", outside() / "b.txt");  // the same inode, now outside the root
  fs::create_symlink(outside() / "b.txt", root_path_ / "b.txt");
  EXPECT_EQ(found(cache, "b.txt"), "<miss>");
}

// Two servers in one process, one following symlinks: an entry one of them made through a
// link is not used by the other, which may not follow it.
TEST_F(SmallFileCache, EntriesAreUsedOnlyUnderTheCallersSymlinkRule) {
  mpserve::small_file_cache cache(16, 1024, 0ms);
  fs::create_directories(outside());
  std::ofstream(outside() / "c.txt") << "charlie";
  fs::create_directories(root_path_ / "sub");
  fs::create_symlink(outside() / "c.txt", root_path_ / "sub" / "c.txt");
  ASSERT_TRUE(store(cache, "sub/c.txt"));
  EXPECT_EQ(found(cache, "sub/c.txt", true), "charlie");
  EXPECT_EQ(found(cache, "sub/c.txt", false), "<miss>");
  // Directly in the root, a symlink is never a hit (its type is not the entry's): correct,
  // merely uncached.
  fs::create_symlink(outside() / "c.txt", root_path_ / "c.txt");
  ASSERT_TRUE(store(cache, "c.txt"));
  EXPECT_EQ(found(cache, "c.txt", true), "<miss>");
}

TEST_F(SmallFileCache, RecentlyChangedLargeOrShortReadFilesAreNotKept) {
  write("fresh.txt", "alpha");
  struct stat info {};
  ASSERT_EQ(::stat((root_path_ / "fresh.txt").c_str(), &info), 0);
  const std::chrono::system_clock::time_point changed{std::chrono::seconds(info.st_ctim.tv_sec) +
                                                      std::chrono::nanoseconds(info.st_ctim.tv_nsec)};
  mpserve::small_file_cache settled_only(16, 1024);  // the default: unchanged for 2 s
  EXPECT_FALSE(settled_only.store("fresh.txt", info, "alpha"));  // now
  EXPECT_FALSE(settled_only.store("fresh.txt", info, "alpha", changed + 1999ms));
  EXPECT_FALSE(settled_only.store("fresh.txt", info, "alpha", changed - 10s));  // clock stepped back
  EXPECT_EQ(found(settled_only, "fresh.txt"), "<miss>");
  EXPECT_TRUE(settled_only.store("fresh.txt", info, "alpha", changed + 2s));
  EXPECT_EQ(found(settled_only, "fresh.txt"), "alpha");

  mpserve::small_file_cache cache(16, 4, 0ms);
  write("large.txt", "alpha");  // 5 bytes, limit 4
  EXPECT_FALSE(store(cache, "large.txt"));
  ASSERT_EQ(::stat((root_path_ / "large.txt").c_str(), &info), 0);
  mpserve::small_file_cache roomy(16, 1024, 0ms);
  EXPECT_FALSE(roomy.store("large.txt", info, "alp"));  // fewer bytes than the file has
  EXPECT_FALSE(roomy.store("", info, "alpha"));
}

TEST_F(SmallFileCache, OneSlotHoldsTheLatestPathOnly) {
  mpserve::small_file_cache cache(1, 1024, 0ms);
  write("a.txt", "alpha");
  write("b.txt", "beta");
  ASSERT_TRUE(store(cache, "a.txt"));
  ASSERT_TRUE(store(cache, "b.txt"));
  EXPECT_EQ(found(cache, "a.txt"), "<miss>");
  EXPECT_EQ(found(cache, "b.txt"), "beta");
}

// The responder with a cache: small bodies come from memory, the descriptor is closed at
// once, and a file that changes is served as it is now, with its new validators.
TEST_F(SmallFileCache, TheResponderServesSmallFilesFromMemoryAndSeesChanges) {
  mpserve::server_config config;
  mpserve::small_file_cache cache(16, 1024, 0ms);
  write("page.html", "<p>one</p>");
  write("dir/index.html", "<p>index</p>");

  auto get = [&](std::string_view target, std::string_view range = {}, std::string_view if_none_match = {},
                 bool head = false) {
    mpserve::request_view request;
    request.target = target;
    request.range = range;
    request.if_none_match = if_none_match;
    request.head = head;
    return mpserve::plan_static_response(request, root_.get(), config, &cache);
  };
  auto body = [](const mpserve::response_plan& plan) {
    std::string out;
    for (const auto& piece : plan.body) {
      EXPECT_EQ(piece.length, 0u) << "a file range left in a plan served from memory";
      out += piece.bytes;
    }
    return out;
  };

  for (int round = 0; round < 2; ++round) {  // first a miss that fills, then a hit
    auto plan = get("/page.html");
    EXPECT_EQ(plan.header.result(), http::status::ok);
    EXPECT_EQ(body(plan), "<p>one</p>");
    EXPECT_EQ(plan.header[http::field::content_length], "10");
    EXPECT_FALSE(plan.file.fd) << "round " << round;
    auto index = get("/dir/");
    EXPECT_EQ(body(index), "<p>index</p>");
    EXPECT_EQ(index.detail, "index.html");
  }
  EXPECT_NE(found(cache, "page.html"), "<miss>");
  EXPECT_NE(found(cache, "dir/index.html"), "<miss>");

  auto range = get("/page.html", "bytes=3-5");
  EXPECT_EQ(range.header.result(), http::status::partial_content);
  EXPECT_EQ(body(range), "one");
  const std::string etag(get("/page.html").header[http::field::etag]);
  EXPECT_EQ(get("/page.html", {}, etag).header.result(), http::status::not_modified);
  EXPECT_EQ(get("/dir").header.result(), http::status::moved_permanently);
  EXPECT_EQ(get("/page.html/").header.result(), http::status::not_found);
  auto head = get("/page.html", {}, {}, true);
  EXPECT_EQ(head.header[http::field::content_length], "10");
  EXPECT_TRUE(head.body.empty());
  auto multipart = get("/page.html", "bytes=0-2,7-9");
  EXPECT_EQ(multipart.header.result(), http::status::partial_content);
  const std::string parts = body(multipart);
  EXPECT_EQ(std::to_string(parts.size()), multipart.header[http::field::content_length]);
  const auto first = parts.find("\r\n\r\n<p>"), second = parts.find("\r\n\r\n/p>");
  EXPECT_TRUE(first != std::string::npos && second != std::string::npos && first < second) << parts;
  EXPECT_EQ(get("/page.html", "bytes=50-").header.result(), http::status::range_not_satisfiable);

  next_tick();
  write("page.html", "<p>two</p>");
  auto changed = get("/page.html");
  EXPECT_EQ(body(changed), "<p>two</p>");
  EXPECT_NE(changed.header[http::field::etag], etag);
  EXPECT_EQ(get("/page.html", {}, etag).header.result(), http::status::ok);
  fs::remove(root_path_ / "page.html");
  EXPECT_EQ(get("/page.html").header.result(), http::status::not_found);
}

}  // namespace
