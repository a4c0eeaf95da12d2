// HTTP dates: the one format we send, the three formats we must read (RFC 9110 §5.6.7).
#include "mp/http_date.hpp"

#include <gtest/gtest.h>

namespace {

constexpr std::time_t rfc_example = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(mp::format_http_date(rfc_example), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(mp::format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDate, ParsesAllThreeFormsOfTheRfcExample) {
  EXPECT_EQ(mp::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), rfc_example);
  EXPECT_EQ(mp::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), rfc_example);
  EXPECT_EQ(mp::parse_http_date("Sun Nov  6 08:49:37 1994"), rfc_example);
}

TEST(HttpDate, RoundTripsAcrossYears) {
  for (std::time_t t : {std::time_t{0}, std::time_t{951782400}, std::time_t{4102444799}})
    EXPECT_EQ(mp::parse_http_date(mp::format_http_date(t)), t);
}

TEST(HttpDate, RejectsGarbage) {
  for (const char* bad : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMT junk",
                          "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT"})
    EXPECT_FALSE(mp::parse_http_date(bad)) << bad;
}

}  // namespace
