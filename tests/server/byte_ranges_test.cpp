#include "byte_ranges.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mpserve::byte_range;
using mpserve::evaluate_range;
using mpserve::range_decision;
using mpserve::range_outcome;

constexpr std::uint64_t gib = 1024ull * 1024 * 1024;

struct range_case {
  std::string_view header;
  std::uint64_t size;
  range_outcome outcome;
  std::vector<byte_range> ranges;  // expected for partial
};

void PrintTo(const range_case& c, std::ostream* os) {
  *os << '"' << c.header << "\" size " << c.size;
}

std::string describe(const range_decision& d) {
  std::string text = std::to_string(static_cast<int>(d.outcome)) + ":";
  for (const auto& r : d.ranges)
    text += " " + std::to_string(r.first) + "+" + std::to_string(r.length);
  return text;
}

class EvaluateRange : public testing::TestWithParam<range_case> {};

TEST_P(EvaluateRange, DecidesOutcomeAndRanges) {
  const auto& c = GetParam();
  const auto decision = evaluate_range(c.header, c.size);
  range_decision expected{c.outcome, c.ranges};
  EXPECT_EQ(describe(decision), describe(expected));
}

INSTANTIATE_TEST_SUITE_P(
    SingleRanges, EvaluateRange,
    testing::Values(range_case{"bytes=0-499", 1234, range_outcome::partial, {{0, 500}}},
                    range_case{"bytes=500-999", 1234, range_outcome::partial, {{500, 500}}},
                    range_case{"bytes=0-0", 1234, range_outcome::partial, {{0, 1}}},
                    range_case{"bytes=1233-1233", 1234, range_outcome::partial, {{1233, 1}}},
                    range_case{"bytes=1000-", 1234, range_outcome::partial, {{1000, 234}}},
                    range_case{"bytes=0-", 1234, range_outcome::partial, {{0, 1234}}},
                    range_case{"bytes=1000-99999", 1234, range_outcome::partial, {{1000, 234}}},
                    range_case{"bytes=007-010", 1234, range_outcome::partial, {{7, 4}}},
                    range_case{"bytes=-1", 1234, range_outcome::partial, {{1233, 1}}},
                    range_case{"bytes=-500", 1234, range_outcome::partial, {{734, 500}}},
                    range_case{"bytes=-1234", 1234, range_outcome::partial, {{0, 1234}}},
                    range_case{"bytes=-5000", 1234, range_outcome::partial, {{0, 1234}}},
                    range_case{"BYTES=0-9", 1234, range_outcome::partial, {{0, 10}}},
                    range_case{"Bytes=0-9", 1234, range_outcome::partial, {{0, 10}}}));

INSTANTIATE_TEST_SUITE_P(
    Lists, EvaluateRange,
    testing::Values(
        range_case{"bytes=0-9,20-29", 100, range_outcome::partial, {{0, 10}, {20, 10}}},
        range_case{"bytes=20-29,0-9", 100, range_outcome::partial, {{20, 10}, {0, 10}}},
        range_case{"bytes=0-9 , 20-29", 100, range_outcome::partial, {{0, 10}, {20, 10}}},
        range_case{"bytes=0-9,\t20-29\t", 100, range_outcome::partial, {{0, 10}, {20, 10}}},
        range_case{"bytes= 0-9", 100, range_outcome::partial, {{0, 10}}},
        range_case{"bytes=0-1,,3-4", 100, range_outcome::partial, {{0, 2}, {3, 2}}},
        range_case{"bytes=,0-1", 100, range_outcome::partial, {{0, 2}}},
        range_case{"bytes=0-1,", 100, range_outcome::partial, {{0, 2}}},
        range_case{"bytes=0-9,-10", 100, range_outcome::partial, {{0, 10}, {90, 10}}},
        // Overlap is kept as asked while the total stays within the size.
        range_case{"bytes=0-49,25-74", 100, range_outcome::partial, {{0, 50}, {25, 50}}}));

INSTANTIATE_TEST_SUITE_P(
    UnsatisfiableMembersDropped, EvaluateRange,
    testing::Values(range_case{"bytes=0-9,200-299", 100, range_outcome::partial, {{0, 10}}},
                    range_case{"bytes=200-,90-", 100, range_outcome::partial, {{90, 10}}},
                    range_case{"bytes=-0,0-0", 100, range_outcome::partial, {{0, 1}}}));

