#pragma once
// RFC 3986 §5.2 reference resolution on encoded text. Boost.URL 1.81's resolve() gets two
// things wrong that matter for redirects: it decodes "%2F" into '/' (a different resource) and
// keeps ".." segments above the root ("http://a/../g" instead of "http://a/g").

#include <optional>
#include <string>
#include <string_view>

namespace mpfetch {

// The target URI of `reference` (absolute or relative) against the absolute URI `base`,
// without fragment. Percent-encoding is kept exactly as written. nullopt when either does not
// parse, or `base` has no scheme.
std::optional<std::string> resolve_reference(std::string_view base, std::string_view reference);

// RFC 3986 §5.2.4 on an encoded path: "/a/b/../c/./d" -> "/a/c/d"; ".." never climbs above
// the root. Only literal "." and ".." are dot segments, not "%2e".
std::string remove_dot_segments(std::string_view path);

}  // namespace mpfetch
