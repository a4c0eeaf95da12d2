#pragma once
// Range request evaluation (RFC 9110 §14) and the multipart/byteranges layout (§14.6), pure:
// header text and representation size in, decision out. nginx's range filter is the reference
// for every choice the RFC leaves open; each is noted where it is made in byte_ranges.cpp.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mpserve {

struct byte_range {
  std::uint64_t first = 0;   // offset of the first byte, < size
  std::uint64_t length = 0;  // >= 1, first + length <= size
};

enum class range_outcome {
  full,           // ignore the Range header: 200 with the whole representation
  partial,        // 206 with `ranges` (one: single part; several: multipart/byteranges)
  unsatisfiable,  // 416 with Content-Range: bytes */size
};

struct range_decision {
  range_outcome outcome = range_outcome::full;
  std::vector<byte_range> ranges;  // only for partial; in request order, not coalesced
};

inline constexpr std::size_t default_max_ranges = 100;

// `range_header` is the Range field value; `size` the representation length. More than
// `max_ranges` satisfiable ranges, or ranges adding up to more than `size`, answer `full`.
range_decision evaluate_range(std::string_view range_header, std::uint64_t size,
                              std::size_t max_ranges = default_max_ranges);

// "bytes 0-499/1234" for 206 responses and multipart part headers.
std::string content_range(const byte_range& r, std::uint64_t size);
// "bytes */1234" for 416 responses.
std::string unsatisfied_content_range(std::uint64_t size);

struct multipart_part {
  std::string head;  // "\r\n--B\r\nContent-Type: T\r\nContent-Range: bytes a-b/size\r\n\r\n"
  byte_range range;  // the representation bytes that follow `head`
};

struct multipart_plan {
  std::string boundary;
  std::vector<multipart_part> parts;
  std::string tail;                  // "\r\n--B--\r\n"
  std::uint64_t content_length = 0;  // every head + every range length + tail
};

// Lays out a multipart/byteranges body; the body is each part's head then its range bytes, in
// order, then `tail`. `boundary` must be 1-70 RFC 2046 bchars and should be unpredictable. An
// empty `content_type` omits the per-part Content-Type line, as nginx does.
multipart_plan plan_multipart(const std::vector<byte_range>& ranges, std::uint64_t size,
                              std::string_view content_type, std::string boundary);

// "multipart/byteranges; boundary=B", the Content-Type of the whole 206 response.
std::string multipart_content_type(std::string_view boundary);

}  // namespace mpserve
