#include "request_admission.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/range/iterator_range.hpp>

namespace mpserve {

namespace http = boost::beast::http;

namespace {

// A list header sent as several lines is one list (RFC 9110 §5.3): join them with ", ".
std::string joined_header(const http::fields& fields, http::field name) {
  std::string joined;
  for (const auto& line : boost::make_iterator_range(fields.equal_range(name))) {
    if (!joined.empty()) joined += ", ";
    joined.append(line.value().data(), line.value().size());
  }
  return joined;
}

}  // namespace

std::string_view field_value(const http::fields& fields, http::field name) {
  const auto it = fields.find(name);
  return it == fields.end() ? std::string_view{} : std::string_view(it->value().data(), it->value().size());
}

std::optional<refusal> refuse_request(const http::request_header<>& request, bool chunked,
                                      std::size_t target_limit) {
  if (request.version() >= 20 || request.version() < 10) return refusal{http::status::http_version_not_supported};
  // Framing that two parsers could read differently is how requests get smuggled past a
  // proxy (RFC 9112 §6.1, §6.3): Transfer-Encoding that is not "chunked" last, chunked on
  // HTTP/1.0, or Transfer-Encoding together with Content-Length. Refuse and close.
  const bool has_transfer_encoding = request.find(http::field::transfer_encoding) != request.end();
  if (has_transfer_encoding &&
      (!chunked || request.version() < 11 || request.find(http::field::content_length) != request.end()))
    return refusal{http::status::bad_request, true};
  if (request.target().size() > target_limit) return refusal{http::status::uri_too_long};
  const auto hosts = request.count(http::field::host);
  if ((request.version() >= 11 && hosts == 0) || hosts > 1)
    return refusal{http::status::bad_request};  // RFC 9112 §3.2: exactly one Host in 1.1
  if (request.method() != http::verb::get && request.method() != http::verb::head)
    return refusal{http::status::method_not_allowed};
  return std::nullopt;
}

void admit_request(const http::request_header<>& request, admitted_request& out) {
  request_view& view = out.view;
  view = {};
  view.head = request.method() == http::verb::head;
  view.target = std::string_view(request.target().data(), request.target().size());
  // Absolute form ("GET http://host/path"), which servers must accept (RFC 9112 §3.2.2):
  // the path and query are what we serve.
  if (view.target.rfind("http://", 0) == 0 || view.target.rfind("https://", 0) == 0) {
    const auto path_start = view.target.find('/', view.target.find("//") + 2);
    view.target = path_start == std::string_view::npos ? std::string_view("/") : view.target.substr(path_start);
  }
  view.version = request.version();
  out.if_match = joined_header(request, http::field::if_match);
  out.if_none_match = joined_header(request, http::field::if_none_match);
  view.if_match = out.if_match;
  view.if_none_match = out.if_none_match;
  view.if_modified_since = field_value(request, http::field::if_modified_since);
  view.if_unmodified_since = field_value(request, http::field::if_unmodified_since);
  view.if_range = field_value(request, http::field::if_range);
  view.range = field_value(request, http::field::range);
}

}  // namespace mpserve
