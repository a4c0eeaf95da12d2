// plan_static_response against a real directory: which status, headers and body pieces each
// request gets, without any socket.
#include "static_responder.hpp"

#include "served_directory_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using mpserve::request_view;

class StaticResponder : public ServedDirectoryTest {
protected:
  void SetUp() override {
    ServedDirectoryTest::SetUp();
    write("hello.txt", "hello, world\n");
    write("dir/index.html", "<p>index</p>");
    write("plain/a.txt", "a");
    write("disk.iso", std::string(1000, 'i'));
    fs::create_symlink("/etc/hostname", root_path_ / "outside");
    ::mkfifo((root_path_ / "fifo").c_str(), 0600);
  }

  mpserve::response_plan get(std::string_view target, std::string_view range = {}, bool head = false) {
    request_view request;
    request.target = target;
    request.range = range;
    request.head = head;
    return mpserve::plan_static_response(request, root_.get(), config_);
  }

  static std::string header(const mpserve::response_plan& plan, http::field name) {
    const auto it = plan.header.find(name);
    return it == plan.header.end() ? std::string("<none>") : std::string(it->value());
  }

  static std::uint64_t body_size(const mpserve::response_plan& plan) {
    return std::accumulate(plan.body.begin(), plan.body.end(), std::uint64_t{0},
                           [](std::uint64_t sum, const auto& piece) { return sum + piece.bytes.size() + piece.length; });
  }

  mpserve::server_config config_;
};

TEST_F(StaticResponder, AFileIsOneFileRangeWithItsHeaders) {
  auto plan = get("/hello.txt");
  EXPECT_EQ(plan.header.result(), http::status::ok);
  EXPECT_EQ(header(plan, http::field::content_type), "text/plain");
  EXPECT_EQ(header(plan, http::field::content_length), "13");
  EXPECT_EQ(header(plan, http::field::accept_ranges), "bytes");
  EXPECT_NE(header(plan, http::field::etag), "<none>");
  ASSERT_EQ(plan.body.size(), 1u);
  EXPECT_EQ(plan.body[0].offset, 0u);
  EXPECT_EQ(plan.body[0].length, 13u);
  EXPECT_EQ(plan.file_bytes, 13u);
  EXPECT_TRUE(plan.file.fd);
}

TEST_F(StaticResponder, HeadHasTheLengthButNoBody) {
  auto plan = get("/hello.txt", {}, true);
  EXPECT_EQ(header(plan, http::field::content_length), "13");
  EXPECT_TRUE(plan.body.empty());
  EXPECT_EQ(plan.file_bytes, 0u);
}

TEST_F(StaticResponder, DirectoriesRedirectServeTheirIndexOrAListing) {
  auto redirect = get("/dir?x=1");
  EXPECT_EQ(redirect.header.result(), http::status::moved_permanently);
  EXPECT_EQ(header(redirect, http::field::location), "/dir/?x=1");
  auto index = get("/dir/");
  EXPECT_EQ(index.header.result(), http::status::ok);
  EXPECT_EQ(header(index, http::field::content_type), "text/html");
  EXPECT_EQ(index.file_bytes, 12u);
  auto listing = get("/plain/");
  EXPECT_EQ(listing.header.result(), http::status::ok);
  EXPECT_EQ(header(listing, http::field::content_type), "text/html; charset=utf-8");
  ASSERT_EQ(listing.body.size(), 1u);
  EXPECT_NE(listing.body[0].bytes.find("a.txt"), std::string::npos);
  EXPECT_EQ(std::to_string(body_size(listing)), header(listing, http::field::content_length));
}