INSTANTIATE_TEST_SUITE_P(
    Unsatisfiable, EvaluateRange,
    testing::Values(range_case{"bytes=1234-", 1234, range_outcome::unsatisfiable, {}},
                    range_case{"bytes=1234-2000", 1234, range_outcome::unsatisfiable, {}},
                    range_case{"bytes=5000-6000", 1234, range_outcome::unsatisfiable, {}},
                    range_case{"bytes=-0", 1234, range_outcome::unsatisfiable, {}},
                    range_case{"bytes=2000-,3000-3001,-0", 1234, range_outcome::unsatisfiable, {}},
                    range_case{
                        "bytes=18446744073709551615-", 1234, range_outcome::unsatisfiable, {}}));

INSTANTIATE_TEST_SUITE_P(
    InvalidIsIgnored, EvaluateRange,
    testing::Values(range_case{"", 100, range_outcome::full, {}},
                    range_case{"bytes", 100, range_outcome::full, {}},
                    range_case{"bytes=", 100, range_outcome::full, {}},
                    range_case{"bytes=,", 100, range_outcome::full, {}},
                    range_case{"bytes= , ", 100, range_outcome::full, {}},
                    range_case{"items=0-9", 100, range_outcome::full, {}},
                    range_case{"bytes =0-9", 100, range_outcome::full, {}},
                    range_case{" bytes=0-9", 100, range_outcome::full, {}},
                    range_case{"bytes=0-9;", 100, range_outcome::full, {}},
                    range_case{"bytes=9-0", 100, range_outcome::full, {}},
                    range_case{"bytes=5-4", 100, range_outcome::full, {}},
                    range_case{"bytes=0-9,5-4", 100, range_outcome::full, {}},
                    range_case{"bytes=-", 100, range_outcome::full, {}},
                    range_case{"bytes=--5", 100, range_outcome::full, {}},
                    range_case{"bytes=0--5", 100, range_outcome::full, {}},
                    range_case{"bytes=a-b", 100, range_outcome::full, {}},
                    range_case{"bytes=0x10-", 100, range_outcome::full, {}},
                    range_case{"bytes=+1-2", 100, range_outcome::full, {}},
                    range_case{"bytes=1 -2", 100, range_outcome::full, {}},
                    range_case{"bytes=1- 2", 100, range_outcome::full, {}},
                    range_case{"bytes=1-2-3", 100, range_outcome::full, {}},
                    range_case{"bytes=0-9,x", 100, range_outcome::full, {}},
                    range_case{"bytes=0-9 20-29", 100, range_outcome::full, {}},
                    // 2^64 and beyond do not fit: invalid, not clamped.
                    range_case{"bytes=18446744073709551616-", 100, range_outcome::full, {}},
                    range_case{"bytes=0-18446744073709551616", 100, range_outcome::full, {}},
                    range_case{"bytes=-99999999999999999999999", 100, range_outcome::full, {}}));

INSTANTIATE_TEST_SUITE_P(
    DenialOfServiceGuards, EvaluateRange,
    testing::Values(range_case{"bytes=0-99,0-99", 100, range_outcome::full, {}},
                    range_case{"bytes=0-,0-", 100, range_outcome::full, {}},
                    range_case{"bytes=0-50,50-99", 100, range_outcome::full, {}},
                    range_case{"bytes=-60,0-59", 100, range_outcome::full, {}},
                    // Exactly the size in total is still honoured.
                    range_case{
                        "bytes=0-49,50-99", 100, range_outcome::partial, {{0, 50}, {50, 50}}}));

// RFC 9110 §14.1.1 and nginx: nothing can be cut from an empty file; a range from 0 or a
// non-zero suffix gets the (empty) full response, anything else 416.
INSTANTIATE_TEST_SUITE_P(
    EmptyRepresentation, EvaluateRange,
    testing::Values(range_case{"bytes=0-", 0, range_outcome::full, {}},
                    range_case{"bytes=0-0", 0, range_outcome::full, {}},
                    range_case{"bytes=0-99", 0, range_outcome::full, {}},
                    range_case{"bytes=-1", 0, range_outcome::full, {}},
                    range_case{"bytes=5-,-10", 0, range_outcome::full, {}},
                    range_case{"bytes=-0", 0, range_outcome::unsatisfiable, {}},
                    range_case{"bytes=1-", 0, range_outcome::unsatisfiable, {}},
                    range_case{"bytes=1-5,-0", 0, range_outcome::unsatisfiable, {}},
                    range_case{"bytes=x", 0, range_outcome::full, {}}));

