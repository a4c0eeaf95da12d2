#include "byte_ranges.hpp"

#include <fmt/format.h>

#include <limits>
#include <optional>

namespace mpserve {

namespace {

// One range-spec as written, before it meets the representation size.
struct range_spec {
  bool suffix = false;                // "-n": the last n bytes
  std::uint64_t first = 0;            // int-range first-pos, or the suffix length
  std::optional<std::uint64_t> last;  // int-range last-pos when given
};

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// 1*DIGIT that fits in 64 bits; leading zeros are allowed by the grammar.
std::optional<std::uint64_t> parse_digits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<range_spec> parse_range_spec(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  range_spec spec;
  if (dash == 0) {
    const auto length = parse_digits(text.substr(1));
    if (!length) return std::nullopt;
    spec.suffix = true;
    spec.first = *length;
    return spec;
  }
  const auto first = parse_digits(text.substr(0, dash));
  if (!first) return std::nullopt;
  spec.first = *first;
  const auto rest = text.substr(dash + 1);
  if (rest.empty()) return spec;
  const auto last = parse_digits(rest);
  // RFC 9110 §14.1.1: last-pos < first-pos makes the whole ranges-specifier invalid.
  if (!last || *last < *first) return std::nullopt;
  spec.last = *last;
  return spec;
}

// RFC 9110 §14.1: "bytes=" 1#range-spec, with §5.6.1's empty list elements and OWS around commas.
std::optional<std::vector<range_spec>> parse_ranges_specifier(std::string_view header) {
  const auto equals = header.find('=');
  if (equals == std::string_view::npos || !iequals(header.substr(0, equals), "bytes"))
    return std::nullopt;
  std::string_view set = header.substr(equals + 1);
  std::vector<range_spec> specs;
  while (true) {
    const auto comma = set.find(',');
    const auto element = trim_ows(set.substr(0, comma));
    if (!element.empty()) {
      auto spec = parse_range_spec(element);
      if (!spec) return std::nullopt;
      specs.push_back(*spec);
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (specs.empty()) return std::nullopt;
  return specs;
}

}  // namespace

range_decision evaluate_range(std::string_view range_header, std::uint64_t size,
                              std::size_t max_ranges) {
  // RFC 9110 §14.2: a server MAY ignore an invalid Range; nginx answers 416 instead, but a
  // full 200 never breaks a client, so invalid syntax, other units and overflow all land here.
  const auto specs = parse_ranges_specifier(range_header);
  if (!specs) return {};

  if (size == 0) {
    // RFC 9110 §14.1.1 calls a non-zero suffix satisfiable on an empty representation, yet no
    // Content-Range can describe an empty 206; nginx sends the empty 200 for that and for
    // "0-" (a browser's media probe), and 416 only when every range starts beyond 0.
    for (const auto& spec : *specs) {
      const bool nonzero_suffix = spec.suffix && spec.first > 0;
      const bool from_start = !spec.suffix && spec.first == 0;
      if (nonzero_suffix || from_start) return {};
    }
    return {range_outcome::unsatisfiable, {}};
  }

  range_decision decision{range_outcome::partial, {}};
  std::uint64_t total = 0;
  for (const auto& spec : *specs) {
    byte_range range;
    if (spec.suffix) {
      if (spec.first == 0) continue;  // "-0" selects nothing
      range.first = spec.first >= size ? 0 : size - spec.first;
      range.length = size - range.first;
    } else {
      if (spec.first >= size) continue;  // unsatisfiable members of a list are dropped
      const std::uint64_t last = spec.last && *spec.last < size ? *spec.last : size - 1;
      range.first = spec.first;
      range.length = last - spec.first + 1;
    }
    // DoS guards, as nginx: many small parts, or overlaps asking for the file several times.
    if (range.length > size - total) return {};
    total += range.length;
    if (decision.ranges.size() == max_ranges) return {};
    decision.ranges.push_back(range);
  }
  if (decision.ranges.empty()) return {range_outcome::unsatisfiable, {}};
  return decision;
}

std::string content_range(const byte_range& r, std::uint64_t size) {
  return fmt::format("bytes {}-{}/{}", r.first, r.first + r.length - 1, size);
}

std::string unsatisfied_content_range(std::uint64_t size) {
  return fmt::format("bytes */{}", size);
}

multipart_plan plan_multipart(const std::vector<byte_range>& ranges, std::uint64_t size,
                              std::string_view content_type, std::string boundary) {
  multipart_plan plan;
  plan.boundary = std::move(boundary);
  plan.parts.reserve(ranges.size());
  // Every delimiter, the first included, is CRLF "--" boundary (RFC 2046 §5.1.1), as nginx
  // writes it; the leading CRLF reads as an empty preamble.
  for (const auto& range : ranges) {
    std::string head = fmt::format("\r\n--{}\r\n", plan.boundary);
    if (!content_type.empty()) head += fmt::format("Content-Type: {}\r\n", content_type);
    head += fmt::format("Content-Range: {}\r\n\r\n", content_range(range, size));
    plan.content_length += head.size() + range.length;
    plan.parts.push_back({std::move(head), range});
  }
  plan.tail = fmt::format("\r\n--{}--\r\n", plan.boundary);
  plan.content_length += plan.tail.size();
  return plan;
}

std::string multipart_content_type(std::string_view boundary) {
  return fmt::format("multipart/byteranges; boundary={}", boundary);
}

}  // namespace mpserve
