#include "path_resolver.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using mpserve::resolve_target;
using mpserve::resolved_target;
using mpserve::target_error;

struct resolves_case {
  std::string_view target;
  std::string_view relative;
  bool trailing_slash;
};

void PrintTo(const resolves_case& c, std::ostream* os) { *os << '"' << c.target << '"'; }

class ResolveTargetAccepts : public testing::TestWithParam<resolves_case> {};

TEST_P(ResolveTargetAccepts, MapsToRelativePath) {
  const auto& c = GetParam();
  const auto result = resolve_target(c.target);
  const auto* resolved = std::get_if<resolved_target>(&result);
  ASSERT_NE(resolved, nullptr) << "refused with error "
                               << static_cast<int>(std::get<target_error>(result));
  EXPECT_EQ(resolved->relative, c.relative);
  EXPECT_EQ(resolved->trailing_slash, c.trailing_slash);
}

INSTANTIATE_TEST_SUITE_P(
    PlainPaths, ResolveTargetAccepts,
    testing::Values(resolves_case{"/", "", true},
                    resolves_case{"/file.iso", "file.iso", false},
                    resolves_case{"/dir/file.iso", "dir/file.iso", false},
                    resolves_case{"/dir", "dir", false},
                    resolves_case{"/dir/", "dir", true},
                    resolves_case{"/a/b/c/", "a/b/c", true},
                    resolves_case{"/.hidden", ".hidden", false},
                    resolves_case{"/...", "...", false},
                    resolves_case{"/..file", "..file", false}));

INSTANTIATE_TEST_SUITE_P(
    PercentDecoding, ResolveTargetAccepts,
    testing::Values(resolves_case{"/%41%62c", "Abc", false},
                    resolves_case{"/file%20name.txt", "file name.txt", false},
                    resolves_case{"/%e2%82%ac", "\xe2\x82\xac", false},  // lower-case hex
                    resolves_case{"/%E2%82%AC", "\xe2\x82\xac", false},  // upper-case hex
                    resolves_case{"/100%25", "100%", false},
                    resolves_case{"/%2525", "%25", false},  // decoded once only
                    resolves_case{"/a+b", "a+b", false},    // '+' is not a space in a path
                    resolves_case{"/dir%5Cfile", "dir\\file", false}));

INSTANTIATE_TEST_SUITE_P(
    DotSegmentsInsideRoot, ResolveTargetAccepts,
    testing::Values(resolves_case{"/./file", "file", false},
                    resolves_case{"/a/./b", "a/b", false},
                    resolves_case{"/a/../b", "b", false},
                    resolves_case{"/a/b/../../c", "c", false},
                    resolves_case{"/a/..", "", true},
                    resolves_case{"/a/b/..", "a", true},
                    resolves_case{"/a/.", "a", true},
                    resolves_case{"/.", "", true},
                    resolves_case{"/a/%2e%2e/b", "b", false},  // encoded dots are dots
                    resolves_case{"/a/%2E/b", "a/b", false}));

INSTANTIATE_TEST_SUITE_P(
    EmptySegmentsCollapse, ResolveTargetAccepts,
    testing::Values(resolves_case{"//", "", true},
                    resolves_case{"//file", "file", false},
                    resolves_case{"/a//b", "a/b", false},
                    resolves_case{"/a//", "a", true}));

INSTANTIATE_TEST_SUITE_P(
    QueryAndFragmentStripped, ResolveTargetAccepts,
    testing::Values(resolves_case{"/file.iso?x=1", "file.iso", false},
                    resolves_case{"/dir/?sort=name", "dir", true},
                    resolves_case{"/?", "", true},
                    resolves_case{"/file?a/../../../etc", "file", false},  // not a path
                    resolves_case{"/file?%zz", "file", false},             // not decoded
                    resolves_case{"/file?%2F", "file", false},
                    resolves_case{"/file#frag", "file", false},
                    resolves_case{"/a?b#c", "a", false}));

struct refuses_case {
  std::string_view target;
  target_error error;
};

void PrintTo(const refuses_case& c, std::ostream* os) { *os << '"' << c.target << '"'; }

class ResolveTargetRefuses : public testing::TestWithParam<refuses_case> {};

TEST_P(ResolveTargetRefuses, WithError) {
  const auto& c = GetParam();
  const auto result = resolve_target(c.target);
  const auto* error = std::get_if<target_error>(&result);
  ASSERT_NE(error, nullptr) << "resolved to \"" << std::get<resolved_target>(result).relative
                            << '"';
  EXPECT_EQ(*error, c.error);
}

