#include "reference_resolution.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using mpfetch::remove_dot_segments;
using mpfetch::resolve_reference;

constexpr std::string_view base = "http://a/b/c/d;p?q";

struct example {
  std::string_view reference;
  std::string_view target;
};

void PrintTo(const example& e, std::ostream* os) { *os << '"' << e.reference << '"'; }

class ResolveReference : public testing::TestWithParam<example> {};

TEST_P(ResolveReference, MatchesRfc3986Section54WithoutFragments) {
  EXPECT_EQ(resolve_reference(base, GetParam().reference), GetParam().target);
}

// RFC 3986 §5.4.1, every example (fragments removed from the expected targets).
INSTANTIATE_TEST_SUITE_P(
    Normal, ResolveReference,
    testing::Values(example{"g:h", "g:h"}, example{"g", "http://a/b/c/g"},
                    example{"./g", "http://a/b/c/g"}, example{"g/", "http://a/b/c/g/"},
                    example{"/g", "http://a/g"}, example{"//g", "http://g"},
                    example{"?y", "http://a/b/c/d;p?y"}, example{"g?y", "http://a/b/c/g?y"},
                    example{"#s", "http://a/b/c/d;p?q"}, example{"g#s", "http://a/b/c/g"},
                    example{"g?y#s", "http://a/b/c/g?y"}, example{";x", "http://a/b/c/;x"},
                    example{"g;x", "http://a/b/c/g;x"}, example{"g;x?y#s", "http://a/b/c/g;x?y"},
                    example{"", "http://a/b/c/d;p?q"}, example{".", "http://a/b/c/"},
                    example{"./", "http://a/b/c/"}, example{"..", "http://a/b/"},
                    example{"../", "http://a/b/"}, example{"../g", "http://a/b/g"},
                    example{"../..", "http://a/"}, example{"../../", "http://a/"},
                    example{"../../g", "http://a/g"}));

// RFC 3986 §5.4.2, every example (strict parser: "http:g" is "http:g").
INSTANTIATE_TEST_SUITE_P(
    Abnormal, ResolveReference,
    testing::Values(example{"../../../g", "http://a/g"}, example{"../../../../g", "http://a/g"},
                    example{"/./g", "http://a/g"}, example{"/../g", "http://a/g"},
                    example{"g.", "http://a/b/c/g."}, example{".g", "http://a/b/c/.g"},
                    example{"g..", "http://a/b/c/g.."}, example{"..g", "http://a/b/c/..g"},
                    example{"./../g", "http://a/b/g"}, example{"./g/.", "http://a/b/c/g/"},
                    example{"g/./h", "http://a/b/c/g/h"}, example{"g/../h", "http://a/b/c/h"},
                    example{"g;x=1/./y", "http://a/b/c/g;x=1/y"},
                    example{"g;x=1/../y", "http://a/b/c/y"},
                    example{"g?y/./x", "http://a/b/c/g?y/./x"},
                    example{"g?y/../x", "http://a/b/c/g?y/../x"},
                    example{"g#s/./x", "http://a/b/c/g"}, example{"g#s/../x", "http://a/b/c/g"},
                    example{"http:g", "http:g"}));

TEST(ResolveReferenceEncoding, PercentEncodingIsKeptAsWritten) {
  EXPECT_EQ(resolve_reference("http://example.org/", "/a%20b%2Fc"), "http://example.org/a%20b%2Fc");
  EXPECT_EQ(resolve_reference("http://a/b/%2F/d", "x"), "http://a/b/%2F/x");
  EXPECT_EQ(resolve_reference("http://a/b/c", "%41"), "http://a/b/%41");
  EXPECT_EQ(resolve_reference("http://a/b/c", "%2e%2e/g"), "http://a/b/%2e%2e/g");
}

TEST(ResolveReferenceEncoding, BaseWithEmptyPathGetsASlash) {
  EXPECT_EQ(resolve_reference("http://a", "g"), "http://a/g");
  EXPECT_EQ(resolve_reference("http://a:8080?x", "?y"), "http://a:8080?y");
}

TEST(ResolveReferenceEncoding, AuthorityOfAReferenceReplacesTheBaseOne) {
  EXPECT_EQ(resolve_reference("https://a:1/p?q", "//[::1]:2/x/../y?z"), "https://[::1]:2/y?z");
}

TEST(ResolveReferenceErrors, UnparseableInputs) {
  EXPECT_EQ(resolve_reference("not a uri", "g"), std::nullopt);
  EXPECT_EQ(resolve_reference("/relative/base", "g"), std::nullopt);
  EXPECT_EQ(resolve_reference(base, "%zz"), std::nullopt);
  EXPECT_EQ(resolve_reference(base, "a b"), std::nullopt);
}

TEST(RemoveDotSegments, Rfc3986Examples) {
  EXPECT_EQ(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(remove_dot_segments("mid/content=5/../6"), "mid/6");
}

TEST(RemoveDotSegments, NeverClimbsAboveTheRoot) {
  EXPECT_EQ(remove_dot_segments("/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(remove_dot_segments("/.."), "/");
  EXPECT_EQ(remove_dot_segments("/."), "/");
  EXPECT_EQ(remove_dot_segments(".."), "");
}

TEST(RemoveDotSegments, PlainPathsAreUntouched) {
  EXPECT_EQ(remove_dot_segments(""), "");
  EXPECT_EQ(remove_dot_segments("/"), "/");
  EXPECT_EQ(remove_dot_segments("/a//b/"), "/a//b/");
  EXPECT_EQ(remove_dot_segments("/a/.b/..c/%2e%2e"), "/a/.b/..c/%2e%2e");
}

}  // namespace
