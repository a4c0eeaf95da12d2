#include "url_target.hpp"
#include "parsed_url.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <string_view>

namespace {

using mpfetch::output_name_for;
using mpfetch::parse_url;
using mpfetch::unused_name;
using mpfetch::url_target;

url_target parsed(std::string_view text) { return mpfetch::test::parsed_url(text); }

std::string parse_error(std::string_view text) {
  auto result = parse_url(text);
  if (auto* error = std::get_if<std::string>(&result)) return *error;
  ADD_FAILURE() << "parse_url(\"" << text << "\") succeeded with target "
                << std::get<url_target>(result).target;
  return {};
}

// --- parse_url -------------------------------------------------------------------------------

TEST(ParseUrl, HttpWithoutPortDefaultsTo80) {
  const auto url = parsed("http://example.org/files/big.iso");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.host, "example.org");
  EXPECT_EQ(url.port, "80");
  EXPECT_EQ(url.host_header, "example.org");
  EXPECT_EQ(url.target, "/files/big.iso");
  EXPECT_EQ(url.path, "/files/big.iso");
}

TEST(ParseUrl, ExplicitPortGoesToPortAndHostHeader) {
  const auto url = parsed("http://192.0.2.1:8080/x");
  EXPECT_EQ(url.host, "192.0.2.1");
  EXPECT_EQ(url.port, "8080");
  EXPECT_EQ(url.host_header, "192.0.2.1:8080");
  EXPECT_EQ(url.target, "/x");
}

TEST(ParseUrl, Ipv6LiteralIsBareForTheResolverAndBracketedInHostHeader) {
  const auto with_port = parsed("http://[::1]:8000/file");
  EXPECT_EQ(with_port.host, "::1");
  EXPECT_EQ(with_port.port, "8000");
  EXPECT_EQ(with_port.host_header, "[::1]:8000");

  const auto without_port = parsed("http://[2001:db8::10]/");
  EXPECT_EQ(without_port.host, "2001:db8::10");
  EXPECT_EQ(without_port.port, "80");
  EXPECT_EQ(without_port.host_header, "[2001:db8::10]");
}

TEST(ParseUrl, TargetKeepsQueryAndEncodingButDropsFragment) {
  const auto url = parsed("http://example.org/a%20b/c.txt?x=1&y=%2F#section");
  EXPECT_EQ(url.target, "/a%20b/c.txt?x=1&y=%2F");
  EXPECT_EQ(url.path, "/a b/c.txt");
}

TEST(ParseUrl, EmptyPathBecomesSlash) {
  EXPECT_EQ(parsed("http://example.org").target, "/");
  EXPECT_EQ(parsed("http://example.org:81").target, "/");
  EXPECT_EQ(parsed("http://example.org/").target, "/");
  EXPECT_EQ(parsed("http://example.org?q=1").target, "/?q=1");
  EXPECT_EQ(parsed("http://example.org#top").target, "/");
}

TEST(ParseUrl, SchemeIsCaseInsensitive) {
  const auto url = parsed("HTTP://example.org/");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.port, "80");
}

TEST(ParseUrl, HttpsWithoutPortDefaultsTo443) {
  const auto url = parsed("https://example.org/file");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.port, "443");
  EXPECT_EQ(url.host_header, "example.org");
  EXPECT_EQ(url.target, "/file");
  EXPECT_EQ(parsed("HTTPS://example.org/file").scheme, "https");
}

TEST(ParseUrl, HttpsWithExplicitPortKeepsIt) {
  const auto url = parsed("https://[2001:db8::1]:8443/x");
  EXPECT_EQ(url.port, "8443");
  EXPECT_EQ(url.host_header, "[2001:db8::1]:8443");
  EXPECT_EQ(parsed("https://example.org:80/").port, "80");
}

// --- url_text --------------------------------------------------------------------------------

