#include "terminal_text.hpp"

namespace mpfetch {

namespace {

constexpr std::string_view ellipsis = "\xe2\x80\xa6";  // U+2026, one column

bool continues_sequence(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// Bytes of the first `columns` code points of `text`.
std::size_t bytes_for_columns(std::string_view text, std::size_t columns) {
  std::size_t i = 0;
  for (std::size_t seen = 0; i < text.size(); ++i) {
    if (!continues_sequence(text[i]) && seen++ == columns) break;
  }
  return i;
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t columns = 0;
  for (const char c : text) columns += continues_sequence(c) ? 0 : 1;
  return columns;
}

std::string printable(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return out;
}

std::string truncate_to_width(std::string_view text, std::size_t columns) {
  if (display_width(text) <= columns) return std::string(text);
  if (columns == 0) return {};
  std::string out(text.substr(0, bytes_for_columns(text, columns - 1)));
  out += ellipsis;
  return out;
}

std::string fit_to_width(std::string_view text, std::size_t columns, bool left_align) {
  std::string out = truncate_to_width(text, columns);
  const std::string padding(columns - display_width(out), ' ');
  return left_align ? out + padding : padding + out;
}

}  // namespace mpfetch
