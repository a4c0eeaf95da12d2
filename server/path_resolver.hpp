#pragma once
// Maps a request target to a path relative to the served directory, without touching the
// file system: percent-decoding, query stripping, dot-segment handling and refusals.
// The kernel then enforces the root once more when the file is opened (served_file.hpp).

#include <string>
#include <string_view>
#include <variant>

namespace mpserve {

enum class target_error {
  bad_request,  // not origin-form, malformed percent-encoding
  forbidden,    // NUL, an encoded '/', or '..' that would climb above the root
};

struct resolved_target {
  std::string relative;         // "" for the root, "dir/file.iso"; never starts with '/'
  bool trailing_slash = false;  // the decoded path ended in '/' (a directory was asked for)
};

std::variant<resolved_target, target_error> resolve_target(std::string_view target);

// Percent-decodes `text`; false on a malformed escape.
bool percent_decode(std::string_view text, std::string& out);

}  // namespace mpserve
