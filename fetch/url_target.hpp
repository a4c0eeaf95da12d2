#pragma once
// What a URL asks for, and the local file name it implies: pure, no I/O.

#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace mpfetch {

struct url_target {
  std::string scheme;       // "http" or "https"
  std::string host;         // for the resolver: "example.org", "192.0.2.1", "::1"
  std::string port;         // "80" (http) or "443" (https) when the URL has none
  std::string host_header;  // for the Host field: "example.org", "[::1]:8000"
  std::string target;       // origin-form: "/path?query", "/" when empty
  std::string path;         // the decoded path, for messages (naming uses the raw target)
};

// An error is one line for the user ("unsupported scheme 'ftp'").
std::variant<url_target, std::string> parse_url(std::string_view text);

// "443" for https, "80" otherwise.
std::string_view default_port(std::string_view scheme);

// The URL again, without the fragment: "http://[::1]:8000/a%20b?q". parse_url(url_text(u)) == u.
std::string url_text(const url_target& url);

// The file name a URL implies, as wget picks it: the last path segment, decoded, made safe by
// safe_file_name (output_name.hpp): no '/', '\\' or control bytes, never "." or "..", at most
// max_output_name_bytes long; index.html when there is no segment.
std::string output_name_for(const url_target& url);

// wget's no-clobber rule: NAME if free, else NAME.1, NAME.2, ...
std::string unused_name(const std::string& name, const std::function<bool(const std::string&)>& exists);

}  // namespace mpfetch
