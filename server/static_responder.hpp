#pragma once
// Decides the response to a GET or HEAD of the served directory, as nginx's static, index,
// autoindex, range and not-modified modules together would: which status, which headers,
// and which pieces (bytes and file ranges) make the body. It opens files but never touches
// a socket, so every decision is testable against a real directory without a network.

#include "response_sender.hpp"
#include "served_file.hpp"
#include "server_config.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mpserve {

struct request_view {
  bool head = false;  // HEAD: same headers as GET, no body
  std::string_view target;
  unsigned version = 11;
  // Conditional and range headers, absent when empty.
  std::string_view if_match, if_none_match, if_modified_since, if_unmodified_since, if_range;
  std::string_view range;
};

struct response_plan {
  boost::beast::http::response<boost::beast::http::empty_body> header;
  std::vector<response_piece> body;  // empty for HEAD and bodiless statuses
  served_file file;                  // keeps the file open while the body is sent
  std::uint64_t file_bytes = 0;      // how much of the body comes from the file
  std::string detail;                // for the log: "range 0-99", "listing", "index.html"
};

// Status code for answers that are not about a file (400, 405, 413, 414, 431, 500, ...).
response_plan plan_error(boost::beast::http::status status, unsigned version, bool head);
// A short text/plain answer (plain HTTP sent to the HTTPS port).
response_plan plan_text(boost::beast::http::status status, unsigned version, bool head, std::string text);

class small_file_cache;

// Serves `request` from `root` (an O_PATH descriptor of the served directory). With `cache`,
// small files are answered from it while unchanged, and read into it when opened.
response_plan plan_static_response(const request_view& request, int root, const server_config& config,
                                   small_file_cache* cache = nullptr);

}  // namespace mpserve
