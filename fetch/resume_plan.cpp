#include "resume_plan.hpp"

#include "mp/http_date.hpp"

#include <fmt/format.h>

#include <cctype>
#include <limits>

namespace mpfetch {

namespace {

std::string_view trim_whitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// 1*DIGIT consumed from the front of `text`; nullopt when there is none or it overflows.
std::optional<std::uint64_t> take_number(std::string_view& text) {
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  std::size_t used = 0;
  std::uint64_t value = 0;
  while (used < text.size() && text[used] >= '0' && text[used] <= '9') {
    const auto digit = static_cast<std::uint64_t>(text[used] - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
    ++used;
  }
  if (used == 0) return std::nullopt;
  text.remove_prefix(used);
  return value;
}

bool take(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

bool is_weak(std::string_view etag) { return etag.substr(0, 2) == "W/"; }

std::string_view opaque_tag(std::string_view etag) { return is_weak(etag) ? etag.substr(2) : etag; }

}  // namespace

std::optional<content_range> parse_content_range(std::string_view value) {
  value = trim_whitespace(value);
  const auto space = value.find(' ');
  if (space == std::string_view::npos || !equals_ignoring_case(value.substr(0, space), "bytes"))
    return std::nullopt;
  std::string_view rest = value.substr(space + 1);

  content_range range;
  if (take(rest, '*')) {
    range.unsatisfied = true;
    if (!take(rest, '/')) return std::nullopt;
    range.complete_length = take_number(rest);  // "bytes */*" says nothing: invalid
    if (!range.complete_length || !rest.empty()) return std::nullopt;
    return range;
  }

  const auto first = take_number(rest);
  if (!first || !take(rest, '-')) return std::nullopt;
  const auto last = take_number(rest);
  if (!last || !take(rest, '/')) return std::nullopt;
  range.first = *first;
  range.last = *last;
  if (!take(rest, '*')) {
    range.complete_length = take_number(rest);
    if (!range.complete_length) return std::nullopt;
  }
  if (!rest.empty()) return std::nullopt;
  // RFC 9110 §14.4: last-pos below first-pos, or a complete length not above last-pos, is invalid.
  if (range.last < range.first) return std::nullopt;
  if (range.complete_length && *range.complete_length <= range.last) return std::nullopt;
  return range;
}

resume_request plan_request(const local_state& local) {
  resume_request request;
  request.offset = local.part_bytes;
  if (request.offset == 0) return request;
  if (local.etag && !local.etag->empty() && !is_weak(*local.etag))
    request.if_range = local.etag;
  else if (local.last_modified && !local.last_modified->empty())
    request.if_range = local.last_modified;
  return request;
}

bool validators_changed(const local_state& local, const response_head& response) {
  // Different entity tags, weak or strong, are different representations; equal ones settle it.
  if (local.etag && response.etag) return opaque_tag(*local.etag) != opaque_tag(*response.etag);
  if (local.last_modified && response.last_modified) {
    const auto before = mp::parse_http_date(*local.last_modified);
    const auto now = mp::parse_http_date(*response.last_modified);
    if (before && now) return *before != *now;
    return *local.last_modified != *response.last_modified;
  }
  return false;  // nothing to compare: assume the same, as wget does
}

body_plan plan_body(const resume_request& asked, const local_state& local,
                    const response_head& response) {
  body_plan plan;
  const bool range_asked = asked.offset > 0;

  if (response.status == 200) {
    plan.action = range_asked ? body_action::restart : body_action::append;
    plan.total_size = response.content_length;
    if (!range_asked) return plan;
    plan.resource_changed = validators_changed(local, response);
    plan.message = plan.resource_changed
                       ? "the file changed on the server since the partial download; "
                         "downloading it again from the beginning"
                       : "the server ignored the range request; downloading again from the "
                         "beginning";
    return plan;
  }

  if (response.status == 206) {
    if (!response.content_range) {
      plan.message = "206 Partial Content without a Content-Range";
      return plan;
    }
    const auto range = parse_content_range(*response.content_range);
    if (!range || range->unsatisfied) {
      plan.message = fmt::format("invalid Content-Range '{}'", *response.content_range);
      return plan;
    }
    if (range->first != asked.offset) {
      plan.message = fmt::format("the server sent bytes {}-{} but the download resumes at byte {}",
                                 range->first, range->last, asked.offset);
      return plan;
    }
    if (response.content_length && *response.content_length != range->length()) {
      plan.message = fmt::format("Content-Length {} does not match Content-Range '{}'",
                                 *response.content_length, *response.content_range);
      return plan;
    }
    plan.total_size = range->complete_length;
    if (range_asked && validators_changed(local, response)) {
      // Only without a usable If-Range (a weak ETag, say) can a 206 be a part of another file.
      plan.action = body_action::restart_without_range;
      plan.resource_changed = true;
      plan.message =
          "the file changed on the server since the partial download; "
          "downloading it again from the beginning";
      return plan;
    }
    plan.action = body_action::append;
    plan.offset = asked.offset;
    return plan;
  }

  if (response.status == 416 && range_asked) {
    const auto range =
        response.content_range ? parse_content_range(*response.content_range) : std::nullopt;
    const auto total = range && range->unsatisfied ? range->complete_length : std::nullopt;
    plan.total_size = total;
    plan.action = body_action::restart_without_range;
    if (total && *total == asked.offset) {
      plan.action = body_action::already_complete;
      plan.offset = asked.offset;
      plan.message = "the file is already fully retrieved; nothing to do";
    } else if (total && *total < asked.offset) {
      plan.resource_changed = true;
      plan.message = fmt::format(
          "the file on the server ({} bytes) is shorter than the partial download ({} bytes); "
          "downloading it again from the beginning",
          *total, asked.offset);
    } else {
      plan.message = "the server refused the range request; downloading again from the beginning";
    }
    return plan;
  }

  plan.message = fmt::format("unexpected HTTP status {} for the body", response.status);
  return plan;
}

}  // namespace mpfetch
