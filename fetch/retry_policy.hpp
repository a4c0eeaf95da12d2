#pragma once
// When to try a download again and how long to wait first, as wget decides it: pure, the
// caller brings the clock and the random numbers.

#include <chrono>
#include <ctime>
#include <optional>
#include <string_view>

namespace mpfetch {

inline constexpr int default_tries = 20;                               // wget's --tries
inline constexpr std::chrono::milliseconds default_waitretry{10'000};  // wget's --waitretry
inline constexpr std::chrono::seconds default_max_retry_after{300};    // see retry_delay

// Why an attempt failed, as far as retrying is concerned.
enum class failure_kind {
  network,      // connect refused/reset, DNS failure, connection closed mid-body
  timeout,      // connect or read timeout; also HTTP 408
  server_busy,  // HTTP 429, 503, 504: the server asks to come back later
  permanent,    // other 4xx and 5xx: 404 stays 404
  file_io,      // writing the output failed (disk full, permission): the network cannot fix it
  tls,          // handshake or certificate failure (a reset during the handshake is `network`)
  protocol,     // malformed response, wrong Content-Range, body shorter than announced
};

// Whether trying again can help. wget retries network errors, timeouts and header errors and
// stops on file errors, TLS failures (its CONSSLERR is fatal) and HTTP errors; unlike wget's
// defaults, 429 and 503 are retried too (wget needs --retry-on-http-error for that), as
// curl --retry does, since both mean "later" by definition (RFC 9110 §15.6.4, RFC 6585 §4).
bool is_retryable(failure_kind kind);

// The failure an HTTP error status stands for: server_busy, timeout (408) or permanent.
failure_kind classify_status(int status);

// wget's --tries: the number of attempts in all, so 1 never retries; 0 is unlimited.
// A negative count (rejected by the option parser) allows the first attempt only.
bool should_retry(int attempts_made, int tries);
bool should_retry(int attempts_made, int tries, failure_kind kind);

// The wait after `failed_attempts` consecutive failures: 1 s, 2 s, 4 s, ... capped at
// `waitretry` (0: no wait), like wget's --waitretry, then scaled by 0.5 + jitter_unit / 2.
// "Equal jitter": at least half the step, so one client still backs off, while many clients
// failing together spread out. Never negative, never above waitretry. jitter_unit is clamped
// to 0..1 (NaN counts as 1).
std::chrono::milliseconds backoff_delay(int failed_attempts, std::chrono::milliseconds waitretry,
                                        double jitter_unit);

// The wait before the next attempt when the server may have sent Retry-After: the longer of
// the backoff and Retry-After, with Retry-After capped at `max_retry_after` so a server
// cannot park the download for hours. Without Retry-After, the backoff.
std::chrono::milliseconds retry_delay(
    int failed_attempts, std::chrono::milliseconds waitretry, double jitter_unit,
    std::optional<std::chrono::seconds> retry_after,
    std::chrono::seconds max_retry_after = default_max_retry_after);

// Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, as the wait from `now`.
// A date in the past is a wait of 0; huge delta-seconds saturate instead of overflowing.
// Anything else (negative, fractions, garbage) is nullopt.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::time_t now);

}  // namespace mpfetch
