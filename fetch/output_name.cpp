#include "output_name.hpp"

namespace mpfetch {

namespace {

constexpr std::size_t max_kept_extension_bytes = 32;

bool unsafe_in_file_name(unsigned char c) { return c == '/' || c == '\\' || c < 0x20 || c == 0x7f; }

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// The first `limit` bytes of `text`, or fewer so as not to end inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t cut = limit;
  while (cut > 0 && is_utf8_continuation(text[cut])) --cut;
  return text.substr(0, cut);
}

std::string cap_length(std::string name) {
  if (name.size() <= max_output_name_bytes) return name;
  const auto dot = name.rfind('.');
  std::string_view extension;
  // A leading dot is a hidden name, not an extension.
  if (dot != std::string::npos && dot > 0 && name.size() - dot <= max_kept_extension_bytes)
    extension = std::string_view(name).substr(dot);
  const std::string_view stem = std::string_view(name).substr(0, name.size() - extension.size());
  std::string capped(utf8_prefix(stem, max_output_name_bytes - extension.size()));
  capped += extension;
  return capped;
}

}  // namespace

std::string safe_file_name(std::string_view decoded_segment) {
  std::string name(decoded_segment);
  for (auto& c : name) {
    if (unsafe_in_file_name(static_cast<unsigned char>(c))) c = '_';
  }
  if (name.empty() || name == "." || name == "..") return "index.html";
  return cap_length(std::move(name));
}

std::string path_in_directory(std::string_view directory, std::string_view file_name) {
  std::string name = safe_file_name(file_name);
  if (directory.empty()) return name;
  std::string path(directory);
  if (path.back() != '/') path += '/';
  return path + name;
}

std::string choose_output_path(const url_target& url, std::string_view directory,
                               const std::function<bool(const std::string&)>& exists) {
  return unused_name(path_in_directory(directory, output_name_for(url)), exists);
}

}  // namespace mpfetch
