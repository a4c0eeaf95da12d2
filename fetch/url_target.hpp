#pragma once
// What a URL asks for, and the local file name it implies: pure, no I/O.

#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace mpfetch {

struct url_target {
  std::string scheme;       // "http"
  std::string host;         // for the resolver: "example.org", "192.0.2.1", "::1"
  std::string port;         // "80" when the URL has none
  std::string host_header;  // for the Host field: "example.org", "[::1]:8000"
  std::string target;       // origin-form: "/path?query", "/" when empty
  std::string path;         // the decoded path, for messages (naming uses the raw target)
};

// An error is one line for the user ("unsupported scheme 'ftp'").
std::variant<url_target, std::string> parse_url(std::string_view text);

// The file name a URL implies, as wget picks it: the last path segment, or index.html. It
// never contains '/', is never "." or "..", and never starts with '.' followed by nothing.
std::string output_name_for(const url_target& url);

// wget's no-clobber rule: NAME if free, else NAME.1, NAME.2, ...
std::string unused_name(const std::string& name, const std::function<bool(const std::string&)>& exists);

}  // namespace mpfetch
