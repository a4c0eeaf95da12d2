#pragma once
// Resuming a download, as pure decisions: what to ask for given the bytes already on disk, and
// what to do with the body the server answers with (RFC 9110 §14 ranges, §13.1.5 If-Range).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mpfetch {

// A Content-Range value: "bytes 0-499/1234", "bytes 500-999/*", or "bytes */1234" (a 416).
struct content_range {
  bool unsatisfied = false;                      // "bytes */N": only complete_length is set
  std::uint64_t first = 0;                       // first byte position
  std::uint64_t last = 0;                        // last byte position, inclusive
  std::optional<std::uint64_t> complete_length;  // nullopt for "/*"

  std::uint64_t length() const noexcept { return unsatisfied ? 0 : last - first + 1; }
  friend bool operator==(const content_range&, const content_range&) = default;
};

// RFC 9110 §14.4, strictly: unit "bytes" (case-insensitive), one space, digits only, no
// overflow, first <= last < complete length. "bytes */*" and multiple ranges are invalid.
std::optional<content_range> parse_content_range(std::string_view value);

// What is on disk from an earlier attempt, and the validators of the response it came from.
struct local_state {
  std::uint64_t part_bytes = 0;
  std::optional<std::string> etag;           // as received, quotes and W/ included
  std::optional<std::string> last_modified;  // as received
};

// What to ask for: Range: bytes=offset- (when offset > 0) and If-Range when set.
struct resume_request {
  std::uint64_t offset = 0;
  std::optional<std::string> if_range;
};

// Resume from everything on disk; If-Range is the ETag when it is strong, else Last-Modified
// (RFC 9110 §13.1.5: a weak ETag never goes in If-Range). With no validator, Range alone.
resume_request plan_request(const local_state& local);

// The parts of a response header that decide what to do with its body.
struct response_head {
  int status = 0;
  std::optional<std::string> content_range;
  std::optional<std::uint64_t> content_length;
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
};

enum class body_action {
  append,                 // keep the first `offset` bytes, write the body after them
  restart,                // the body is the whole file: truncate, write from 0
  already_complete,       // nothing to fetch: the file on disk is whole (416 for its size)
  restart_without_range,  // this body is not the file: request again from 0, without Range
  fail,                   // a protocol error: the server sent a range that was not asked for
};

struct body_plan {
  body_action action = body_action::fail;
  std::uint64_t offset = 0;                 // where the body's first byte goes in the file
  std::optional<std::uint64_t> total_size;  // the whole file, when the server said
  bool resource_changed = false;            // validators differ from local_state's
  std::string message;                      // for the user; set whenever there is a warning
};

// Decides from a 200, 206 or 416 answer to `asked` (other statuses are the caller's to handle;
// they give `fail`). A 206 must start exactly at the offset asked; a 200 to a range request
// restarts, with a warning that says whether the file changed or the server ignored Range.
body_plan plan_body(const resume_request& asked, const local_state& local,
                    const response_head& response);

// Whether the response's validators show a different resource than the one on disk: a strong
// ETag that differs from the local one, or a Last-Modified that differs (compared as dates).
bool validators_changed(const local_state& local, const response_head& response);

}  // namespace mpfetch