constexpr std::uint64_t five_gib = 5 * gib;

INSTANTIATE_TEST_SUITE_P(
    BeyondFourGiB, EvaluateRange,
    testing::Values(
        range_case{"bytes=4294967296-", five_gib, range_outcome::partial, {{4 * gib, gib}}},
        range_case{
            "bytes=4294967295-4294967296", five_gib, range_outcome::partial, {{4 * gib - 1, 2}}},
        range_case{"bytes=5368709119-", five_gib, range_outcome::partial, {{five_gib - 1, 1}}},
        range_case{"bytes=5368709120-", five_gib, range_outcome::unsatisfiable, {}},
        range_case{"bytes=-4294967297", five_gib, range_outcome::partial, {{gib - 1, 4 * gib + 1}}},
        range_case{"bytes=0-99999999999", five_gib, range_outcome::partial, {{0, five_gib}}},
        range_case{"bytes=0-,4294967296-", five_gib, range_outcome::full, {}}));

TEST(EvaluateRangeLimits, AtMostMaxRangesAreHonoured) {
  EXPECT_EQ(evaluate_range("bytes=0-0,2-2,4-4", 10, 3).outcome, range_outcome::partial);
  EXPECT_EQ(evaluate_range("bytes=0-0,2-2,4-4,6-6", 10, 3).outcome, range_outcome::full);
  EXPECT_EQ(evaluate_range("bytes=0-0", 10, 1).outcome, range_outcome::partial);
  EXPECT_EQ(evaluate_range("bytes=0-0,2-2", 10, 1).outcome, range_outcome::full);
  EXPECT_EQ(evaluate_range("bytes=0-0", 10, 0).outcome, range_outcome::full);
}

TEST(EvaluateRangeLimits, UnsatisfiableMembersDoNotCountTowardsTheLimit) {
  const auto decision = evaluate_range("bytes=50-,60-,0-0,70-", 10, 1);
  EXPECT_EQ(decision.outcome, range_outcome::partial);
  EXPECT_EQ(decision.ranges.size(), 1u);
}

TEST(EvaluateRangeLimits, DefaultLimitIsOneHundred) {
  std::string header = "bytes=";
  for (int i = 0; i < 100; ++i) header += std::to_string(i) + "-" + std::to_string(i) + ",";
  EXPECT_EQ(evaluate_range(header, 1000).ranges.size(), 100u);
  header += "100-100";
  EXPECT_EQ(evaluate_range(header, 1000).outcome, range_outcome::full);
}

TEST(EvaluateRangeRobustness, RandomHeadersNeverCrashAndRangesStayInside) {
  std::mt19937_64 random(20261125);
  static constexpr std::string_view alphabet = "0123456789-,= \tbytesBYTES9x";
  static constexpr std::string_view prefixes[] = {"bytes=", "BYTES=", "", "bytes", "bytes=-"};
  for (int i = 0; i < 10000; ++i) {
    std::string header(prefixes[random() % std::size(prefixes)]);
    const auto length = random() % 40;
    for (std::uint64_t j = 0; j < length; ++j) header += alphabet[random() % alphabet.size()];
    const std::uint64_t size = random() % 4 == 0 ? random() : random() % 200;
    const auto decision = evaluate_range(header, size, 1 + random() % 8);
    if (decision.outcome != range_outcome::partial) {
      EXPECT_TRUE(decision.ranges.empty()) << header;
      continue;
    }
    ASSERT_FALSE(decision.ranges.empty()) << header;
    std::uint64_t total = 0;
    for (const auto& r : decision.ranges) {
      EXPECT_GE(r.length, 1u) << header;
      EXPECT_LT(r.first, size) << header;
      EXPECT_LE(r.length, size - r.first) << header;
      total += r.length;
    }
    EXPECT_LE(total, size) << header;
  }
}

TEST(ContentRange, FormatsInclusiveLastByte) {
  EXPECT_EQ(mpserve::content_range({0, 500}, 1234), "bytes 0-499/1234");
  EXPECT_EQ(mpserve::content_range({1233, 1}, 1234), "bytes 1233-1233/1234");
  EXPECT_EQ(mpserve::content_range({4 * gib, gib}, five_gib),
            "bytes 4294967296-5368709119/5368709120");
}