INSTANTIATE_TEST_SUITE_P(
    ClimbingAboveRoot, ResolveTargetRefuses,
    testing::Values(refuses_case{"/..", target_error::forbidden},
                    refuses_case{"/../etc/passwd", target_error::forbidden},
                    refuses_case{"/a/../../etc/passwd", target_error::forbidden},
                    refuses_case{"/a/../..", target_error::forbidden},
                    refuses_case{"/./../x", target_error::forbidden},
                    refuses_case{"/%2e%2e/etc/passwd", target_error::forbidden},
                    refuses_case{"/%2E%2E", target_error::forbidden},
                    refuses_case{"/.%2e/x", target_error::forbidden}));

INSTANTIATE_TEST_SUITE_P(
    EncodedSlashAndNul, ResolveTargetRefuses,
    testing::Values(refuses_case{"/a%2Fb", target_error::forbidden},
                    refuses_case{"/a%2fb", target_error::forbidden},
                    refuses_case{"/..%2F..%2Fetc%2Fpasswd", target_error::forbidden},
                    refuses_case{"/%2F", target_error::forbidden},
                    refuses_case{"/file%00.txt", target_error::forbidden},
                    refuses_case{"/%00", target_error::forbidden}));

INSTANTIATE_TEST_SUITE_P(
    MalformedPercentEscapes, ResolveTargetRefuses,
    testing::Values(refuses_case{"/%", target_error::bad_request},
                    refuses_case{"/%4", target_error::bad_request},
                    refuses_case{"/a%4/b", target_error::bad_request},
                    refuses_case{"/%zz", target_error::bad_request},
                    refuses_case{"/%g1", target_error::bad_request},
                    refuses_case{"/%1g", target_error::bad_request},
                    refuses_case{"/file%", target_error::bad_request},
                    refuses_case{"/dir/%/x", target_error::bad_request}));

// Only origin-form is accepted: asterisk-form belongs to OPTIONS, authority-form to CONNECT,
// and absolute-form is sent to proxies.
INSTANTIATE_TEST_SUITE_P(
    NotOriginForm, ResolveTargetRefuses,
    testing::Values(refuses_case{"", target_error::bad_request},
                    refuses_case{"*", target_error::bad_request},
                    refuses_case{"file.iso", target_error::bad_request},
                    refuses_case{"http://example.org/file.iso", target_error::bad_request},
                    refuses_case{"example.org:80", target_error::bad_request},
                    refuses_case{"?x=1", target_error::bad_request},
                    refuses_case{"../etc/passwd", target_error::bad_request}));

TEST(ResolveTarget, RelativeNeverStartsWithSlashOrHoldsDotSegments) {
  for (std::string_view target : {"//a", "///a//b//", "/./a/./b/.", "/x/../a/b", "/a/b/c/../.."}) {
    const auto result = resolve_target(target);
    ASSERT_TRUE(std::holds_alternative<resolved_target>(result)) << target;
    const auto& relative = std::get<resolved_target>(result).relative;
    EXPECT_NE(relative.front(), '/') << target;
    EXPECT_EQ(relative.find("//"), std::string::npos) << target;
    EXPECT_EQ(("/" + relative + "/").find("/./"), std::string::npos) << target;
    EXPECT_EQ(("/" + relative + "/").find("/../"), std::string::npos) << target;
  }
}

TEST(ResolveTarget, RawNulByteIsForbidden) {
  const std::string target("/a\0b", 4);
  const auto result = resolve_target(target);
  ASSERT_TRUE(std::holds_alternative<target_error>(result));
  EXPECT_EQ(std::get<target_error>(result), target_error::forbidden);
}

// --- percent_decode --------------------------------------------------------------------------

TEST(PercentDecode, DecodesEscapesAndKeepsEverythingElse) {
  std::string out;
  ASSERT_TRUE(mpserve::percent_decode("a%20b%2Fc+d%7e", out));
  EXPECT_EQ(out, "a b/c+d~");
  ASSERT_TRUE(mpserve::percent_decode("", out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(mpserve::percent_decode("%00", out));
  EXPECT_EQ(out, std::string("\0", 1));
  ASSERT_TRUE(mpserve::percent_decode("%ff", out));
  EXPECT_EQ(out, "\xff");
}

TEST(PercentDecode, ReplacesPreviousContents) {
  std::string out = "stale";
  ASSERT_TRUE(mpserve::percent_decode("x", out));
  EXPECT_EQ(out, "x");
}

TEST(PercentDecode, RejectsTruncatedAndNonHexEscapes) {
  std::string out;
  EXPECT_FALSE(mpserve::percent_decode("%", out));
  EXPECT_FALSE(mpserve::percent_decode("%A", out));
  EXPECT_FALSE(mpserve::percent_decode("ab%4", out));
  EXPECT_FALSE(mpserve::percent_decode("%-1", out));
  EXPECT_FALSE(mpserve::percent_decode("% 1", out));
  EXPECT_FALSE(mpserve::percent_decode("%%41", out));
}

}  // namespace
