#include "path_resolver.hpp"

#include <vector>

namespace mpserve {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool percent_decode(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return true;
}

std::variant<resolved_target, target_error> resolve_target(std::string_view target) {
  if (target.empty() || target.front() != '/') return target_error::bad_request;
  const auto query = target.find_first_of("?#");
  const std::string_view raw_path = target.substr(0, query);

  // Decode segment by segment so that an encoded '/' (%2F) cannot create a separator.
  std::vector<std::string> segments;
  std::size_t start = 1;
  bool trailing_slash = false;
  while (start <= raw_path.size()) {
    const auto end = raw_path.find('/', start);
    const auto raw = raw_path.substr(start, end == std::string_view::npos ? end : end - start);
    std::string segment;
    if (!percent_decode(raw, segment)) return target_error::bad_request;
    if (segment.find('\0') != std::string::npos || segment.find('/') != std::string::npos)
      return target_error::forbidden;
    // The last segment decides: "/dir/" ends in an empty one; "/dir/." and "/dir/.." leave a
    // '/' after dot-segment removal (RFC 3986 §5.2.4).
    trailing_slash = segment.empty() || segment == "." || segment == "..";
    if (segment == "..") {
      // RFC 3986 §5.2.4 would clamp at the root; nginx refuses such requests, and so do we.
      if (segments.empty()) return target_error::forbidden;
      segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(std::move(segment));
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }

  resolved_target result;
  result.trailing_slash = trailing_slash;
  for (const auto& segment : segments) {
    if (!result.relative.empty()) result.relative += '/';
    result.relative += segment;
  }
  return result;
}

}  // namespace mpserve