TEST_F(StaticResponder, RefusalsAndAbsences) {
  EXPECT_EQ(get("/missing").header.result(), http::status::not_found);
  EXPECT_EQ(get("/hello.txt/").header.result(), http::status::not_found);
  EXPECT_EQ(get("/outside").header.result(), http::status::forbidden);
  EXPECT_EQ(get("/fifo").header.result(), http::status::forbidden);
  EXPECT_EQ(get("/%2e%2e/etc/passwd").header.result(), http::status::forbidden);
  EXPECT_EQ(get("relative").header.result(), http::status::bad_request);
  config_.follow_symlinks = true;
  EXPECT_EQ(get("/outside").header.result(), http::status::ok);
}

// A directory name cannot split the response: the redirect's Location is built from the
// decoded name, percent-encoded again, so CR and LF never reach a header.
TEST_F(StaticResponder, NamesCannotSplitTheResponseThroughARedirect) {
  fs::create_directories(root_path_ / "evil\r\nSet-Cookie: x=1");
  auto plan = get("/evil%0D%0ASet-Cookie:%20x=1?q=%0D");
  EXPECT_EQ(plan.header.result(), http::status::moved_permanently);
  EXPECT_EQ(header(plan, http::field::location), "/evil%0D%0ASet-Cookie%3A%20x%3D1/?q=%0D");
  for (const auto& field : plan.header) {
    const auto value = field.value();
    EXPECT_EQ(value.find_first_of("\r\n"), std::string_view::npos) << field.name_string();
  }
}

TEST_F(StaticResponder, RangesBecomeFileRangesAndMultipartPieces) {
  auto single = get("/disk.iso", "bytes=10-19");
  EXPECT_EQ(single.header.result(), http::status::partial_content);
  EXPECT_EQ(header(single, http::field::content_range), "bytes 10-19/1000");
  EXPECT_EQ(header(single, http::field::content_type), "application/x-iso9660-image");
  ASSERT_EQ(single.body.size(), 1u);
  EXPECT_EQ(single.body[0].offset, 10u);
  EXPECT_EQ(single.body[0].length, 10u);

  auto multi = get("/disk.iso", "bytes=0-0,-10");
  EXPECT_EQ(multi.header.result(), http::status::partial_content);
  EXPECT_EQ(std::to_string(body_size(multi)), header(multi, http::field::content_length));
  EXPECT_EQ(multi.file_bytes, 11u);
  ASSERT_EQ(multi.body.size(), 3u);  // two parts and the closing boundary
  EXPECT_EQ(multi.body[1].offset, 990u);

  auto refused = get("/disk.iso", "bytes=5000-");
  EXPECT_EQ(refused.header.result(), http::status::range_not_satisfiable);
  EXPECT_EQ(header(refused, http::field::content_range), "bytes */1000");
  EXPECT_EQ(refused.file_bytes, 0u);
}

TEST_F(StaticResponder, ConditionalsGiveNotModifiedWithoutBody) {
  const auto etag = header(get("/hello.txt"), http::field::etag);
  request_view request;
  request.target = "/hello.txt";
  request.if_none_match = etag;
  auto plan = mpserve::plan_static_response(request, root_.get(), config_);
  EXPECT_EQ(plan.header.result(), http::status::not_modified);
  EXPECT_TRUE(plan.body.empty());
  EXPECT_EQ(header(plan, http::field::etag), etag);
  request.if_none_match = {};
  request.if_match = "\"something else\"";
  EXPECT_EQ(mpserve::plan_static_response(request, root_.get(), config_).header.result(),
            http::status::precondition_failed);
}

TEST_F(StaticResponder, ErrorPagesAreHtmlWithTheirLengthAndNoBodyForHead) {
  auto plan = mpserve::plan_error(http::status::method_not_allowed, 11, false);
  EXPECT_EQ(header(plan, http::field::allow), "GET, HEAD");
  EXPECT_EQ(std::to_string(body_size(plan)), header(plan, http::field::content_length));
  auto head = mpserve::plan_error(http::status::not_found, 11, true);
  EXPECT_TRUE(head.body.empty());
  EXPECT_NE(header(head, http::field::content_length), "0");
}

}  // namespace
