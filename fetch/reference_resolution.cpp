#include "reference_resolution.hpp"

#include <boost/url/parse.hpp>

namespace mpfetch {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

void remove_last_segment(std::string& output) {
  const auto slash = output.rfind('/');
  output.erase(slash == std::string::npos ? 0 : slash);
}

// RFC 3986 §5.2.3: the reference path appended to the base path's directory.
std::string merge(bool base_has_authority, std::string_view base_path, std::string_view path) {
  if (base_has_authority && base_path.empty()) return "/" + std::string(path);
  const auto slash = base_path.rfind('/');
  if (slash == std::string_view::npos) return std::string(path);
  return std::string(base_path.substr(0, slash + 1)) + std::string(path);
}

}  // namespace

std::string remove_dot_segments(std::string_view input) {
  // The steps of RFC 3986 §5.2.4, in order.
  std::string output;
  while (!input.empty()) {
    if (starts_with(input, "../")) {
      input.remove_prefix(3);
    } else if (starts_with(input, "./")) {
      input.remove_prefix(2);
    } else if (starts_with(input, "/./")) {
      input.remove_prefix(2);
    } else if (input == "/.") {
      input = "/";
    } else if (starts_with(input, "/../")) {
      input.remove_prefix(3);
      remove_last_segment(output);
    } else if (input == "/..") {
      input = "/";
      remove_last_segment(output);
    } else if (input == "." || input == "..") {
      input = {};
    } else {
      const auto end = input.find('/', 1);
      const std::size_t length = end == std::string_view::npos ? input.size() : end;
      output += input.substr(0, length);
      input.remove_prefix(length);
    }
  }
  return output;
}

std::optional<std::string> resolve_reference(std::string_view base_text,
                                             std::string_view reference_text) {
  const auto base = boost::urls::parse_uri(base_text);
  const auto reference = boost::urls::parse_uri_reference(reference_text);
  if (!base || !reference) return std::nullopt;

  // RFC 3986 §5.2.2, with T.fragment left out.
  std::string scheme, authority, path, query;
  bool has_authority = false, has_query = false;
  if (reference->has_scheme()) {
    scheme = reference->scheme();
    has_authority = reference->has_authority();
    authority = reference->encoded_authority();
    path = remove_dot_segments(reference->encoded_path());
    has_query = reference->has_query();
    query = reference->encoded_query();
  } else {
    scheme = base->scheme();
    if (reference->has_authority()) {
      has_authority = true;
      authority = reference->encoded_authority();
      path = remove_dot_segments(reference->encoded_path());
      has_query = reference->has_query();
      query = reference->encoded_query();
    } else {
      has_authority = base->has_authority();
      authority = base->encoded_authority();
      if (reference->encoded_path().empty()) {
        path = base->encoded_path();
        has_query = reference->has_query() || base->has_query();
        query = reference->has_query() ? reference->encoded_query() : base->encoded_query();
      } else {
        path = remove_dot_segments(
            starts_with(reference->encoded_path(), "/")
                ? std::string(reference->encoded_path())
                : merge(base->has_authority(), base->encoded_path(), reference->encoded_path()));
        has_query = reference->has_query();
        query = reference->encoded_query();
      }
    }
  }

  // RFC 3986 §5.3 recomposition.
  std::string target = scheme + ":";
  if (has_authority) target += "//" + authority;
  target += path;
  if (has_query) target += "?" + query;
  return target;
}

}  // namespace mpfetch
