#include "retry_policy.hpp"

#include "mp/http_date.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace {

using namespace std::chrono_literals;
using mpfetch::backoff_delay;
using mpfetch::classify_status;
using mpfetch::failure_kind;
using mpfetch::is_retryable;
using mpfetch::parse_retry_after;
using mpfetch::retry_delay;
using mpfetch::should_retry;
using std::chrono::milliseconds;
using std::chrono::seconds;

// --- should_retry ----------------------------------------------------------------------------

TEST(ShouldRetry, TriesCountsAllAttemptsLikeWget) {
  EXPECT_TRUE(should_retry(1, 3));
  EXPECT_TRUE(should_retry(2, 3));
  EXPECT_FALSE(should_retry(3, 3));
  EXPECT_FALSE(should_retry(4, 3));
}

TEST(ShouldRetry, OneTryMeansNoRetry) { EXPECT_FALSE(should_retry(1, 1)); }

TEST(ShouldRetry, DefaultIsTwentyAttempts) {
  EXPECT_EQ(mpfetch::default_tries, 20);
  EXPECT_TRUE(should_retry(19, mpfetch::default_tries));
  EXPECT_FALSE(should_retry(20, mpfetch::default_tries));
}

TEST(ShouldRetry, ZeroIsUnlimited) {
  EXPECT_TRUE(should_retry(1, 0));
  EXPECT_TRUE(should_retry(1'000'000, 0));
  EXPECT_TRUE(should_retry(std::numeric_limits<int>::max(), 0));
}

TEST(ShouldRetry, NegativeTriesAllowNoRetry) { EXPECT_FALSE(should_retry(1, -1)); }

TEST(ShouldRetry, WithAKindAlsoNeedsARetryableFailure) {
  EXPECT_TRUE(should_retry(1, 20, failure_kind::network));
  EXPECT_FALSE(should_retry(1, 20, failure_kind::permanent));
  EXPECT_FALSE(should_retry(1, 0, failure_kind::file_io));
  EXPECT_FALSE(should_retry(20, 20, failure_kind::network));
}

// --- is_retryable / classify_status ----------------------------------------------------------

TEST(IsRetryable, TransientFailuresAreRetried) {
  EXPECT_TRUE(is_retryable(failure_kind::network));
  EXPECT_TRUE(is_retryable(failure_kind::timeout));
  EXPECT_TRUE(is_retryable(failure_kind::server_busy));
  EXPECT_TRUE(is_retryable(failure_kind::protocol));
}

TEST(IsRetryable, FailuresThatRepeatThemselvesAreNot) {
  EXPECT_FALSE(is_retryable(failure_kind::permanent));
  EXPECT_FALSE(is_retryable(failure_kind::file_io));
  EXPECT_FALSE(is_retryable(failure_kind::tls));
}

TEST(ClassifyStatus, BusyStatusesAskToComeBack) {
  EXPECT_EQ(classify_status(429), failure_kind::server_busy);
  EXPECT_EQ(classify_status(503), failure_kind::server_busy);
  EXPECT_EQ(classify_status(504), failure_kind::server_busy);
  EXPECT_EQ(classify_status(408), failure_kind::timeout);
}

TEST(ClassifyStatus, OtherErrorsArePermanent) {
  for (int status : {400, 401, 403, 404, 405, 410, 416, 451, 500, 501, 502, 505, 599})
    EXPECT_EQ(classify_status(status), failure_kind::permanent) << status;
  EXPECT_FALSE(is_retryable(classify_status(404)));
  EXPECT_TRUE(is_retryable(classify_status(503)));
}

// --- backoff_delay ---------------------------------------------------------------------------

TEST(BackoffDelay, DoublesFromOneSecondUpToWaitretryWithoutJitter) {
  // jitter 1 is the full step: the schedule itself.
  EXPECT_EQ(backoff_delay(1, 10s, 1.0), 1s);
  EXPECT_EQ(backoff_delay(2, 10s, 1.0), 2s);
  EXPECT_EQ(backoff_delay(3, 10s, 1.0), 4s);
  EXPECT_EQ(backoff_delay(4, 10s, 1.0), 8s);
  EXPECT_EQ(backoff_delay(5, 10s, 1.0), 10s);
  EXPECT_EQ(backoff_delay(6, 10s, 1.0), 10s);
}

TEST(BackoffDelay, JitterScalesBetweenHalfAndTheWholeStep) {
  EXPECT_EQ(backoff_delay(3, 10s, 0.0), 2s);
  EXPECT_EQ(backoff_delay(3, 10s, 0.5), 3s);
  EXPECT_EQ(backoff_delay(5, 10s, 0.0), 5s);
  EXPECT_EQ(backoff_delay(1, 10s, 0.25), 625ms);
}

