#include "downloader.hpp"

#include "mp/connection_info.hpp"
#include "mp/logging.hpp"
#include "mp/mptcp_socket.hpp"
#include "mp/resolve.hpp"
#include "mp/units.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

namespace mpfetch {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {
// Large reads keep system calls few; the parser copies into this buffer, the file gets it.
constexpr std::size_t body_buffer_size = 1 << 20;

bool is_timeout(const error_code& ec) { return ec == beast::error::timeout; }
}  // namespace

downloader::downloader(boost::asio::any_io_executor executor, download_options options)
    : options_(std::move(options)), resolver_(executor), stream_(executor) {}

void downloader::start(std::function<void(const download_result&)> done) {
  done_ = std::move(done);
  resolver_.async_resolve(options_.url.host, options_.url.port,
                          [self = shared_from_this()](const error_code& ec, auto results) {
                            self->on_resolved(ec, results);
                          });
}

void downloader::on_resolved(const error_code& ec,
                             const boost::asio::ip::tcp::resolver::results_type& results) {
  if (ec) return finish(exit_network, "cannot resolve " + options_.url.host + ": " + ec.message());
  endpoints_ = mp::to_mptcp_endpoints(results);
  next_endpoint_ = 0;
  connect_next();
}

void downloader::connect_next() {
  if (next_endpoint_ >= endpoints_.size()) {
    return finish(exit_network, fmt::format("cannot connect to {}:{}: {}", options_.url.host,
                                            options_.url.port, last_connect_error_.message()));
  }
  const auto& endpoint = endpoints_[next_endpoint_++];
  error_code ec;
  if (stream_.socket().is_open()) stream_.socket().close(ec);
  const auto opened = mp::open_stream_socket(
      stream_.socket(), endpoint.address().is_v6() ? AF_INET6 : AF_INET, options_.mptcp, ec);
  if (ec) {
    if (!opened.fallback_reason.empty() && options_.mptcp == mp::mptcp_mode::on)
      return finish(exit_network, "--mptcp on: " + opened.fallback_reason);
    last_connect_error_ = ec;
    return connect_next();
  }
  if (!opened.fallback_reason.empty() && !fallback_reported_) {
    spdlog::warn("MPTCP unavailable, using TCP: {}", opened.fallback_reason);
    fallback_reported_ = true;
  }
  spdlog::debug("connecting to {}:{}", endpoint.address().to_string(), endpoint.port());
  stream_.expires_after(options_.connect_timeout);
  stream_.async_connect(endpoint, [self = shared_from_this()](const error_code& connect_error) {
    self->on_connected(connect_error);
  });
}

void downloader::on_connected(const error_code& ec) {
  if (ec) {
    last_connect_error_ = is_timeout(ec) ? boost::asio::error::timed_out : ec;
    return connect_next();
  }
  const int fd = stream_.socket().native_handle();
  std::error_code info_error;
  const auto stats = mp::query_connection(fd, info_error);
  spdlog::info("connected to {} over {}", options_.url.host_header,
               stats.mptcp ? fmt::format("MPTCP (token {:08x})", stats.token)
               : stats.fallback ? std::string("TCP (the server does not speak MPTCP)")
                                : std::string("TCP"));
  if (stats.mptcp && options_.on_mptcp_token) options_.on_mptcp_token(stats.token);

  request_ = {http::verb::get, options_.url.target, 11};
  request_.set(http::field::host, options_.url.host_header);
  request_.set(http::field::user_agent, options_.user_agent);
  request_.set(http::field::accept, "*/*");
  request_.set(http::field::accept_encoding, "identity");
  stream_.expires_after(options_.read_timeout);
  http::async_write(stream_, request_, [self = shared_from_this()](const error_code& write_error, std::size_t) {
    if (write_error) return self->finish(exit_network, "sending the request failed: " + write_error.message());
    self->parser_.emplace();
    self->parser_->body_limit(boost::none);
    self->stream_.expires_after(self->options_.read_timeout);
    http::async_read_header(self->stream_, self->buffer_, *self->parser_,
                            [self](const error_code& read_error, std::size_t) { self->on_header(read_error); });
  });
}

void downloader::on_header(const error_code& ec) {
  if (is_timeout(ec)) return finish(exit_network, "no response header within the read timeout");
  if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
      ec == boost::asio::error::connection_reset)
    return finish(exit_network, "the server closed the connection before answering");
  if (ec) return finish(exit_protocol, "malformed response header: " + ec.message());

