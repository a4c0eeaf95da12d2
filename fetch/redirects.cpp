#include "redirects.hpp"

#include "reference_resolution.hpp"

#include <fmt/format.h>

#include <cctype>

namespace mpfetch {

namespace {

// Bytes that cannot appear in a URI reference at all (RFC 3986 §2); '%' is left alone so that
// encoded input stays as it is.
bool needs_encoding(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return true;
  return std::string_view("\"<>\\^`{|}").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string encode_unsafe_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (needs_encoding(byte))
      out += fmt::format("%{:02X}", byte);
    else
      out += c;
  }
  return out;
}

std::string_view trim_whitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Two URLs name the same resource for loop detection when scheme, host (case-insensitive),
// port (explicit or default) and target match: "http://A:80/x" is "http://a/x".
std::string same_resource_key(const url_target& url) {
  std::string host = url.host;
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return url.scheme + ' ' + host + ' ' + url.port + ' ' + url.target;
}

}  // namespace

bool is_redirect_status(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::variant<url_target, std::string> resolve_redirect(const url_target& base,
                                                       std::string_view location) {
  const std::string_view trimmed = trim_whitespace(location);
  if (trimmed.empty()) return std::string("redirect without a Location");
  const std::string encoded = encode_unsafe_bytes(trimmed);

  const auto resolved = resolve_reference(url_text(base), encoded);
  if (!resolved) return fmt::format("invalid redirect Location '{}'", trimmed);

  auto target = parse_url(*resolved);
  if (auto* error = std::get_if<std::string>(&target))
    return fmt::format("cannot follow redirect to '{}': {}", trimmed, *error);
  return target;
}

bool is_downgrade(const url_target& from, const url_target& to) {
  return from.scheme == "https" && to.scheme == "http";
}

redirect_tracker::redirect_tracker(int max_redirects) : max_redirects_(max_redirects) {}

redirect_tracker::redirect_tracker(int max_redirects, const url_target& origin)
    : max_redirects_(max_redirects) {
  seen_.insert(same_resource_key(origin));
}

std::optional<std::string> redirect_tracker::follow(const url_target& next) {
  if (!seen_.insert(same_resource_key(next)).second)
    return fmt::format("redirect loop: {} was already visited", url_text(next));
  ++followed_;
  if (followed_ > max_redirects_) return fmt::format("{} redirections exceeded", max_redirects_);
  return std::nullopt;
}

}  // namespace mpfetch