TEST(BackoffDelay, NeverAboveWaitretryNorNegativeForAnyInput) {
  for (int failed : {-5, 0, 1, 2, 3, 10, 31, 32, 63, 64, 1000, std::numeric_limits<int>::max()}) {
    for (double jitter :
         {-1.0, 0.0, 0.3, 1.0, 2.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
      for (milliseconds cap : {0ms, 1ms, 500ms, milliseconds(10s), milliseconds(1h)}) {
        const auto delay = backoff_delay(failed, cap, jitter);
        EXPECT_GE(delay, 0ms) << failed << ' ' << jitter << ' ' << cap.count();
        EXPECT_LE(delay, cap) << failed << ' ' << jitter << ' ' << cap.count();
      }
    }
  }
}

TEST(BackoffDelay, LargeAttemptCountsReachTheCapWithoutOverflow) {
  EXPECT_EQ(backoff_delay(std::numeric_limits<int>::max(), 1h, 1.0), 1h);
  EXPECT_EQ(backoff_delay(100, 10s, 1.0), 10s);
}

TEST(BackoffDelay, ZeroWaitretryMeansNoWait) {
  EXPECT_EQ(backoff_delay(1, 0ms, 1.0), 0ms);
  EXPECT_EQ(backoff_delay(7, 0ms, 0.5), 0ms);
}

TEST(BackoffDelay, WaitretryBelowOneSecondCapsTheFirstStep) {
  EXPECT_EQ(backoff_delay(1, 300ms, 1.0), 300ms);
  EXPECT_EQ(backoff_delay(4, 300ms, 0.0), 150ms);
}

TEST(BackoffDelay, NoFailureNoWait) { EXPECT_EQ(backoff_delay(0, 10s, 1.0), 0ms); }

TEST(BackoffDelay, OutOfRangeJitterIsClamped) {
  EXPECT_EQ(backoff_delay(2, 10s, -3.0), 1s);
  EXPECT_EQ(backoff_delay(2, 10s, 7.0), 2s);
  EXPECT_EQ(backoff_delay(2, 10s, std::nan("")), 2s);
}

// --- retry_delay -----------------------------------------------------------------------------

TEST(RetryDelay, WithoutRetryAfterIsTheBackoff) {
  EXPECT_EQ(retry_delay(3, 10s, 1.0, std::nullopt), 4s);
}

TEST(RetryDelay, RetryAfterLongerThanTheBackoffWins) {
  EXPECT_EQ(retry_delay(1, 10s, 1.0, 30s), 30s);  // may exceed waitretry: the server asked
}

TEST(RetryDelay, BackoffLongerThanRetryAfterWins) {
  EXPECT_EQ(retry_delay(4, 10s, 1.0, 2s), 8s);
  EXPECT_EQ(retry_delay(4, 10s, 1.0, 0s), 8s);
}

TEST(RetryDelay, RetryAfterIsCapped) {
  EXPECT_EQ(retry_delay(1, 10s, 1.0, 86400s), mpfetch::default_max_retry_after);
  EXPECT_EQ(retry_delay(1, 10s, 1.0, 86400s, 60s), 60s);
  EXPECT_EQ(retry_delay(1, 10s, 1.0, seconds(std::int64_t{1} << 40), 60s), 60s);
}

// --- parse_retry_after -----------------------------------------------------------------------

constexpr std::time_t now = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(ParseRetryAfter, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("120", now), 120s);
  EXPECT_EQ(parse_retry_after("0", now), 0s);
  EXPECT_EQ(parse_retry_after(" 5 ", now), 5s);
  EXPECT_EQ(parse_retry_after("007", now), 7s);
}

TEST(ParseRetryAfter, HugeDeltaSecondsSaturate) {
  const auto value = parse_retry_after("99999999999999999999999999999999", now);
  ASSERT_TRUE(value);
  EXPECT_GT(*value, seconds(1'000'000'000));
  EXPECT_EQ(retry_delay(1, 10s, 1.0, value, 60s), 60s);
}

TEST(ParseRetryAfter, HttpDateInTheFuture) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now), 120s);
  EXPECT_EQ(parse_retry_after(mp::format_http_date(now + 3600), now), 3600s);
}

TEST(ParseRetryAfter, ObsoleteDateFormatsAreAcceptedToo) {
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now), 60s);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:50:37 1994", now), 60s);
}

TEST(ParseRetryAfter, HttpDateInThePastOrNowIsNoWait) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 0s);
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now), 0s);
}

TEST(ParseRetryAfter, GarbageIsRejected) {
  for (std::string_view text : {"", "   ", "-1", "+5", "1.5", "5s", "0x10", "soon", "1 2",
                                "Sun, 06 Nov 1994 25:00:00 GMT", "Sun, 32 Nov 1994 08:49:37 GMT"})
    EXPECT_EQ(parse_retry_after(text, now), std::nullopt) << '"' << text << '"';
}

}  // namespace
