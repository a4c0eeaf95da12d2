#pragma once
// Text measured in terminal columns, for lines that must fit the screen: pure, no I/O.
// A column is one UTF-8 code point; double-width (CJK, emoji) and combining characters are
// not told apart, which errs at most by a few columns on such names.

#include <cstddef>
#include <string>
#include <string_view>

namespace mpfetch {

// Columns `text` takes: its UTF-8 code points (bytes that do not continue a sequence).
std::size_t display_width(std::string_view text);

// `text` with control bytes (C0, DEL) shown as '?': a URL or an address must not be able to
// move the cursor or change colours on the user's terminal.
std::string printable(std::string_view text);

// `text` cut to at most `columns`, ending in "…" when cut, never splitting a UTF-8 sequence.
std::string truncate_to_width(std::string_view text, std::size_t columns);

// truncate_to_width, then padded with spaces on the right (left_align) or left to `columns`.
std::string fit_to_width(std::string_view text, std::size_t columns, bool left_align = true);

}  // namespace mpfetch
