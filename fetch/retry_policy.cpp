#include "retry_policy.hpp"

#include "mp/http_date.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace mpfetch {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds first_backoff{1000};  // wget waits 1 s after the first failure

std::string_view trim_whitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

bool is_retryable(failure_kind kind) {
  switch (kind) {
    case failure_kind::network:
    case failure_kind::timeout:
    case failure_kind::server_busy:
    case failure_kind::protocol:
      return true;
    case failure_kind::permanent:
    case failure_kind::file_io:
    case failure_kind::tls:
      return false;
  }
  return false;
}

failure_kind classify_status(int status) {
  switch (status) {
    case 408:
      return failure_kind::timeout;
    case 429:
    case 503:
    case 504:
      return failure_kind::server_busy;
    default:
      return failure_kind::permanent;
  }
}

bool should_retry(int attempts_made, int tries) {
  if (tries == 0) return true;
  if (tries < 0) return false;
  return attempts_made < tries;
}

bool should_retry(int attempts_made, int tries, failure_kind kind) {
  return is_retryable(kind) && should_retry(attempts_made, tries);
}

milliseconds backoff_delay(int failed_attempts, milliseconds waitretry, double jitter_unit) {
  if (failed_attempts <= 0 || waitretry <= milliseconds::zero()) return milliseconds::zero();
  // Double until the cap: stopping there keeps large attempt counts from overflowing.
  milliseconds step = std::min(first_backoff, waitretry);
  for (int i = 1; i < failed_attempts && step < waitretry; ++i)
    step = std::min(step * 2, waitretry);

  if (std::isnan(jitter_unit)) jitter_unit = 1.0;
  jitter_unit = std::clamp(jitter_unit, 0.0, 1.0);
  const double scaled = static_cast<double>(step.count()) * (0.5 + jitter_unit / 2.0);
  return std::clamp(milliseconds(static_cast<milliseconds::rep>(scaled)), milliseconds::zero(),
                    waitretry);
}

milliseconds retry_delay(int failed_attempts, milliseconds waitretry, double jitter_unit,
                         std::optional<std::chrono::seconds> retry_after,
                         std::chrono::seconds max_retry_after) {
  const milliseconds backoff = backoff_delay(failed_attempts, waitretry, jitter_unit);
  if (!retry_after) return backoff;
  const milliseconds asked =
      std::clamp<std::chrono::seconds>(*retry_after, std::chrono::seconds::zero(),
                                       std::max(max_retry_after, std::chrono::seconds::zero()));
  return std::max(backoff, asked);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::time_t now) {
  value = trim_whitespace(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Saturate well below the limits of chrono arithmetic: nobody waits 10^12 s anyway.
    constexpr std::int64_t saturated = std::int64_t{1} << 40;
    std::int64_t seconds = 0;
    for (const char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds >= saturated) return std::chrono::seconds(saturated);
    }
    return std::chrono::seconds(seconds);
  }
  const auto date = mp::parse_http_date(value);
  if (!date) return std::nullopt;
  if (*date <= now) return std::chrono::seconds::zero();
  return std::chrono::seconds(static_cast<std::int64_t>(*date - now));
}

}  // namespace mpfetch
