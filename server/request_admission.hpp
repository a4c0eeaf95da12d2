#pragma once
// What mpserve decides about a parsed request before it looks at the disk: whether to refuse
// it (and with which status), and the view of it that the static responder plans from. Pure:
// no sockets, no files, so it is unit-tested and fuzzed alone.

#include "static_responder.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>

#include <optional>
#include <string>

namespace mpserve {

// The request's list headers joined (a list sent as several lines is one list) and the
// view's other fields, which point into the request and into this object.
struct admitted_request {
  std::string if_match, if_none_match;
  request_view view;
};

// nullopt: serve it. Otherwise the status to answer with; `close` is set when the stream
// position is no longer trustworthy (request smuggling attempts).
struct refusal {
  boost::beast::http::status status;
  bool close = false;
};

// `chunked`: the parser saw Transfer-Encoding ending in chunked.
std::optional<refusal> refuse_request(const boost::beast::http::request_header<>& request, bool chunked,
                                      std::size_t target_limit);

// A field's value, or empty when the request has none.
std::string_view field_value(const boost::beast::http::fields& fields, boost::beast::http::field name);

// Fills `out` from `request` (which must outlive it).
void admit_request(const boost::beast::http::request_header<>& request, admitted_request& out);

}  // namespace mpserve
