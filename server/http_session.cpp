#include "http_session.hpp"

#include "path_resolver.hpp"

#include "mp/connection_info.hpp"
#include "mp/mptcp_socket.hpp"
#include "mp/http_date.hpp"
#include "mp/logging.hpp"
#include "mp/units.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <sstream>

namespace mpserve {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {
constexpr const char* server_name = "mpserve/" MP_VERSION;

std::string peer_text(const mp::mptcp::socket& socket) {
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return "?";
  return mp::socket_address{peer.address(), peer.port()}.to_string();
}
}  // namespace

http_session::http_session(mp::mptcp::socket socket, const server_context& context,
                           std::uint64_t id)
    : stream_(std::move(socket)), context_(context) {
  label_ = fmt::format("[#{} {}]", id, peer_text(stream_.socket()));
}

void http_session::run() {
  spdlog::debug("{} connected ({})", label_,
                mp::is_mptcp_connection(stream_.socket().native_handle()) ? "MPTCP" : "TCP");
  read_request();
}

void http_session::read_request() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(context_.config.header_limit));
  stream_.expires_after(context_.config.header_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](const error_code& ec, std::size_t) {
                     self->on_read(ec);
                   });
}

void http_session::on_read(const error_code& ec) {
  if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
      ec == boost::asio::error::connection_reset) {
    return close();
  }
  if (ec == beast::error::timeout) {
    spdlog::debug("{} closed: no complete request within {}s", label_,
                  context_.config.header_timeout.count());
    return close();
  }
  if (ec == http::error::header_limit) return send_error(http::status::request_header_fields_too_large, "request header too large");
  if (ec) {
    spdlog::debug("{} bad request: {}", label_, ec.message());
    return send_error(http::status::bad_request, "malformed request");
  }
  stream_.expires_never();
  handle_request();
}

void http_session::handle_request() {
  const auto& request = parser_->get();
  keep_alive_ = request.keep_alive();
  if (request.method() != http::verb::get && request.method() != http::verb::head)
    return send_error(http::status::method_not_allowed, "only GET and HEAD are supported");

  const auto resolved = resolve_target(request.target());
  if (const auto* error = std::get_if<target_error>(&resolved)) {
    return *error == target_error::bad_request
               ? send_error(http::status::bad_request, "malformed request target")
               : send_error(http::status::forbidden, "forbidden path");
  }
  std::error_code open_error;
  served_file file = open_beneath(context_.root.get(), std::get<resolved_target>(resolved).relative, open_error);
  if (open_error) {
    if (open_error.value() == ENOENT || open_error.value() == ENOTDIR)
      return send_error(http::status::not_found, "not found");
    return send_error(http::status::forbidden, "forbidden");
  }
  if (!S_ISREG(file.info.st_mode)) return send_error(http::status::forbidden, "not a regular file");
  send_file(std::move(file));
}

void http_session::send_file(served_file file) {
  const auto& request = parser_->get();
  const bool head = request.method() == http::verb::head;
  const auto size = static_cast<std::uint64_t>(file.info.st_size);

  http::response<http::empty_body> response{http::status::ok, request.version()};
  response.set(http::field::server, server_name);
  response.set(http::field::date, mp::format_http_date(std::time(nullptr)));
  response.set(http::field::content_type, "application/octet-stream");
  response.set(http::field::last_modified, mp::format_http_date(file.info.st_mtime));
  response.content_length(size);
  response.keep_alive(keep_alive_);
  std::ostringstream header;
  header << response.base();

  file_ = std::move(file);
  const std::uint64_t body = head ? 0 : size;
  if (body > 0) {
    mp::transfer_monitor::options options;
    options.label = fmt::format("{} {} {}", label_, request.method_string(), request.target());
    options.direction = mp::transfer_direction::send;
    options.interval = context_.config.progress_interval;
    options.total_bytes = body;
    monitor_ = mp::transfer_monitor::create(stream_.get_executor(), stream_.socket().native_handle(),
                                            options, [this] { return sender_.body_bytes_sent(); });
    monitor_->start();
  }
  sender_.start(stream_.socket(), header.str(), file_.fd.get(), 0, body,
                [self = shared_from_this()](const error_code& ec) { self->on_file_sent(ec); });
}

void http_session::on_file_sent(const error_code& ec) {
  const std::uint64_t sent = sender_.body_bytes_sent();
  file_ = served_file{};
  if (monitor_) {
    if (ec)
      monitor_->cancel();
    else
      monitor_->finish();
    monitor_.reset();
  }
  if (ec) {
    spdlog::info("{} transfer aborted after {}: {}", label_, mp::format_bytes(sent), ec.message());
    return close();
  }
  log_request(200, sent);
  finish_response(keep_alive_);
}

void http_session::send_error(http::status status, std::string_view reason) {
  const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  error_response_ = std::make_shared<error_response>(status, version);
  auto& response = *error_response_;
  response.set(http::field::server, server_name);
  response.set(http::field::date, mp::format_http_date(std::time(nullptr)));
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  if (status == http::status::method_not_allowed) response.set(http::field::allow, "GET, HEAD");
  const bool head = parser_ && parser_->is_header_done() && parser_->get().method() == http::verb::head;
  // A request that failed to parse leaves the stream in an unknown state: close after it.
  const bool request_complete = parser_ && parser_->is_done();
  keep_alive_ = keep_alive_ && request_complete;
  const std::string text = fmt::format("{} {}\n", static_cast<unsigned>(status), reason);
  if (!head) response.body() = text;
  response.content_length(text.size());  // HEAD: the length a GET would have had
  response.keep_alive(keep_alive_);
  log_request(static_cast<unsigned>(status), response.body().size());
  http::async_write(stream_, response,
                    [self = shared_from_this()](const error_code& ec, std::size_t) {
                      if (ec) return self->close();
                      self->finish_response(self->keep_alive_);
                    });
}

void http_session::finish_response(bool keep_alive) {
  if (keep_alive) return read_request();
  error_code ignored;
  stream_.socket().shutdown(mp::mptcp::socket::shutdown_send, ignored);
  close();
}

void http_session::log_request(unsigned status, std::uint64_t bytes) {
  if (!parser_ || !parser_->is_header_done()) {
    spdlog::info("{} \"-\" {} {}", label_, status, bytes);
    return;
  }
  const auto& request = parser_->get();
  spdlog::info("{} \"{} {}\" {} {}", label_, std::string(request.method_string()),
               std::string(request.target()), status, bytes);
}

void http_session::close() {
  error_code ignored;
  stream_.socket().close(ignored);
}

}  // namespace mpserve
