#pragma once
// File name to Content-Type, from a table compiled in: nginx's mime.types plus the types a
// download server meets (disk images, compressors, signatures, checksums).

#include <string_view>

namespace mpserve {

inline constexpr std::string_view default_mime_type = "application/octet-stream";

// Case-insensitive on the last extension ("a.tar.XZ" -> application/x-xz). No extension, a
// leading-dot-only name (".bashrc") or an unknown extension gives default_mime_type. Text types
// carry no charset, as nginx sends them without `charset` configured.
std::string_view mime_type_for(std::string_view file_name);

}  // namespace mpserve