TEST(ContentRange, UnsatisfiedFormShowsOnlyTheSize) {
  EXPECT_EQ(mpserve::unsatisfied_content_range(1234), "bytes */1234");
  EXPECT_EQ(mpserve::unsatisfied_content_range(0), "bytes */0");
}

// Assembles the body the way the session will: head, the range's bytes, ..., tail.
std::string assemble(const mpserve::multipart_plan& plan, std::string_view representation) {
  std::string body;
  for (const auto& part : plan.parts) {
    body += part.head;
    body += representation.substr(part.range.first, part.range.length);
  }
  return body + plan.tail;
}

TEST(PlanMultipart, MatchesTheRfc9110Example) {
  // RFC 9110 §14.6: two ranges of an 8000-byte PDF, with nginx's leading CRLF.
  std::string pdf(8000, ' ');
  for (std::size_t i = 0; i < pdf.size(); ++i) pdf[i] = static_cast<char>('a' + i % 26);
  const auto plan = mpserve::plan_multipart({{500, 500}, {7000, 1000}}, 8000, "application/pdf",
                                            "THIS_STRING_SEPARATES");
  const std::string expected =
      "\r\n--THIS_STRING_SEPARATES\r\n"
      "Content-Type: application/pdf\r\n"
      "Content-Range: bytes 500-999/8000\r\n"
      "\r\n" +
      pdf.substr(500, 500) +
      "\r\n--THIS_STRING_SEPARATES\r\n"
      "Content-Type: application/pdf\r\n"
      "Content-Range: bytes 7000-7999/8000\r\n"
      "\r\n" +
      pdf.substr(7000, 1000) + "\r\n--THIS_STRING_SEPARATES--\r\n";
  const auto body = assemble(plan, pdf);
  EXPECT_EQ(body, expected);
  EXPECT_EQ(plan.content_length, expected.size());
  EXPECT_EQ(plan.boundary, "THIS_STRING_SEPARATES");
  EXPECT_EQ(plan.tail, "\r\n--THIS_STRING_SEPARATES--\r\n");
  ASSERT_EQ(plan.parts.size(), 2u);
  EXPECT_EQ(plan.parts[1].range.first, 7000u);
}

TEST(PlanMultipart, ContentLengthCountsEveryByteOfTheBody) {
  const std::string text = "0123456789abcdefghijklmnopqrstuvwxyz";
  const auto decision = evaluate_range("bytes=0-0,-3,10-19,35-", text.size());
  ASSERT_EQ(decision.outcome, range_outcome::partial);
  const auto plan = mpserve::plan_multipart(decision.ranges, text.size(), "text/plain", "b0undary");
  const auto body = assemble(plan, text);
  EXPECT_EQ(plan.content_length, body.size());
  EXPECT_NE(body.find("Content-Range: bytes 33-35/36\r\n\r\nxyz\r\n--b0undary\r\n"),
            std::string::npos);
  EXPECT_TRUE(body.starts_with("\r\n--b0undary\r\nContent-Type: text/plain\r\n"));
  EXPECT_TRUE(body.ends_with("\r\nz\r\n--b0undary--\r\n"));
}

TEST(PlanMultipart, EmptyContentTypeOmitsThePartLine) {
  const auto plan = mpserve::plan_multipart({{0, 1}}, 10, "", "B");
  ASSERT_EQ(plan.parts.size(), 1u);
  EXPECT_EQ(plan.parts[0].head, "\r\n--B\r\nContent-Range: bytes 0-0/10\r\n\r\n");
  EXPECT_EQ(plan.content_length, plan.parts[0].head.size() + 1 + plan.tail.size());
}

TEST(PlanMultipart, LengthsBeyondFourGiBDoNotWrap) {
  const auto plan = mpserve::plan_multipart({{0, 3 * gib}, {4 * gib, gib}}, five_gib,
                                            "application/x-iso9660-image", "B");
  const std::uint64_t heads = plan.parts[0].head.size() + plan.parts[1].head.size();
  EXPECT_EQ(plan.content_length, heads + 4 * gib + plan.tail.size());
  EXPECT_NE(plan.parts[1].head.find("bytes 4294967296-5368709119/5368709120"), std::string::npos);
}

TEST(MultipartContentType, NamesTheBoundary) {
  EXPECT_EQ(mpserve::multipart_content_type("00000000001"),
            "multipart/byteranges; boundary=00000000001");
}

}  // namespace