TEST(UrlText, RebuildsTheUrlWithoutFragment) {
  EXPECT_EQ(mpfetch::url_text(parsed("http://example.org")), "http://example.org/");
  EXPECT_EQ(mpfetch::url_text(parsed("HTTPS://[::1]:8443/a%20b?q=1#frag")),
            "https://[::1]:8443/a%20b?q=1");
}

TEST(UrlText, ParsesBackToTheSameTarget) {
  for (std::string_view text : {"http://example.org/a/b?c=d", "https://192.0.2.1:444/%2F",
                                "http://[2001:db8::10]/", "https://example.org/~user/x;p"}) {
    const auto first = parsed(text);
    const auto again = parsed(mpfetch::url_text(first));
    EXPECT_EQ(again.scheme, first.scheme) << text;
    EXPECT_EQ(again.host, first.host) << text;
    EXPECT_EQ(again.port, first.port) << text;
    EXPECT_EQ(again.host_header, first.host_header) << text;
    EXPECT_EQ(again.target, first.target) << text;
  }
}

TEST(ParseUrl, OtherSchemesAreNamedInTheError) {
  EXPECT_EQ(parse_error("ftp://example.org/file"),
            "unsupported scheme 'ftp' in ftp://example.org/file");
  EXPECT_EQ(parse_error("file:///etc/passwd"), "unsupported scheme 'file' in file:///etc/passwd");
}

TEST(ParseUrl, GarbageIsAnInvalidUrl) {
  for (std::string_view text :
       {"", "not a url", "example.org/file", "http://exa mple.org/", "http://[::1/", "://x/",
        "http://example.org/%zz"}) {
    const auto error = parse_error(text);
    EXPECT_EQ(error.rfind("invalid URL '" + std::string(text) + "'", 0), 0u)
        << text << " -> " << error;
  }
}

TEST(ParseUrl, MissingHostIsRefused) {
  EXPECT_EQ(parse_error("http:///file"), "no host in URL 'http:///file'");
  EXPECT_EQ(parse_error("http:/file"), "no host in URL 'http:/file'");
  EXPECT_EQ(parse_error("http:file"), "no host in URL 'http:file'");
}

TEST(ParseUrl, UserinfoIsRefused) {
  EXPECT_EQ(parse_error("http://user:secret@example.org/"),
            "user names and passwords in URLs are not supported");
  EXPECT_EQ(parse_error("http://user@example.org/"),
            "user names and passwords in URLs are not supported");
}

TEST(ParseUrl, BadPortsAreRefused) {
  for (std::string_view text : {"http://example.org:0/", "http://example.org:/",
                                "http://example.org:65536/", "http://example.org:99999999999/"}) {
    EXPECT_EQ(parse_error(text), "invalid port in URL '" + std::string(text) + "'");
  }
  EXPECT_EQ(parsed("http://example.org:65535/").port, "65535");
  EXPECT_EQ(parsed("http://example.org:1/").port, "1");
}

// --- output_name_for -------------------------------------------------------------------------

struct name_case {
  std::string_view url;
  std::string_view name;
};

void PrintTo(const name_case& c, std::ostream* os) { *os << '"' << c.url << '"'; }

class OutputNameFor : public testing::TestWithParam<name_case> {};

