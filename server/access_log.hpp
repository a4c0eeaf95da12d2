#pragma once
// The access log in the combined log format (what nginx and Apache write, what log tools read):
//   127.0.0.1 - - [25/Nov/2026:22:14:55 +0000] "GET /a.iso HTTP/1.1" 200 1048576 "-" "curl/7.88.1"
// to the console log (default), standard output ("-") or a file.

#include <spdlog/logger.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

namespace mpserve {

struct access_record {
  std::string_view client;        // address only, no port
  std::time_t time = 0;
  std::string_view request_line;  // "GET /x HTTP/1.1", or "" when none was read
  unsigned status = 0;
  std::uint64_t body_bytes = 0;   // body bytes sent (nginx's $body_bytes_sent)
  std::string_view referer;
  std::string_view user_agent;
};

// One line, no newline. Quotes, backslashes and control bytes inside quoted fields are
// escaped as \xHH, as nginx does, so a request cannot forge a log line.
std::string format_combined(const access_record& record);

class access_log {
public:
  // `destination`: "" for the console log, "-" for standard output, "off" for none, else a
  // file path (appended to). Throws std::runtime_error with one clear line if the file cannot
  // be opened.
  explicit access_log(const std::string& destination);
  void write(const access_record& record);

private:
  std::shared_ptr<spdlog::logger> logger_;  // null: the console log
  bool off_ = false;
};

}  // namespace mpserve
