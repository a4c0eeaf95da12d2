#include "directory_listing.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mp/units.hpp"

namespace mpserve {

namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// "2026-11-25 22:14" in UTC, as nginx's autoindex shows it (nginx in local time by default).
std::string format_listing_time(std::time_t when, bool machine_form) {
  std::tm tm{};
  if (!gmtime_r(&when, &tm)) return {};
  const char* format =
      machine_form ? "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z" : "{:04}-{:02}-{:02} {:02}:{:02}";
  return fmt::format(fmt::runtime(format), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

void append_row(std::string& rows, const listing_entry& entry) {
  const std::string_view slash = entry.is_directory ? "/" : "";
  rows +=
      fmt::format(R"(<tr><td class="name"><a href="{}{}">{}{}</a></td>)",
                  percent_encode_path_segment(entry.name), slash, html_escape(entry.name), slash);
  if (entry.is_directory) {
    rows += R"(<td class="size">-</td>)";
  } else {
    rows += fmt::format(R"(<td class="size" data-bytes="{0}" title="{0} bytes">{1}</td>)",
                        entry.size, mp::format_bytes(entry.size));
  }
  const auto shown = format_listing_time(entry.modified, false);
  if (shown.empty()) {
    rows += R"(<td class="modified"></td></tr>)";
  } else {
    rows += fmt::format(R"(<td class="modified"><time datetime="{}">{}</time></td></tr>)",
                        format_listing_time(entry.modified, true), shown);
  }
  rows += '\n';
}

std::string render_rows(std::string_view url_path, std::vector<listing_entry> entries) {
  // Byte order, like nginx's autoindex (which is also case-sensitive and locale-free).
  std::sort(entries.begin(), entries.end(), [](const listing_entry& a, const listing_entry& b) {
    if (a.is_directory != b.is_directory) return a.is_directory;
    return a.name < b.name;
  });
  std::string rows;
  if (!url_path.empty() && url_path != "/")
    rows += R"(<tr><td class="name"><a href="../">../</a></td><td class="size">-</td>)"
            R"(<td class="modified"></td></tr>)"
            "\n";
  for (const auto& entry : entries) append_row(rows, entry);
  return rows;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string percent_encode_path_segment(std::string_view segment) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (const char c : segment) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte)) {
      out += c;
    } else {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0x0F];
    }
  }
  return out;
}

std::string render_directory_listing(std::string_view page_template, std::string_view url_path,
                                     std::vector<listing_entry> entries) {
  const std::string path = html_escape(url_path);
  const std::string title = "Index of " + path;
  const std::string rows = render_rows(url_path, std::move(entries));

  // One pass over the template, so text put in by a placeholder is never scanned again.
  std::string page;
  page.reserve(page_template.size() + rows.size());
  while (!page_template.empty()) {
    const auto open = page_template.find("{{");
    page += page_template.substr(0, open);
    if (open == std::string_view::npos) break;
    page_template.remove_prefix(open);
    const auto close = page_template.find("}}");
    const auto name = page_template.substr(2, close == std::string_view::npos ? 0 : close - 2);
    const std::string* value = name == "title"  ? &title
                               : name == "path" ? &path
                               : name == "rows" ? &rows
                                                : nullptr;
    if (value) {
      page += *value;
      page_template.remove_prefix(close + 2);
    } else {
      page += "{{";  // not one of ours: copied as it stands
      page_template.remove_prefix(2);
    }
  }
  return page;
}

}  // namespace mpserve
