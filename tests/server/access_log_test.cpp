// The combined log format, and that a request cannot forge or break a log line.
#include "access_log.hpp"

#include <gtest/gtest.h>

namespace {

TEST(AccessLog, FormatsTheCombinedLogFormat) {
  mpserve::access_record record;
  record.client = "192.0.2.7";
  record.time = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  record.request_line = "GET /a.iso HTTP/1.1";
  record.status = 206;
  record.body_bytes = 1048576;
  record.referer = "http://example.org/";
  record.user_agent = "curl/7.88.1";
  EXPECT_EQ(mpserve::format_combined(record),
            "192.0.2.7 - - [06/Nov/1994:08:49:37 +0000] \"GET /a.iso HTTP/1.1\" 206 1048576 "
            "\"http://example.org/\" \"curl/7.88.1\"");
}

TEST(AccessLog, MissingFieldsAreDashes) {
  mpserve::access_record record;
  record.client = "2001:db8::1";
  record.status = 400;
  EXPECT_EQ(mpserve::format_combined(record),
            "2001:db8::1 - - [01/Jan/1970:00:00:00 +0000] \"-\" 400 0 \"-\" \"-\"");
}

TEST(AccessLog, QuotesControlBytesAndNonAsciiAreEscaped) {
  mpserve::access_record record;
  record.client = "127.0.0.1";
  record.request_line = "GET /\"\n127.0.0.1 - - forged HTTP/1.1";
  record.user_agent = "a\\b\x7f\xc3\xa9";
  record.status = 404;
  const std::string line = mpserve::format_combined(record);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("\"GET /\\x22\\x0A127.0.0.1 - - forged HTTP/1.1\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"a\\x5Cb\\x7F\\xC3\\xA9\""), std::string::npos) << line;
}

}  // namespace
