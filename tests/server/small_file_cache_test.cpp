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
  // What the responder does on a miss: stat and read the file, offer it to the cache.
  bool store(mpserve::small_file_cache& cache, const std::string& name) {
    struct stat info {};
    if (::stat((root_path_ / name).c_str(), &info) != 0) return false;
    std::ifstream in(root_path_ / name, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return cache.store(name, info, std::move(content));
  }

  std::string found(mpserve::small_file_cache& cache, const std::string& name) {
    const auto* hit = cache.find(root_.get(), name);
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

TEST_F(SmallFileCache, AFileWrittenInPlaceIsReadAgain) {
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
  write("../outside-" + root_path_.filename().string(), "alpha");
  for (const char* name : {"renamed.txt", "deleted.txt", "retyped", "linked.txt"}) ASSERT_TRUE(store(cache, name)) << name;

  write("new.txt", "omega");
  fs::rename(root_path_ / "new.txt", root_path_ / "renamed.txt");  // a new inode of the same size
  fs::remove(root_path_ / "deleted.txt");
  fs::remove(root_path_ / "retyped");
  fs::create_directory(root_path_ / "retyped");
  fs::remove(root_path_ / "linked.txt");
  const auto outside = root_path_.parent_path() / ("outside-" + root_path_.filename().string());
  fs::create_symlink(outside, root_path_ / "linked.txt");  // same bytes, but another file

  for (const char* name : {"renamed.txt", "deleted.txt", "retyped", "linked.txt"})
    EXPECT_EQ(found(cache, name), "<miss>") << name;
  fs::remove(outside);
}

TEST_F(SmallFileCache, RecentlyChangedLargeOrShortReadFilesAreNotKept) {
  mpserve::small_file_cache settled_only(16, 1024);  // the default: changed in the last second
  write("fresh.txt", "alpha");
  EXPECT_FALSE(store(settled_only, "fresh.txt"));
  EXPECT_EQ(found(settled_only, "fresh.txt"), "<miss>");

  mpserve::small_file_cache cache(16, 4, 0ms);
  write("large.txt", "alpha");  // 5 bytes, limit 4
  EXPECT_FALSE(store(cache, "large.txt"));
  struct stat info {};
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
  mpserve::small_file_cache cache(16, 1024);  // the default settle time: the file must be 1 s old
  write("page.html", "<p>one</p>");
  write("dir/index.html", "<p>index</p>");
  std::this_thread::sleep_for(1100ms);

  auto get = [&](std::string_view target, std::string_view range = {}, std::string_view if_none_match = {}) {
    mpserve::request_view request;
    request.target = target;
    request.range = range;
    request.if_none_match = if_none_match;
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

  write("page.html", "<p>two</p>");
  auto changed = get("/page.html");
  EXPECT_EQ(body(changed), "<p>two</p>");
  EXPECT_NE(changed.header[http::field::etag], etag);
  EXPECT_EQ(get("/page.html", {}, etag).header.result(), http::status::ok);
  fs::remove(root_path_ / "page.html");
  EXPECT_EQ(get("/page.html").header.result(), http::status::not_found);
}

}  // namespace
