#pragma once
// Where a download is saved when the user names no file: a name taken from the URL, made safe
// to create inside the target directory (-P DIR) and nowhere else. Pure, no I/O.

#include "url_target.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mpfetch {

// NAME_MAX (255) less room for what is appended later: ".part" while downloading and wget's
// ".1", ".2", ... for taken names. wget keeps the same 19 bytes (CHOMP_BUFFER) free.
inline constexpr std::size_t max_output_name_bytes = 255 - 19;

// One decoded path segment as a file name: '/', '\\' and control bytes (NUL included) become
// '_'; "", "." and ".." become index.html; longer than max_output_name_bytes is cut, keeping
// the extension (up to 32 bytes) and never splitting a UTF-8 sequence. A leading '-' or '.'
// stays, as wget keeps it: the name is never given to a shell. Applying it twice changes nothing.
std::string safe_file_name(std::string_view decoded_segment);

// DIR/NAME, where NAME (passed through safe_file_name) cannot leave DIR. An empty directory
// means the current one and gives NAME alone.
std::string path_in_directory(std::string_view directory, std::string_view file_name);

// The whole choice for a URL: its output_name_for, inside `directory`, with wget's no-clobber
// ".1" rule applied to the full path.
std::string choose_output_path(const url_target& url, std::string_view directory,
                               const std::function<bool(const std::string&)>& exists);

}  // namespace mpfetch
