#include "conditional_request.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "mp/http_date.hpp"

namespace {

using mpserve::evaluate_preconditions;
using mpserve::if_range_permits_ranges;
using mpserve::precondition;
using mpserve::representation_validators;
using mpserve::request_conditions;

// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date.
constexpr std::time_t modified = 784111777;
const std::string modified_text = "Sun, 06 Nov 1994 08:49:37 GMT";
const std::string one_second_before = "Sun, 06 Nov 1994 08:49:36 GMT";
const std::string one_second_after = "Sun, 06 Nov 1994 08:49:38 GMT";

const representation_validators file{"\"abc\"", modified};

precondition get(const request_conditions& c) { return evaluate_preconditions(true, c, file); }
precondition put(const request_conditions& c) { return evaluate_preconditions(false, c, file); }

TEST(MakeStrongEtag, IsQuotedHexOfEveryComponent) {
  EXPECT_EQ(mpserve::make_strong_etag(0x1a2b, 1024, 0x5f1e0000, 255), "\"1a2b-400-5f1e0000.ff\"");
}

TEST(MakeStrongEtag, ChangesWhenAnyComponentChanges) {
  const auto base = mpserve::make_strong_etag(10, 20, 30, 40);
  EXPECT_EQ(base, mpserve::make_strong_etag(10, 20, 30, 40));
  EXPECT_NE(base, mpserve::make_strong_etag(11, 20, 30, 40));
  EXPECT_NE(base, mpserve::make_strong_etag(10, 21, 30, 40));
  EXPECT_NE(base, mpserve::make_strong_etag(10, 20, 31, 40));
  EXPECT_NE(base, mpserve::make_strong_etag(10, 20, 30, 41));
  // Separators keep adjacent fields from running together.
  EXPECT_NE(mpserve::make_strong_etag(1, 0x11, 1, 0), mpserve::make_strong_etag(0x11, 1, 1, 0));
}

TEST(MakeStrongEtag, IsAValidStrongTagForNegativeTimesAndHugeSizes) {
  const representation_validators v{mpserve::make_strong_etag(~0ull, ~0ull, -1, 999999999), 0};
  EXPECT_EQ(v.etag.front(), '"');
  EXPECT_EQ(v.etag.back(), '"');
  EXPECT_TRUE(if_range_permits_ranges(v.etag, v));
}

TEST(Preconditions, NoConditionsProceed) {
  EXPECT_EQ(get({}), precondition::proceed);
  EXPECT_EQ(put({}), precondition::proceed);
}

TEST(IfMatch, StrongMatchProceedsAndMismatchFails) {
  EXPECT_EQ(get({.if_match = "\"abc\""}), precondition::proceed);
  EXPECT_EQ(get({.if_match = "\"xyz\""}), precondition::failed);
  EXPECT_EQ(put({.if_match = "\"xyz\""}), precondition::failed);
  EXPECT_EQ(get({.if_match = "\"ABC\""}), precondition::failed);  // opaque tags are case-sensitive
}

TEST(IfMatch, StarMatchesAnyCurrentRepresentation) {
  EXPECT_EQ(get({.if_match = "*"}), precondition::proceed);
  EXPECT_EQ(get({.if_match = " * "}), precondition::proceed);
}

TEST(IfMatch, ListsAndEmptyElements) {
  EXPECT_EQ(get({.if_match = "\"x\", \"abc\""}), precondition::proceed);
  EXPECT_EQ(get({.if_match = "\"x\",\"y\""}), precondition::failed);
  EXPECT_EQ(get({.if_match = ", ,\"abc\",,"}), precondition::proceed);
  EXPECT_EQ(get({.if_match = "\"x\",\t\"abc\"\t"}), precondition::proceed);
}

TEST(IfMatch, WeakTagsNeverMatchStrongly) {
  EXPECT_EQ(get({.if_match = "W/\"abc\""}), precondition::failed);
  const representation_validators weak_file{"W/\"abc\"", modified};
  EXPECT_EQ(evaluate_preconditions(true, {.if_match = "W/\"abc\""}, weak_file),
            precondition::failed);
  EXPECT_EQ(evaluate_preconditions(true, {.if_match = "\"abc\""}, weak_file), precondition::failed);
}

TEST(IfMatch, MalformedFieldMatchesNothing) {
  EXPECT_EQ(get({.if_match = ""}), precondition::failed);
  EXPECT_EQ(get({.if_match = "abc"}), precondition::failed);
  EXPECT_EQ(get({.if_match = "\"abc"}), precondition::failed);
  EXPECT_EQ(get({.if_match = "\"abc\" junk"}), precondition::failed);
  EXPECT_EQ(get({.if_match = "\"abc\", junk"}), precondition::failed);
  EXPECT_EQ(get({.if_match = "*, \"abc\""}), precondition::failed);
  EXPECT_EQ(get({.if_match = "w/\"abc\""}), precondition::failed);  // W/ is case-sensitive
  EXPECT_EQ(get({.if_match = "\"a bc\""}), precondition::failed);   // space is not etagc
}

TEST(IfMatch, CommaInsideQuotesBelongsToTheTag) {
  const representation_validators comma_file{"\"a,b\"", modified};
  EXPECT_EQ(evaluate_preconditions(true, {.if_match = "\"a,b\""}, comma_file),
            precondition::proceed);
  EXPECT_EQ(evaluate_preconditions(true, {.if_match = "\"a\""}, comma_file), precondition::failed);
}

TEST(IfMatch, TakesPrecedenceOverIfUnmodifiedSince) {
  // §13.1.4: If-Unmodified-Since is ignored when If-Match is present.
  EXPECT_EQ(get({.if_match = "\"abc\"", .if_unmodified_since = one_second_before}),
            precondition::proceed);
}

TEST(IfUnmodifiedSince, FailsOnlyWhenModifiedAfterTheDate) {
  EXPECT_EQ(get({.if_unmodified_since = modified_text}), precondition::proceed);
  EXPECT_EQ(get({.if_unmodified_since = one_second_after}), precondition::proceed);
  EXPECT_EQ(get({.if_unmodified_since = one_second_before}), precondition::failed);
  EXPECT_EQ(put({.if_unmodified_since = one_second_before}), precondition::failed);
}

TEST(IfUnmodifiedSince, InvalidDateIsIgnored) {
  EXPECT_EQ(get({.if_unmodified_since = "yesterday"}), precondition::proceed);
  EXPECT_EQ(get({.if_unmodified_since = ""}), precondition::proceed);
  EXPECT_EQ(get({.if_unmodified_since = modified_text + ", " + modified_text}),
            precondition::proceed);
}

TEST(IfNoneMatch, MatchGivesNotModifiedForGetAndFailedOtherwise) {
  EXPECT_EQ(get({.if_none_match = "\"abc\""}), precondition::not_modified);
  EXPECT_EQ(put({.if_none_match = "\"abc\""}), precondition::failed);
  EXPECT_EQ(get({.if_none_match = "\"xyz\""}), precondition::proceed);
  EXPECT_EQ(put({.if_none_match = "\"xyz\""}), precondition::proceed);
}

TEST(IfNoneMatch, UsesWeakComparison) {
  EXPECT_EQ(get({.if_none_match = "W/\"abc\""}), precondition::not_modified);
  EXPECT_EQ(get({.if_none_match = "W/\"x\", W/\"abc\""}), precondition::not_modified);
  const representation_validators weak_file{"W/\"abc\"", modified};
  EXPECT_EQ(evaluate_preconditions(true, {.if_none_match = "\"abc\""}, weak_file),
            precondition::not_modified);
}

TEST(IfNoneMatch, StarMatches) {
  EXPECT_EQ(get({.if_none_match = "*"}), precondition::not_modified);
  EXPECT_EQ(put({.if_none_match = "*"}), precondition::failed);
}

TEST(IfNoneMatch, MalformedFieldMatchesNothingSoTheFullResponseIsSent) {
  EXPECT_EQ(get({.if_none_match = "abc"}), precondition::proceed);
  EXPECT_EQ(get({.if_none_match = "\"abc\" x"}), precondition::proceed);
  EXPECT_EQ(get({.if_none_match = ""}), precondition::proceed);
}

TEST(IfNoneMatch, OverridesIfModifiedSinceEitherWay) {
  // §13.1.3: If-Modified-Since is ignored when If-None-Match is present (nginx needs both).
  EXPECT_EQ(get({.if_none_match = "\"xyz\"", .if_modified_since = modified_text}),
            precondition::proceed);
  EXPECT_EQ(get({.if_none_match = "\"abc\"", .if_modified_since = one_second_before}),
            precondition::not_modified);
}

TEST(IfNoneMatch, IsEvaluatedAfterIfMatchPasses) {
  EXPECT_EQ(get({.if_match = "\"abc\"", .if_none_match = "\"abc\""}), precondition::not_modified);
  EXPECT_EQ(get({.if_match = "\"xyz\"", .if_none_match = "\"abc\""}), precondition::failed);
  EXPECT_EQ(get({.if_none_match = "\"abc\"", .if_unmodified_since = one_second_before}),
            precondition::failed);
}

TEST(IfModifiedSince, NotModifiedWhenLastModifiedIsNotLater) {
  EXPECT_EQ(get({.if_modified_since = modified_text}), precondition::not_modified);
  EXPECT_EQ(get({.if_modified_since = one_second_after}), precondition::not_modified);
  EXPECT_EQ(get({.if_modified_since = one_second_before}), precondition::proceed);
}

TEST(IfModifiedSince, OnlyForGetAndHead) {
  EXPECT_EQ(put({.if_modified_since = modified_text}), precondition::proceed);
}

TEST(IfModifiedSince, InvalidDateIsIgnored) {
  EXPECT_EQ(get({.if_modified_since = "Sun, 06 Nov 1994 08:49:37"}), precondition::proceed);
  EXPECT_EQ(get({.if_modified_since = "0"}), precondition::proceed);
  EXPECT_EQ(get({.if_modified_since = ""}), precondition::proceed);
}

TEST(IfModifiedSince, SurroundingWhitespaceIsTolerated) {
  EXPECT_EQ(get({.if_modified_since = " " + modified_text + "\t"}), precondition::not_modified);
}

TEST(IfRange, StrongEtagMustMatchStrongly) {
  EXPECT_TRUE(if_range_permits_ranges("\"abc\"", file));
  EXPECT_FALSE(if_range_permits_ranges("\"xyz\"", file));
  EXPECT_FALSE(if_range_permits_ranges("W/\"abc\"", file));
  EXPECT_FALSE(if_range_permits_ranges("\"abc\", \"abc\"", file));  // one validator only
  const representation_validators weak_file{"W/\"abc\"", modified};
  EXPECT_FALSE(if_range_permits_ranges("\"abc\"", weak_file));
}

TEST(IfRange, DateMustEqualLastModifiedExactly) {
  EXPECT_TRUE(if_range_permits_ranges(modified_text, file));
  EXPECT_FALSE(if_range_permits_ranges(one_second_after, file));
  EXPECT_FALSE(if_range_permits_ranges(one_second_before, file));
}

TEST(IfRange, AnythingElseRefusesRanges) {
  EXPECT_FALSE(if_range_permits_ranges("", file));
  EXPECT_FALSE(if_range_permits_ranges("*", file));
  EXPECT_FALSE(if_range_permits_ranges("abc", file));
  EXPECT_FALSE(if_range_permits_ranges("\"abc", file));
  const representation_validators no_etag{"", modified};
  EXPECT_FALSE(if_range_permits_ranges("\"\"", no_etag));
}

TEST(ConditionalRobustness, RandomFieldsNeverCrashAndFollowTheRules) {
  std::mt19937_64 random(1994);
  static constexpr std::string_view pieces[] = {"\"abc\"",
                                                "W/\"abc\"",
                                                "\"x\"",
                                                "*",
                                                ",",
                                                " ",
                                                "\t",
                                                "\"",
                                                "W/",
                                                "w/",
                                                "abc",
                                                "\x80",
                                                "Sun, 06 Nov 1994 08:49:37 GMT",
                                                "GMT",
                                                ":",
                                                "\x7f",
                                                "\"a,b\"",
                                                std::string_view("\0", 1)};
  const auto random_field = [&] {
    std::string field;
    const auto count = random() % 6;
    for (std::uint64_t i = 0; i < count; ++i) field += pieces[random() % std::size(pieces)];
    return field;
  };
  for (int i = 0; i < 10000; ++i) {
    const std::string fields[] = {random_field(), random_field(), random_field(), random_field(),
                                  random_field()};
    const auto use = random();
    request_conditions c;
    if (use & 1) c.if_match = fields[0];
    if (use & 2) c.if_none_match = fields[1];
    if (use & 4) c.if_modified_since = fields[2];
    if (use & 8) c.if_unmodified_since = fields[3];
    const bool get_or_head = use & 16;
    const auto result = evaluate_preconditions(get_or_head, c, file);
    if (!get_or_head) {
      EXPECT_NE(result, precondition::not_modified) << fields[1];
    }
    if (!c.if_match && !c.if_none_match && !c.if_modified_since && !c.if_unmodified_since) {
      EXPECT_EQ(result, precondition::proceed);
    }
    if_range_permits_ranges(fields[4], file);
  }
}

}  // namespace
