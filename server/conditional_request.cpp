#include "conditional_request.hpp"

#include <fmt/format.h>

#include "mp/http_date.hpp"

namespace mpserve {

namespace {

struct entity_tag {
  bool weak = false;
  std::string_view opaque;  // with its quotes
};

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

// RFC 9110 §8.8.3: etagc = %x21 / %x23-7E / obs-text.
bool is_etagc(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == 0x21 || (byte >= 0x23 && byte != 0x7F);
}

// Consumes one entity-tag from the front of `text`; nullopt when there is none.
std::optional<entity_tag> take_entity_tag(std::string_view& text) {
  entity_tag tag;
  std::string_view rest = text;
  if (rest.substr(0, 2) == "W/") {
    tag.weak = true;
    rest.remove_prefix(2);
  }
  if (rest.empty() || rest.front() != '"') return std::nullopt;
  std::size_t end = 1;
  while (end < rest.size() && is_etagc(rest[end])) ++end;
  if (end == rest.size() || rest[end] != '"') return std::nullopt;
  tag.opaque = rest.substr(0, end + 1);
  text = rest.substr(end + 1);
  return tag;
}

std::optional<entity_tag> parse_single_entity_tag(std::string_view text) {
  text = trim_ows(text);
  auto tag = take_entity_tag(text);
  if (!tag || !text.empty()) return std::nullopt;
  return tag;
}

enum class comparison { strong, weak };  // RFC 9110 §8.8.3.2

// If-Match / If-None-Match: "*" / #entity-tag. A field that is not well formed matches nothing:
// If-Match then fails (412) and If-None-Match passes (a full response), both the safe side.
bool tag_list_matches(std::string_view field, const representation_validators& v, comparison how) {
  field = trim_ows(field);
  if (field == "*") return true;  // we always have a current representation
  const auto current = parse_single_entity_tag(v.etag);
  bool matched = false;
  while (true) {
    // §5.6.1: recipients accept empty list elements.
    while (!field.empty() && (is_ows(field.front()) || field.front() == ','))
      field.remove_prefix(1);
    if (field.empty()) break;
    const auto tag = take_entity_tag(field);
    if (!tag) return false;
    // Strong comparison needs both tags strong; weak comparison ignores W/.
    const bool both_strong = current && !tag->weak && !current->weak;
    if (current && tag->opaque == current->opaque && (how == comparison::weak || both_strong))
      matched = true;
    field = trim_ows(field);
    if (!field.empty() && field.front() != ',') return false;
  }
  return matched;
}

std::optional<std::time_t> parse_date_field(std::string_view field) {
  return mp::parse_http_date(trim_ows(field));
}

}  // namespace

std::string make_strong_etag(std::uint64_t inode, std::uint64_t size, std::int64_t mtime_seconds,
                             std::int64_t mtime_nanoseconds) {
  // Unsigned hex keeps the tag free of '-' signs for pre-1970 times.
  return fmt::format("\"{:x}-{:x}-{:x}.{:x}\"", inode, size,
                     static_cast<std::uint64_t>(mtime_seconds),
                     static_cast<std::uint64_t>(mtime_nanoseconds));
}

precondition evaluate_preconditions(bool get_or_head, const request_conditions& c,
                                    const representation_validators& v) {
  // Step 1, else step 2 (§13.1.4: If-Unmodified-Since is ignored beside If-Match, and when its
  // date is invalid).
  if (c.if_match) {
    if (!tag_list_matches(*c.if_match, v, comparison::strong)) return precondition::failed;
  } else if (c.if_unmodified_since) {
    const auto date = parse_date_field(*c.if_unmodified_since);
    if (date && v.last_modified > *date) return precondition::failed;
  }
  // Step 3, else step 4. nginx needs both If-None-Match and If-Modified-Since to agree; the RFC
  // (§13.1.3) has If-None-Match alone decide when present, and so do we.
  if (c.if_none_match) {
    if (tag_list_matches(*c.if_none_match, v, comparison::weak))
      return get_or_head ? precondition::not_modified : precondition::failed;
  } else if (get_or_head && c.if_modified_since) {
    // §13.1.3: "earlier than or equal to"; nginx's default "exact" mode compares with !=.
    const auto date = parse_date_field(*c.if_modified_since);
    if (date && v.last_modified <= *date) return precondition::not_modified;
  }
  return precondition::proceed;
}

bool if_range_permits_ranges(std::string_view if_range, const representation_validators& v) {
  if_range = trim_ows(if_range);
  if (!if_range.empty() && (if_range.front() == '"' || if_range.substr(0, 2) == "W/")) {
    const auto tag = parse_single_entity_tag(if_range);
    const auto current = parse_single_entity_tag(v.etag);
    // §13.1.5: a weak tag never permits ranges.
    return tag && current && !tag->weak && !current->weak && tag->opaque == current->opaque;
  }
  // §13.1.5 wants the date to be a strong validator too, which needs the response Date; like
  // nginx we accept an exact match, which a file edited within its mtime second could fool.
  const auto date = mp::parse_http_date(if_range);
  return date && *date == v.last_modified;
}

}  // namespace mpserve
