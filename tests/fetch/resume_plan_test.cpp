#include "resume_plan.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using mpfetch::body_action;
using mpfetch::body_plan;
using mpfetch::content_range;
using mpfetch::local_state;
using mpfetch::parse_content_range;
using mpfetch::plan_body;
using mpfetch::plan_request;
using mpfetch::response_head;
using mpfetch::resume_request;

// --- parse_content_range ---------------------------------------------------------------------

content_range range(std::uint64_t first, std::uint64_t last, std::optional<std::uint64_t> total) {
  return content_range{false, first, last, total};
}

content_range unsatisfied(std::uint64_t total) { return content_range{true, 0, 0, total}; }

TEST(ParseContentRange, SatisfiedRangeWithCompleteLength) {
  EXPECT_EQ(parse_content_range("bytes 0-499/1234"), range(0, 499, 1234));
  EXPECT_EQ(parse_content_range("bytes 500-1233/1234"), range(500, 1233, 1234));
  EXPECT_EQ(parse_content_range("bytes 7-7/8"), range(7, 7, 8));
  EXPECT_EQ(parse_content_range("bytes 500-1233/1234")->length(), 734u);
}

TEST(ParseContentRange, UnknownCompleteLength) {
  EXPECT_EQ(parse_content_range("bytes 500-999/*"), range(500, 999, std::nullopt));
}

TEST(ParseContentRange, Unsatisfied) {
  EXPECT_EQ(parse_content_range("bytes */1234"), unsatisfied(1234));
  EXPECT_EQ(parse_content_range("bytes */0"), unsatisfied(0));
  EXPECT_EQ(parse_content_range("bytes */1234")->length(), 0u);
}

TEST(ParseContentRange, UnitIsCaseInsensitiveAndOuterWhitespaceIgnored) {
  EXPECT_EQ(parse_content_range("BYTES 0-0/1"), range(0, 0, 1));
  EXPECT_EQ(parse_content_range("Bytes */5"), unsatisfied(5));
  EXPECT_EQ(parse_content_range("  bytes 0-0/1\t"), range(0, 0, 1));
}

TEST(ParseContentRange, LargestValuesParseAndOneMoreOverflows) {
  EXPECT_EQ(parse_content_range("bytes 0-18446744073709551614/18446744073709551615"),
            range(0, 18446744073709551614u, 18446744073709551615u));
  EXPECT_EQ(parse_content_range("bytes */18446744073709551615"),
            unsatisfied(18446744073709551615u));
  EXPECT_EQ(parse_content_range("bytes */18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_content_range("bytes 0-18446744073709551616/*"), std::nullopt);
  EXPECT_EQ(parse_content_range("bytes 0-1/99999999999999999999999"), std::nullopt);
}

TEST(ParseContentRange, InvalidPerRfc9110AreRejected) {
  EXPECT_EQ(parse_content_range("bytes 500-499/1234"), std::nullopt);  // last < first
  EXPECT_EQ(parse_content_range("bytes 0-1234/1234"), std::nullopt);   // last >= length
  EXPECT_EQ(parse_content_range("bytes 0-0/0"), std::nullopt);
}

TEST(ParseContentRange, MalformedValuesAreRejected) {
  for (std::string_view text : {"",
                                "bytes",
                                "bytes ",
                                "bytes */*",
                                "bytes */",
                                "bytes *",
                                "bytes 0-499",
                                "bytes 0-/10",
                                "bytes -5/10",
                                "bytes 0-4/",
                                "bytes 0-4/10x",
                                "bytes 0-4,6-7/10",
                                "bytes  0-4/10",
                                "bytes\t0-4/10",
                                "bytes=0-4/10",
                                "items 0-4/10",
                                "bytes 0 - 4/10",
                                "bytes +0-4/10",
                                "bytes 0x0-4/10",
                                "bytes 0-4/-10",
                                "0-4/10",
                                "bytes 0-4/1 0"})
    EXPECT_EQ(parse_content_range(text), std::nullopt) << '"' << text << '"';
}

// --- plan_request ----------------------------------------------------------------------------

