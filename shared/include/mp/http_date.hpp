#pragma once
// IMF-fixdate (RFC 9110 §5.6.7), the only date format we send; parsing also accepts the
// obsolete RFC 850 and asctime forms, as recipients must.

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace mp {

std::string format_http_date(std::time_t when);                     // "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace mp
