#pragma once
// Conditional request evaluation (RFC 9110 §13), pure: the request's precondition fields and the
// file's validators in, a decision out. nginx's not_modified filter plays the same part there;
// we follow the RFC's §13.2.2 order where nginx differs (noted in conditional_request.cpp).

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace mpserve {

struct representation_validators {
  std::string etag;               // as sent in ETag, quotes included: "\"1a2b-400-5f1e.0\""
  std::time_t last_modified = 0;  // whole seconds, as sent in Last-Modified; always known for files
};

// A strong validator that changes when the file is replaced (inode), resized or touched, even
// twice within one second (nanoseconds): "\"<inode>-<size>-<sec>.<nsec>\"", all in hex.
std::string make_strong_etag(std::uint64_t inode, std::uint64_t size, std::int64_t mtime_seconds,
                             std::int64_t mtime_nanoseconds);

// Each field as received, absent when the request lacks it. A list field sent on several lines
// (If-Match, If-None-Match) should be joined with ", " first; a repeated date field makes the
// date invalid, which RFC 9110 says to ignore.
struct request_conditions {
  std::optional<std::string_view> if_match{}, if_none_match{}, if_modified_since{},
      if_unmodified_since{}, if_range{};
};

enum class precondition {
  proceed,       // 200 or 206: go on to evaluate Range
  not_modified,  // 304 (GET/HEAD only)
  failed,        // 412
};

// RFC 9110 §13.2.2 steps 1-4; step 5 (If-Range) is if_range_permits_ranges.
precondition evaluate_preconditions(bool get_or_head, const request_conditions& c,
                                    const representation_validators& v);

// RFC 9110 §13.1.5: true when Range may be honoured; false means send the full 200. A strong
// entity-tag must match strongly; an HTTP-date must equal last_modified exactly.
bool if_range_permits_ranges(std::string_view if_range, const representation_validators& v);

}  // namespace mpserve