TEST(PlanRequest, NothingOnDiskAsksForEverything) {
  const auto request = plan_request(local_state{0, "\"abc\"", "Sun, 06 Nov 1994 08:49:37 GMT"});
  EXPECT_EQ(request.offset, 0u);
  EXPECT_EQ(request.if_range, std::nullopt);
}

TEST(PlanRequest, StrongEtagIsPreferred) {
  const auto request = plan_request(local_state{100, "\"abc\"", "Sun, 06 Nov 1994 08:49:37 GMT"});
  EXPECT_EQ(request.offset, 100u);
  EXPECT_EQ(request.if_range, "\"abc\"");
}

TEST(PlanRequest, WeakEtagIsNeverUsedLastModifiedInstead) {
  const auto request = plan_request(local_state{100, "W/\"abc\"", "Sun, 06 Nov 1994 08:49:37 GMT"});
  EXPECT_EQ(request.offset, 100u);
  EXPECT_EQ(request.if_range, "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(PlanRequest, WeakEtagAloneMeansRangeWithoutIfRange) {
  const auto request = plan_request(local_state{100, "W/\"abc\"", std::nullopt});
  EXPECT_EQ(request.offset, 100u);
  EXPECT_EQ(request.if_range, std::nullopt);
}

TEST(PlanRequest, LastModifiedAlone) {
  EXPECT_EQ(plan_request(local_state{5, std::nullopt, "Sun, 06 Nov 1994 08:49:37 GMT"}).if_range,
            "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(PlanRequest, NoValidatorsMeansRangeAloneLikeWget) {
  const auto request = plan_request(local_state{4096, std::nullopt, std::nullopt});
  EXPECT_EQ(request.offset, 4096u);
  EXPECT_EQ(request.if_range, std::nullopt);
}

TEST(PlanRequest, EmptyValidatorsAreIgnored) {
  EXPECT_EQ(plan_request(local_state{1, "", ""}).if_range, std::nullopt);
  EXPECT_EQ(plan_request(local_state{1, "", "Sun, 06 Nov 1994 08:49:37 GMT"}).if_range,
            "Sun, 06 Nov 1994 08:49:37 GMT");
}

// --- plan_body -------------------------------------------------------------------------------

const local_state on_disk{1000, "\"v1\"", "Sun, 06 Nov 1994 08:49:37 GMT"};
const resume_request resume_at_1000{1000, "\"v1\""};
const resume_request from_start{0, std::nullopt};

response_head head(int status, std::optional<std::string> content_range = std::nullopt,
                   std::optional<std::uint64_t> length = std::nullopt,
                   std::optional<std::string> etag = std::nullopt,
                   std::optional<std::string> last_modified = std::nullopt) {
  return response_head{status, std::move(content_range), length, std::move(etag),
                       std::move(last_modified)};
}

TEST(PlanBody, FreshDownloadWritesFromZero) {
  const auto plan = plan_body(from_start, local_state{}, head(200, std::nullopt, 5000));
  EXPECT_EQ(plan.action, body_action::append);
  EXPECT_EQ(plan.offset, 0u);
  EXPECT_EQ(plan.total_size, 5000u);
  EXPECT_TRUE(plan.message.empty());
  EXPECT_FALSE(plan.resource_changed);
}

TEST(PlanBody, FreshDownloadWithUnknownLength) {
  const auto plan = plan_body(from_start, local_state{}, head(200));
  EXPECT_EQ(plan.action, body_action::append);
  EXPECT_EQ(plan.total_size, std::nullopt);
}

TEST(PlanBody, PartialContentAtTheOffsetAppends) {
  const auto plan =
      plan_body(resume_at_1000, on_disk, head(206, "bytes 1000-4999/5000", 4000, "\"v1\""));
  EXPECT_EQ(plan.action, body_action::append);
  EXPECT_EQ(plan.offset, 1000u);
  EXPECT_EQ(plan.total_size, 5000u);
  EXPECT_TRUE(plan.message.empty());
}

TEST(PlanBody, PartialContentWithUnknownTotal) {
  const auto plan = plan_body(resume_at_1000, on_disk, head(206, "bytes 1000-4999/*"));
  EXPECT_EQ(plan.action, body_action::append);
  EXPECT_EQ(plan.total_size, std::nullopt);
}

TEST(PlanBody, PartialContentElsewhereFails) {
  const auto plan = plan_body(resume_at_1000, on_disk, head(206, "bytes 0-4999/5000"));
  EXPECT_EQ(plan.action, body_action::fail);
  EXPECT_EQ(plan.message, "the server sent bytes 0-4999 but the download resumes at byte 1000");
  EXPECT_EQ(plan_body(resume_at_1000, on_disk, head(206, "bytes 1001-4999/5000")).action,
            body_action::fail);
}

TEST(PlanBody, PartialContentWithoutOrWithBadContentRangeFails) {
  auto plan = plan_body(resume_at_1000, on_disk, head(206));
  EXPECT_EQ(plan.action, body_action::fail);
  EXPECT_EQ(plan.message, "206 Partial Content without a Content-Range");
  plan = plan_body(resume_at_1000, on_disk, head(206, "bytes 1000-999/5000"));
  EXPECT_EQ(plan.action, body_action::fail);
  EXPECT_EQ(plan.message, "invalid Content-Range 'bytes 1000-999/5000'");
  EXPECT_EQ(plan_body(resume_at_1000, on_disk, head(206, "bytes */5000")).action,
            body_action::fail);
}

TEST(PlanBody, PartialContentWithContradictingLengthFails) {
  const auto plan = plan_body(resume_at_1000, on_disk, head(206, "bytes 1000-4999/5000", 5000));
  EXPECT_EQ(plan.action, body_action::fail);
  EXPECT_EQ(plan.message,
            "Content-Length 5000 does not match Content-Range 'bytes 1000-4999/5000'");
}

TEST(PlanBody, PartialContentOfAChangedFileRequestsAgain) {
  // A weak ETag could not go in If-Range, so the server sent a range of the new version.
  const local_state weak{1000, "W/\"v1\"", std::nullopt};
  const auto plan =
      plan_body(plan_request(weak), weak, head(206, "bytes 1000-4999/5000", 4000, "W/\"v2\""));
  EXPECT_EQ(plan.action, body_action::restart_without_range);
  EXPECT_TRUE(plan.resource_changed);
  EXPECT_NE(plan.message.find("changed"), std::string::npos);
}

TEST(PlanBody, PartialContentToAFreshRequestStartingAtZeroAppends) {
  const auto plan = plan_body(from_start, local_state{}, head(206, "bytes 0-99/100"));
  EXPECT_EQ(plan.action, body_action::append);
  EXPECT_EQ(plan.offset, 0u);
  EXPECT_EQ(plan.total_size, 100u);
}

TEST(PlanBody, OkToARangeRequestWithSameValidatorsRestartsAsIgnoredRange) {
  const auto plan = plan_body(resume_at_1000, on_disk, head(200, std::nullopt, 5000, "\"v1\""));
  EXPECT_EQ(plan.action, body_action::restart);
  EXPECT_EQ(plan.offset, 0u);
  EXPECT_EQ(plan.total_size, 5000u);
  EXPECT_FALSE(plan.resource_changed);
  EXPECT_EQ(plan.message,
            "the server ignored the range request; downloading again from the beginning");
}

TEST(PlanBody, OkToARangeRequestWithoutValidatorsRestartsAsIgnoredRange) {
  const auto plan = plan_body(resume_at_1000, on_disk, head(200));
  EXPECT_EQ(plan.action, body_action::restart);
  EXPECT_FALSE(plan.resource_changed);
}

TEST(PlanBody, OkWithANewEtagRestartsAsChanged) {
  const auto plan = plan_body(resume_at_1000, on_disk, head(200, std::nullopt, 6000, "\"v2\""));
  EXPECT_EQ(plan.action, body_action::restart);
  EXPECT_TRUE(plan.resource_changed);
  EXPECT_EQ(plan.message,
            "the file changed on the server since the partial download; downloading it again "
            "from the beginning");
  EXPECT_EQ(plan.total_size, 6000u);
}

TEST(PlanBody, OkWithANewLastModifiedRestartsAsChanged) {
  const local_state dated{1000, std::nullopt, "Sun, 06 Nov 1994 08:49:37 GMT"};
  const auto plan =
      plan_body(plan_request(dated), dated,
                head(200, std::nullopt, 6000, std::nullopt, "Mon, 07 Nov 1994 08:49:37 GMT"));
  EXPECT_EQ(plan.action, body_action::restart);
  EXPECT_TRUE(plan.resource_changed);
}

TEST(PlanBody, SameDateInAnotherFormatIsNotAChange) {
  const local_state dated{1000, std::nullopt, "Sun, 06 Nov 1994 08:49:37 GMT"};
  const auto plan =
      plan_body(plan_request(dated), dated,
                head(200, std::nullopt, 6000, std::nullopt, "Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_EQ(plan.action, body_action::restart);
  EXPECT_FALSE(plan.resource_changed);
}

TEST(PlanBody, RangeNotSatisfiableForTheLocalSizeIsComplete) {
  const auto plan = plan_body(resume_at_1000, on_disk, head(416, "bytes */1000"));
  EXPECT_EQ(plan.action, body_action::already_complete);
  EXPECT_EQ(plan.total_size, 1000u);
  EXPECT_EQ(plan.offset, 1000u);
  EXPECT_EQ(plan.message, "the file is already fully retrieved; nothing to do");
}

TEST(PlanBody, RangeNotSatisfiableForAShorterFileRequestsAgain) {
  const auto plan = plan_body(resume_at_1000, on_disk, head(416, "bytes */500"));
  EXPECT_EQ(plan.action, body_action::restart_without_range);
  EXPECT_TRUE(plan.resource_changed);
  EXPECT_EQ(plan.total_size, 500u);
  EXPECT_NE(plan.message.find("shorter"), std::string::npos);
}

TEST(PlanBody, RangeNotSatisfiableOtherwiseRequestsAgainWithoutRange) {
  for (const auto& response : {head(416), head(416, "bytes */*"), head(416, "garbage"),
                               head(416, "bytes */2000"), head(416, "bytes 0-1/2000")}) {
    const auto plan = plan_body(resume_at_1000, on_disk, response);
    EXPECT_EQ(plan.action, body_action::restart_without_range)
        << response.content_range.value_or("(none)");
    EXPECT_FALSE(plan.resource_changed);
  }
}

TEST(PlanBody, RangeNotSatisfiableWithoutARangeRequestFails) {
  EXPECT_EQ(plan_body(from_start, local_state{}, head(416, "bytes */0")).action, body_action::fail);
}

TEST(PlanBody, OtherStatusesFail) {
  for (int status : {201, 204, 304, 404, 500}) {
    const auto plan = plan_body(resume_at_1000, on_disk, head(status));
    EXPECT_EQ(plan.action, body_action::fail) << status;
    EXPECT_EQ(plan.message, "unexpected HTTP status " + std::to_string(status) + " for the body");
  }
}

// --- validators_changed ----------------------------------------------------------------------

TEST(ValidatorsChanged, EtagsDecideWhenBothPresent) {
  EXPECT_FALSE(mpfetch::validators_changed(on_disk, head(200, {}, {}, "\"v1\"", "other date")));
  EXPECT_TRUE(mpfetch::validators_changed(on_disk, head(200, {}, {}, "\"v2\"")));
  EXPECT_FALSE(
      mpfetch::validators_changed(local_state{1, "W/\"v1\"", {}}, head(200, {}, {}, "\"v1\"")));
}

TEST(ValidatorsChanged, NothingToCompareIsNoChange) {
  EXPECT_FALSE(mpfetch::validators_changed(local_state{1, {}, {}}, head(200, {}, {}, "\"x\"")));
  EXPECT_FALSE(mpfetch::validators_changed(on_disk, head(200)));
}

TEST(ValidatorsChanged, UnparseableDatesCompareAsText) {
  EXPECT_TRUE(
      mpfetch::validators_changed(local_state{1, {}, "yesterday"}, head(200, {}, {}, {}, "today")));
  EXPECT_FALSE(
      mpfetch::validators_changed(local_state{1, {}, "today"}, head(200, {}, {}, {}, "today")));
}

}  // namespace
