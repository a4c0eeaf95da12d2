#include "mp/http_date.hpp"

#include <cstdio>
#include <cstring>

namespace mp {

std::string format_http_date(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  if (text.size() != 29) return std::nullopt;
  std::string copy(text);
  std::tm tm{};
  // strptime is locale-dependent for names; the C locale is what every program here uses.
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return timegm(&tm);
}

}  // namespace mp
