#pragma once
// HTML directory listings, like nginx's autoindex and Python's http.server, pure: the entries
// (already read and filtered by the caller) and a page template in, the page out.

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace mpserve {

struct listing_entry {
  std::string name;  // one path segment, raw bytes as on disk
  bool is_directory = false;
  std::uint64_t size = 0;  // ignored for directories
  std::time_t modified = 0;
};

// Escapes & < > " ' so that text is safe in element content and quoted attributes.
std::string html_escape(std::string_view text);

// Keeps RFC 3986 unreserved bytes (ALPHA DIGIT - . _ ~) and writes every other byte as %XX, so
// that a name with ':', '?', '#', '%' or '/' stays one relative path segment in an href.
std::string percent_encode_path_segment(std::string_view segment);

// Fills {{title}}, {{path}} and {{rows}} in `page_template` (see www/listing.html). `url_path`
// is the decoded request path of the directory, ending in '/'. Directories come first, then
// files, each sorted by name in byte order; a "../" row leads unless `url_path` is "/".
std::string render_directory_listing(std::string_view page_template, std::string_view url_path,
                                     std::vector<listing_entry> entries);

}  // namespace mpserve