TEST_P(OutputNameFor, IsTheLastSegmentLikeWget) {
  EXPECT_EQ(output_name_for(parsed(GetParam().url)), GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(
    LastSegment, OutputNameFor,
    testing::Values(name_case{"http://example.org/big.iso", "big.iso"},
                    name_case{"http://example.org/a/b/c.tar.gz", "c.tar.gz"},
                    name_case{"http://example.org/a/b/c.tar.gz?mirror=2", "c.tar.gz"},
                    name_case{"http://example.org/file#part", "file"},
                    name_case{"http://example.org/.profile", ".profile"},
                    name_case{"http://[::1]:8000/dir/f", "f"}));

INSTANTIATE_TEST_SUITE_P(
    PercentDecoded, OutputNameFor,
    testing::Values(name_case{"http://example.org/my%20file.txt", "my file.txt"},
                    name_case{"http://example.org/%E2%82%AC.txt", "\xe2\x82\xac.txt"},
                    name_case{"http://example.org/dir%2Fname/x%41", "xA"},
                    name_case{"http://example.org/100%25", "100%"}));

INSTANTIATE_TEST_SUITE_P(
    IndexHtmlWhenNoName, OutputNameFor,
    testing::Values(name_case{"http://example.org", "index.html"},
                    name_case{"http://example.org/", "index.html"},
                    name_case{"http://example.org/dir/", "index.html"},
                    name_case{"http://example.org/?q=1", "index.html"},
                    name_case{"http://example.org/dir/.", "index.html"},
                    name_case{"http://example.org/dir/..", "index.html"},
                    name_case{"http://example.org/%2e%2e", "index.html"},
                    name_case{"http://example.org/%2E", "index.html"}));

// A decoded segment must never reach outside the current directory or hold a NUL.
INSTANTIATE_TEST_SUITE_P(
    UnsafeBytesReplaced, OutputNameFor,
    testing::Values(name_case{"http://example.org/a%2Fb", "a_b"},
                    name_case{"http://example.org/..%2F..%2Fetc%2Fpasswd", ".._.._etc_passwd"},
                    name_case{"http://example.org/%2F", "_"},
                    name_case{"http://example.org/a%00b", "a_b"},
                    name_case{"http://example.org/a%5Cb", "a_b"}));

// --- unused_name -----------------------------------------------------------------------------

class UnusedName : public testing::Test {
protected:
  void SetUp() override {
    std::random_device random;
    directory_ = std::filesystem::temp_directory_path() /
                 ("url_target_test." + std::to_string(random()) + std::to_string(random()));
    ASSERT_TRUE(std::filesystem::create_directory(directory_));
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(directory_, ec);
  }

  void touch(const std::string& name) { std::ofstream(directory_ / name) << "x"; }

  std::string pick(const std::string& name) const {
    const auto exists = [this](const std::string& candidate) {
      return std::filesystem::exists(directory_ / candidate);
    };
    return unused_name(name, exists);
  }

  std::filesystem::path directory_;
};

TEST_F(UnusedName, FreeNameIsKept) { EXPECT_EQ(pick("big.iso"), "big.iso"); }

TEST_F(UnusedName, TakenNameGetsDotOne) {
  touch("big.iso");
  EXPECT_EQ(pick("big.iso"), "big.iso.1");  // appended after the extension, as wget does
}

TEST_F(UnusedName, CountsUpToTheFirstFreeNumber) {
  touch("index.html");
  touch("index.html.1");
  touch("index.html.2");
  EXPECT_EQ(pick("index.html"), "index.html.3");
}

TEST_F(UnusedName, GapsAreFilledFirst) {
  touch("f");
  touch("f.2");
  EXPECT_EQ(pick("f"), "f.1");
}

TEST_F(UnusedName, NumberedNamesAloneDoNotMatter) {
  touch("f.1");
  EXPECT_EQ(pick("f"), "f");
}

TEST_F(UnusedName, DirectoryWithTheNameCountsAsTaken) {
  std::filesystem::create_directory(directory_ / "data");
  EXPECT_EQ(pick("data"), "data.1");
}

TEST(UnusedNamePure, AsksInOrderAndStopsAtTheFirstFree) {
  std::vector<std::string> asked;
  const std::set<std::string> taken{"n", "n.1", "n.2", "n.3", "n.4", "n.5", "n.6", "n.7",
                                    "n.8", "n.9", "n.10"};
  const auto result = unused_name("n", [&](const std::string& candidate) {
    asked.push_back(candidate);
    return taken.count(candidate) > 0;
  });
  EXPECT_EQ(result, "n.11");
  ASSERT_EQ(asked.size(), 12u);
  EXPECT_EQ(asked.front(), "n");
  EXPECT_EQ(asked[1], "n.1");
  EXPECT_EQ(asked.back(), "n.11");
}

}  // namespace