  const auto& response = parser_->get();
  const unsigned status = response.result_int();
  spdlog::info("HTTP {} {}", status, std::string(response.reason()));
  if (status != 200)
    return finish(exit_server_error, fmt::format("server answered {} {}", status, std::string(response.reason())));

  std::error_code file_error;
  file_.open(options_.output_path, file_error);
  if (file_error) return finish(exit_file_io, "cannot write " + file_.part_path() + ": " + file_error.message());

  mp::transfer_monitor::options monitor_options;
  monitor_options.label = "[" + options_.output_path + "]";
  monitor_options.direction = mp::transfer_direction::receive;
  monitor_options.interval = options_.progress_interval;
  if (auto length = parser_->content_length()) monitor_options.total_bytes = *length;
  monitor_ = mp::transfer_monitor::create(stream_.get_executor(), stream_.socket().native_handle(),
                                          monitor_options, [this] { return bytes_; });
  monitor_->start();
  body_buffer_.resize(body_buffer_size);

  const auto length = parser_->content_length();
  if (length && !parser_->chunked()) {
    // A Content-Length body needs no parsing: take what came with the header, then read the
    // socket straight into the large buffer. (Through the parser every read would be sized by
    // the small header buffer, about 1 KiB: 250 000 reads for 256 MiB, and over MPTCP each
    // small read also costs a window update, which made downloads 10-30x slower.)
    remaining_ = *length;
    const auto early = buffer_.data();
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(early.size(), remaining_));
    if (take > 0 && !write_body(static_cast<const char*>(early.data()), take)) return;
    buffer_.consume(buffer_.size());
    return read_sized_body();
  }
  buffer_.reserve(body_buffer_size);  // chunked or close-delimited: the parser reads large too
  read_body();
}

bool downloader::write_body(const char* data, std::size_t size) {
  std::error_code file_error;
  file_.write(data, size, file_error);
  if (file_error) {
    monitor_->cancel();
    finish(exit_file_io, "cannot write " + file_.part_path() + ": " + file_error.message());
    return false;
  }
  bytes_ += size;
  remaining_ -= std::min<std::uint64_t>(remaining_, size);
  return true;
}

void downloader::complete_body() {
  monitor_->finish();
  std::error_code file_error;
  file_.commit(file_error);
  if (file_error) return finish(exit_file_io, "cannot finish " + file_.final_path() + ": " + file_error.message());
  finish(exit_ok, {});
}

void downloader::fail_body(const error_code& ec) {
  monitor_->cancel();
  const std::string where = fmt::format("after {} of the body", mp::format_bytes(bytes_));
  if (is_timeout(ec)) return finish(exit_network, "read timed out " + where);
  if (ec == http::error::partial_message || ec == boost::asio::error::eof)
    return finish(exit_network, "the connection closed early " + where + "; the partial body is in " + file_.part_path());
  finish(exit_network, "the transfer failed " + where + ": " + ec.message());
}

void downloader::read_sized_body() {
  if (remaining_ == 0) return complete_body();
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, body_buffer_.size()));
  stream_.expires_after(options_.read_timeout);
  stream_.async_read_some(boost::asio::buffer(body_buffer_.data(), want),
                          [self = shared_from_this()](const error_code& ec, std::size_t got) {
                            if (got > 0 && !self->write_body(self->body_buffer_.data(), got)) return;
                            if (ec) return self->fail_body(ec);
                            self->read_sized_body();
                          });
}

void downloader::read_body() {
  if (parser_->is_done()) return complete_body();
  auto& body = parser_->get().body();
  body.data = body_buffer_.data();
  body.size = body_buffer_.size();
  stream_.expires_after(options_.read_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_body(ec); });
}

void downloader::on_body(const error_code& ec) {
  const std::size_t got = body_buffer_.size() - parser_->get().body().size;
  if (got > 0 && !write_body(body_buffer_.data(), got)) return;
  if (ec && ec != http::error::need_buffer) return fail_body(ec);
  read_body();
}

void downloader::finish(int code, std::string message) {
  error_code ignored;
  stream_.socket().close(ignored);
  if (done_) {
    auto done = std::move(done_);
    done_ = nullptr;
    done(download_result{code, std::move(message), bytes_});
  }
}

}  // namespace mpfetch
