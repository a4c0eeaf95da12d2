#include "redirects.hpp"
#include "parsed_url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using mpfetch::is_downgrade;
using mpfetch::is_redirect_status;
using mpfetch::redirect_tracker;
using mpfetch::resolve_redirect;
using mpfetch::url_target;

url_target url(std::string_view text) { return mpfetch::test::parsed_url(text); }

// The resolved URL as text, or "error: ..." so a table can hold both.
std::string resolved(std::string_view base, std::string_view location) {
  auto result = resolve_redirect(url(base), location);
  if (auto* error = std::get_if<std::string>(&result)) return "error: " + *error;
  return mpfetch::url_text(std::get<url_target>(result));
}

// --- resolve_redirect ------------------------------------------------------------------------

struct redirect_case {
  std::string_view location;
  std::string_view expected;
};

void PrintTo(const redirect_case& c, std::ostream* os) { *os << '"' << c.location << '"'; }

class ResolveRedirect : public testing::TestWithParam<redirect_case> {};

// RFC 3986 §5.4.1's base, over http so every result is fetchable.
TEST_P(ResolveRedirect, FollowsRfc3986ReferenceResolution) {
  EXPECT_EQ(resolved("http://a/b/c/d;p?q", GetParam().location), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc3986NormalExamples, ResolveRedirect,
    testing::Values(redirect_case{"g", "http://a/b/c/g"}, redirect_case{"./g", "http://a/b/c/g"},
                    redirect_case{"g/", "http://a/b/c/g/"}, redirect_case{"/g", "http://a/g"},
                    redirect_case{"//g", "http://g/"}, redirect_case{"?y", "http://a/b/c/d;p?y"},
                    redirect_case{"g?y", "http://a/b/c/g?y"},
                    redirect_case{"#s", "http://a/b/c/d;p?q"},
                    redirect_case{"g#s", "http://a/b/c/g"},
                    redirect_case{"g?y#s", "http://a/b/c/g?y"},
                    redirect_case{";x", "http://a/b/c/;x"},
                    redirect_case{"", "error: redirect without a Location"},
                    redirect_case{".", "http://a/b/c/"}, redirect_case{"./", "http://a/b/c/"},
                    redirect_case{"..", "http://a/b/"}, redirect_case{"../g", "http://a/b/g"},
                    redirect_case{"../..", "http://a/"}, redirect_case{"../../g", "http://a/g"}));

INSTANTIATE_TEST_SUITE_P(Rfc3986AbnormalExamples, ResolveRedirect,
                         testing::Values(redirect_case{"../../../g", "http://a/g"},
                                         redirect_case{"../../../../g", "http://a/g"},
                                         redirect_case{"/./g", "http://a/g"},
                                         redirect_case{"/../g", "http://a/g"},
                                         redirect_case{"g.", "http://a/b/c/g."},
                                         redirect_case{".g", "http://a/b/c/.g"},
                                         redirect_case{"g..", "http://a/b/c/g.."},
                                         redirect_case{"./g/.", "http://a/b/c/g/"},
                                         redirect_case{"g/../h", "http://a/b/c/h"}));

TEST(ResolveRedirectAbsolute, AbsoluteLocationReplacesEverything) {
  EXPECT_EQ(resolved("http://example.org/old", "http://mirror.example.net:8080/new?x=1"),
            "http://mirror.example.net:8080/new?x=1");
  const auto result = std::get<url_target>(
      resolve_redirect(url("http://example.org/old"), "http://[2001:db8::2]:81/f"));
  EXPECT_EQ(result.host, "2001:db8::2");
  EXPECT_EQ(result.port, "81");
  EXPECT_EQ(result.target, "/f");
}

TEST(ResolveRedirectAbsolute, KeepsThePortOfTheBaseForRelativeReferences) {
  EXPECT_EQ(resolved("http://example.org:8000/a/b", "c"), "http://example.org:8000/a/c");
  EXPECT_EQ(resolved("http://[::1]:8000/a/b", "/c"), "http://[::1]:8000/c");
}

TEST(ResolveRedirectAbsolute, NetworkPathReferenceKeepsTheScheme) {
  const auto result =
      std::get<url_target>(resolve_redirect(url("https://example.org/"), "//cdn.example.net/f"));
  EXPECT_EQ(result.scheme, "https");
  EXPECT_EQ(result.port, "443");
  EXPECT_EQ(result.host, "cdn.example.net");
}

TEST(ResolveRedirectScheme, HttpToHttpsIsFollowedWithTheDefaultPort) {
  const auto result =
      std::get<url_target>(resolve_redirect(url("http://example.org/f"), "https://example.org/f"));
  EXPECT_EQ(result.scheme, "https");
  EXPECT_EQ(result.port, "443");
  EXPECT_FALSE(is_downgrade(url("http://example.org/f"), result));
}

TEST(ResolveRedirectScheme, HttpsToHttpIsFollowedButIsADowngrade) {
  const auto from = url("https://example.org/f");
  const auto result = std::get<url_target>(resolve_redirect(from, "http://example.org/f"));
  EXPECT_EQ(result.scheme, "http");
  EXPECT_EQ(result.port, "80");
  EXPECT_TRUE(is_downgrade(from, result));
  EXPECT_FALSE(is_downgrade(from, from));
  EXPECT_FALSE(is_downgrade(result, from));
}

TEST(ResolveRedirectScheme, SchemeIsCaseInsensitive) {
  EXPECT_EQ(resolved("http://example.org/", "HTTPS://Example.org/x"), "https://Example.org/x");
}

TEST(ResolveRedirectErrors, UnsupportedSchemesAreRefused) {
  for (std::string_view location :
       {"ftp://example.org/file", "javascript:alert(1)", "file:///etc/passwd", "data:,hello",
        "mailto:user@example.org"}) {
    const auto text = resolved("http://example.org/", location);
    EXPECT_EQ(text.rfind("error: cannot follow redirect to '" + std::string(location) +
                             "': unsupported scheme",
                         0),
              0u)
        << location << " -> " << text;
  }
}

TEST(ResolveRedirectErrors, UnparseableLocationIsAnError) {
  for (std::string_view location : {"http://[::1/", "http://example.org:99999999999/", "%zz",
                                    "http://exa%mple.org/", ":no-scheme"}) {
    const auto text = resolved("http://example.org/", location);
    EXPECT_EQ(text.rfind("error: ", 0), 0u) << location << " -> " << text;
  }
  EXPECT_EQ(resolved("http://example.org/", "%zz"), "error: invalid redirect Location '%zz'");
}

TEST(ResolveRedirectErrors, BlankLocationIsAnError) {
  EXPECT_EQ(resolved("http://example.org/", "  \t "), "error: redirect without a Location");
}

TEST(ResolveRedirectErrors, HostlessOrUserinfoTargetsAreRefusedLikeParseUrl) {
  EXPECT_EQ(resolved("http://example.org/", "http:///x").rfind("error: cannot follow", 0), 0u);
  EXPECT_EQ(resolved("http://example.org/", "http://user:pw@example.org/"),
            "error: cannot follow redirect to 'http://user:pw@example.org/': user names and "
            "passwords in URLs are not supported");
}

TEST(ResolveRedirectLeniency, SurroundingWhitespaceIsIgnored) {
  EXPECT_EQ(resolved("http://example.org/a", "  /b\t"), "http://example.org/b");
}

TEST(ResolveRedirectLeniency, RawSpacesAndNonAsciiArePercentEncoded) {
  EXPECT_EQ(resolved("http://example.org/", "/my file.txt"), "http://example.org/my%20file.txt");
  EXPECT_EQ(resolved("http://example.org/", "/\xe2\x82\xac"), "http://example.org/%E2%82%AC");
  EXPECT_EQ(resolved("http://example.org/", "/a|b{c}"), "http://example.org/a%7Cb%7Bc%7D");
}

TEST(ResolveRedirectLeniency, ExistingPercentEncodingIsKept) {
  EXPECT_EQ(resolved("http://example.org/", "/a%20b%2Fc"), "http://example.org/a%20b%2Fc");
}

// --- is_redirect_status ----------------------------------------------------------------------

TEST(IsRedirectStatus, OnlyTheFiveRedirectsWithALocation) {
  for (int status : {301, 302, 303, 307, 308}) EXPECT_TRUE(is_redirect_status(status)) << status;
  for (int status : {200, 204, 206, 300, 304, 305, 306, 309, 399, 404, 500})
    EXPECT_FALSE(is_redirect_status(status)) << status;
}

// --- redirect_tracker ------------------------------------------------------------------------

TEST(RedirectTracker, AllowsExactlyTheMaximum) {
  redirect_tracker tracker(3);
  EXPECT_EQ(tracker.follow(url("http://example.org/1")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.org/2")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.org/3")), std::nullopt);
  EXPECT_EQ(tracker.redirects_followed(), 3);
  EXPECT_EQ(tracker.follow(url("http://example.org/4")), "3 redirections exceeded");
}

