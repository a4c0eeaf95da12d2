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

namespace {

std::optional<std::time_t> parse_with(const std::string& text, const char* format) {
  std::tm tm{};
  // strptime is locale-dependent for names; the C locale is what every program here uses.
  const char* end = strptime(text.c_str(), format, &tm);
  if (!end || *end != '\0') return std::nullopt;
  return timegm(&tm);
}

}  // namespace

std::optional<std::time_t> parse_http_date(std::string_view text) {
  if (text.size() < 24 || text.size() > 40) return std::nullopt;
  const std::string copy(text);
  // RFC 9110 §5.6.7: recipients accept IMF-fixdate and the two obsolete forms.
  if (auto imf = parse_with(copy, "%a, %d %b %Y %H:%M:%S GMT")) return imf;
  if (auto rfc850 = parse_with(copy, "%A, %d-%b-%y %H:%M:%S GMT")) return rfc850;
  return parse_with(copy, "%a %b %e %H:%M:%S %Y");  // asctime
}

}  // namespace mp