TEST(RedirectTracker, DefaultIsTwentyLikeWget) {
  redirect_tracker tracker(mpfetch::default_max_redirects);
  for (int i = 1; i <= 20; ++i)
    ASSERT_EQ(tracker.follow(url("http://example.org/" + std::to_string(i))), std::nullopt) << i;
  EXPECT_EQ(tracker.follow(url("http://example.org/21")), "20 redirections exceeded");
}

TEST(RedirectTracker, ZeroMeansNoRedirectAtAll) {
  redirect_tracker tracker(0);
  EXPECT_EQ(tracker.follow(url("http://example.org/next")), "0 redirections exceeded");
}

TEST(RedirectTracker, ARepeatedUrlIsALoop) {
  redirect_tracker tracker(20);
  EXPECT_EQ(tracker.follow(url("http://example.org/a")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.org/b")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.org/a")),
            "redirect loop: http://example.org/a was already visited");
}

TEST(RedirectTracker, ARedirectBackToTheOriginIsALoop) {
  redirect_tracker tracker(20, url("http://example.org/start"));
  EXPECT_EQ(tracker.follow(url("http://example.org/login")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.org/start")),
            "redirect loop: http://example.org/start was already visited");
}

TEST(RedirectTracker, ARedirectToItselfIsALoop) {
  redirect_tracker tracker(20, url("http://example.org/x"));
  EXPECT_NE(tracker.follow(url("http://example.org/x")), std::nullopt);
}

TEST(RedirectTracker, SameResourceSpelledDifferentlyIsStillALoop) {
  redirect_tracker tracker(20, url("http://Example.ORG:80/x"));
  EXPECT_NE(tracker.follow(url("http://example.org/x")), std::nullopt);
}

TEST(RedirectTracker, DifferentSchemePortQueryOrHostAreDifferentUrls) {
  redirect_tracker tracker(20, url("http://example.org/x"));
  EXPECT_EQ(tracker.follow(url("https://example.org/x")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.org:8080/x")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.org/x?2")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.net/x")), std::nullopt);
  EXPECT_EQ(tracker.follow(url("http://example.org/X")), std::nullopt);  // paths are case-sensitive
  EXPECT_EQ(tracker.redirects_followed(), 5);
}

}  // namespace
