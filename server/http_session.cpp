#include "http_session.hpp"

#include "small_file_cache.hpp"

#include "mp/connection_info.hpp"
#include "mp/logging.hpp"
#include "mp/mptcp_socket.hpp"
#include "mp/units.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/read.hpp>

#include <fmt/format.h>

#include <algorithm>

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mpserve {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// How long a closing connection may still send us data we discard, so that the kernel does
// not answer it with a reset that destroys the response we just sent (nginx's lingering close).
constexpr auto linger_time = std::chrono::seconds(2);
// The first read of a keep-alive request: most requests fit, and the parser reads on if not.
constexpr std::size_t first_read_size = 4096;

// One cache per worker thread: nothing to lock on the request path. Servers with other roots
// or symlink rules in the same process (tests run several) may share it safely: an entry is
// used only when the path, resolved beneath the asking server's root by its rules, is the
// same file. Its size is the first server's setting.
small_file_cache* worker_file_cache(const server_config& config) {
  if (config.small_file_cache_entries == 0) return nullptr;
  thread_local small_file_cache cache(config.small_file_cache_entries, server_config::small_file_size_limit);
  return &cache;
}

body_method choose_body_method(const server_config& config, bool mptcp) {
  if (config.forced_body_method) return *config.forced_body_method;
  // Measured on Linux 6.18 (docs/transfer-methods.md): MPTCP has no zero-copy path, and its
  // sendfile reaches the socket 64 KiB at a time: pread+send with 1 MiB runs at 2.1x the
  // throughput for 44 % less CPU, and a send from a kept mapping of the file another tenth
  // faster for a tenth less CPU (one copy fewer). On TCP sendfile is zero-copy on a real NIC
  // and needs no buffer per connection (on loopback a copy is faster, but loopback copies anyway).
  return mptcp ? body_method::mapped : body_method::sendfile;
}

// The status line and fields as they go on the wire, written out by hand: an ostringstream
// per response means a locale-aware stream and extra allocations for every small request.
std::string serialize_header(const http::response<http::empty_body>& response) {
  std::string out;
  out.reserve(320);
  const auto reason = response.reason();
  out += response.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(response.result_int());
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& field : response) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out += ": ";
    out.append(value.data(), value.size());
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace

http_session::http_session(mp::mptcp::socket socket, server_state& server, std::uint64_t id)
    : stream_(std::move(socket)),
      server_(server),
      sender_(server.config.copy_buffer_size,
              std::chrono::duration_cast<std::chrono::milliseconds>(server.config.send_timeout)) {
  error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    const mp::socket_address address{peer.address(), peer.port()};
    const std::string text = address.to_string();
    client_ = text.substr(0, text.rfind(':'));
    if (!client_.empty() && client_.front() == '[') client_ = client_.substr(1, client_.size() - 2);
    label_ = fmt::format("[#{} {}]", id, text);
  } else {
    client_ = "-";
    label_ = fmt::format("[#{}]", id);
  }
}

http_session::~http_session() {
  if (token_) server_.forget_connection(token_);
  if (registered_)
    server_.remove_session(registration_);
  else
    server_.connection_closed();  // accepted, but the server stopped before it ran
}

void http_session::run() {
  registration_ = server_.add_session(weak_from_this());
  registered_ = true;
  // Nagle would hold a small body back until the client's delayed ACK: on MPTCP, MSG_MORE
  // does not keep the header for the body, so every small keep-alive response waited ~40 ms
  // (docs/benchmarks.md). The header still goes with MSG_MORE where the kernel honours it.
  error_code option_error;
  stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true), option_error);
  std::error_code info_error;
  const auto stats = mp::query_connection(stream_.socket().native_handle(), info_error);
  mptcp_ = stats.mptcp;
  if (mptcp_) {
    token_ = stats.token;
    server_.name_connection(token_, label_);
  }
  spdlog::debug("{} connected over {}", label_, mptcp_ ? "MPTCP" : "TCP");
  if (server_.tls_context) return start_tls();
  read_request();
}

void http_session::start_tls() {
  try {
    tls_ = std::make_unique<mp::tls_session>(server_.tls_context, mp::tls_session::role::server);
    if (server_.kernel_tls) tls_->offer_kernel_send(stream_.socket().native_handle());
  } catch (const std::bad_alloc&) {
    spdlog::warn("{} closed: no memory for a TLS session", label_);
    return close();
  }
  tls_reader_.emplace(stream_, *tls_);
  idle_ = true;  // no request has started: a graceful stop may close the connection
  // The handshake counts against the header timeout: a client that connects and sends no
  // ClientHello (or half of one) holds a descriptor and a few KiB for that long at most.
  stream_.expires_after(server_.config.header_timeout);
  mp::async_tls_handshake(stream_, *tls_, true, [self = shared_from_this()](const error_code& ec) {
    self->on_handshake(ec);
  });
}

void http_session::on_handshake(const error_code& ec) {
  stream_.expires_never();
  if (closed_) return;
  if (!ec) {
    if (spdlog::should_log(spdlog::level::debug))
      spdlog::debug("{} TLS: {} {}, encrypted {}{}{}", label_, SSL_get_version(tls_->native_handle()),
                    SSL_get_cipher_name(tls_->native_handle()),
                    tls_->kernel_sends() ? "by the kernel (kTLS)" : "in user space",
                    tls_->kernel_send_refusal().empty() ? "" : ": ", tls_->kernel_send_refusal());
    return read_request();
  }
  if (ec == mp::tls_error::plain_http) return answer_plain_http();
  if (ec == beast::error::timeout)
    spdlog::debug("{} closed: no TLS handshake in time", label_);
  else if (ec == mp::tls_error::handshake_failed)
    spdlog::info("{} TLS handshake failed: {}", label_, tls_->last_error());
  else
    spdlog::debug("{} closed during the TLS handshake: {}", label_, ec.message());
  close();
}

void http_session::answer_plain_http() {
  // Like nginx: a plain request on the HTTPS port gets a plain answer that says so, then the
  // connection closes. What was read stays unparsed: the log shows the status alone.
  tls_reader_.reset();
  tls_.reset();
  idle_ = false;
  keep_alive_ = false;
  spdlog::info("{} plain HTTP sent to the HTTPS port: answered 400", label_);
  send(plan_text(http::status::bad_request, 11, false,
                 "This port speaks HTTPS: the plain HTTP request was sent to an HTTPS port.\n"));
}

void http_session::stop_when_idle() {
  // Busy sessions see server_.stopping() when their response ends and close then. A request
  // that has started to arrive (the parser consumed some of it) is not idle.
  if (idle_ && buffer_.size() == 0 && !(parser_ && parser_->got_some())) close();
}

void http_session::force_close() {
  // Reset rather than close: the client learns at once that the transfer broke (and can
  // resume elsewhere or later) instead of waiting on bytes that will never come.
  error_code ignored;
  stream_.socket().set_option(boost::asio::socket_base::linger(true, 0), ignored);
  reset_ = true;
  sender_.abort();  // a transfer in flight ends now (on_sent logs it and closes)
  close();
}

void http_session::read_request() {
  if (server_.stopping()) return close();
  idle_ = true;
  parser_.reset();  // nothing of the next request has been read
  if (requests_ > 0 && buffer_.size() == 0) {
    // Between requests: the keep-alive timeout runs until the next request's first bytes, then
    // the request has the header timeout. This is an ordinary read into the request buffer:
    // Asio knows the last read drained the socket, so it waits for the kernel's readiness
    // event without a system call (socket::async_wait would re-arm epoll, one epoll_ctl per
    // request, and a second timer would cost a timerfd_settime: 8 instead of 6 system calls
    // per 1 KiB keep-alive request, measured with strace -c).
    stream_.expires_after(server_.config.keepalive_timeout);
    const std::size_t room = std::min<std::size_t>(first_read_size, buffer_.max_size());
    with_reader([&](auto& reader) {
      reader.async_read_some(buffer_.prepare(room),
                             [self = shared_from_this()](const error_code& ec, std::size_t n) {
                               self->buffer_.commit(n);
                               if (ec || self->closed_) {
                                 self->stream_.expires_never();
                                 return self->close();  // idle for too long, or the client left
                               }
                               self->start_read();
                             });
    });
    return;
  }
  start_read();
}

void http_session::start_read() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_.config.header_limit));
  parser_->body_limit(server_.config.request_body_limit);
  // The idle wait between requests has its own timer; once a request starts to arrive, it has
  // the header timeout to complete.
  stream_.expires_after(server_.config.header_timeout);
  with_reader([&](auto& reader) {
    http::async_read(reader, buffer_, *parser_, [self = shared_from_this()](const error_code& ec, std::size_t) {
      self->on_read(ec);
    });
  });
}

void http_session::on_read(const error_code& ec) {
  idle_ = false;
  stream_.expires_never();
  if (closed_) return;
  if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
      ec == boost::asio::error::connection_reset || ec == boost::asio::error::operation_aborted ||
      ec == mp::tls_error::truncated)  // many clients close TLS without close_notify
    return close();
  if (ec == mp::tls_error::protocol) {
    spdlog::debug("{} closed: {}", label_, tls_->last_error());
    return close();
  }
  if (ec == beast::error::timeout) {
    // Like nginx: a client that sends no (complete) request in time gets no answer.
    spdlog::debug("{} closed: no complete request in time", label_);
    return close();
  }
  keep_alive_ = false;  // after a parse error the stream position is unknown
  if (ec == http::error::header_limit) {
    // The parser consumes the request line as soon as it is complete; if it never got one,
    // the line alone was over the limit: an overlong target (414). Otherwise the fields (431).
    const bool line_too_long = parser_->get().target().empty();
    return answer_error(line_too_long ? http::status::uri_too_long
                                      : http::status::request_header_fields_too_large);
  }
  if (ec == http::error::body_limit) return answer_error(http::status::payload_too_large);
  if (ec) {
    spdlog::debug("{} malformed request: {}", label_, ec.message());
    return answer_error(http::status::bad_request);
  }
  ++requests_;
  handle_request();
}

void http_session::handle_request() {
  const auto& request = parser_->get();
  keep_alive_ = request.keep_alive() && !server_.stopping();
  if (const auto refused = refuse_request(request, parser_->chunked(), server_.config.target_limit)) {
    if (refused->close) keep_alive_ = false;
    return answer_error(refused->status);
  }
  admit_request(request, admitted_);
  send(plan_static_response(admitted_.view, server_.root.get(), server_.config, worker_file_cache(server_.config)));
}

void http_session::answer_error(http::status status) {
  const bool header_read = parser_ && parser_->is_header_done();
  const unsigned version = header_read ? parser_->get().version() : 11;
  const bool head = header_read && parser_->get().method() == http::verb::head;
  // Unless the request was read whole, its end is unknown: close after answering.
  if (!(parser_ && parser_->is_done())) keep_alive_ = false;
  send(plan_error(status, version, head));
}

void http_session::send(response_plan plan) {
  plan_ = std::move(plan);
  plan_.header.keep_alive(keep_alive_);
  std::vector<response_piece> pieces;
  pieces.reserve(plan_.body.size() + 1);
  pieces.push_back({serialize_header(plan_.header), 0, 0});
  header_size_ = pieces.front().bytes.size();
  for (auto& piece : plan_.body) pieces.push_back(std::move(piece));
  plan_.body.clear();
  // A small body goes out with its header in one send: fewer system calls per request, and
  // no chance for the header to leave alone in a segment of its own. (The same limit as the
  // small-file cache's, so every file it holds leaves this way.)
  constexpr std::uint64_t inline_body_limit = server_config::small_file_size_limit;
  if (pieces.size() == 2 && pieces[1].length == 0 && pieces[1].bytes.size() <= inline_body_limit) {
    pieces[0].bytes += pieces[1].bytes;  // from memory: an error page or a cached small file
    pieces.pop_back();
  } else if (pieces.size() == 2 && pieces[1].bytes.empty() && pieces[1].length > 0 &&
             pieces[1].length <= inline_body_limit) {
    auto& head = pieces[0].bytes;
    const std::size_t header_length = head.size();
    head.resize(header_length + pieces[1].length);
    const ssize_t got = ::pread(plan_.file.fd.get(), head.data() + header_length, pieces[1].length,
                                static_cast<off_t>(pieces[1].offset));
    if (got == static_cast<ssize_t>(pieces[1].length)) {
      pieces.pop_back();
    } else {
      head.resize(header_length);  // a short read: let the sender take the usual path
    }
  }

  const bool file_pieces = std::any_of(pieces.begin(), pieces.end(), [](const auto& p) { return p.length > 0; });
  file_body body{plan_.file.fd.get(), choose_body_method(server_.config, mptcp_), nullptr};
  // TLS in user space encrypts through its own small batches (response_sender): no copy
  // buffer and no mapping, which OpenSSL would read. Encrypted by the kernel, the socket
  // takes plaintext like any other.
  const bool user_space_tls = tls_ && !tls_->kernel_sends();
  if (body.method == body_method::mapped && file_pieces && !user_space_tls) {
    // Small files are not worth a mapping of their own; a failed one is logged and the body copied.
    if (plan_.file.info.st_size >= static_cast<off_t>(server_config::mapped_file_min_size)) {
      std::error_code map_error;
      body.mapping = server_.mappings.acquire(body.fd, plan_.file.info, map_error);
      if (map_error)  // once a minute per file at most: the cache remembers the failure
        spdlog::warn("{} cannot map the file, copying it instead: {}", label_, map_error.message());
    }
    if (!body.mapping) body.method = body_method::copy;
  }
  if (body.method == body_method::copy && file_pieces && !user_space_tls) {
    copy_leased_ = server_.lease_copy_buffer();
    if (!copy_leased_) body.method = body_method::sendfile;  // the copy memory budget is spent
  }
  // Sampling the kernel costs a handful of system calls at start and end: worth it for a
  // transfer that may last an interval, not for a small file that leaves in one write.
  constexpr std::uint64_t monitored_min_bytes = 128 * 1024;
  if (plan_.file_bytes >= monitored_min_bytes) {
    mp::transfer_monitor::options options;
    const auto& target = parser_->get().target();
    options.label = fmt::format("{} {} {}", label_, std::string(parser_->get().method_string()),
                                std::string(target.data(), target.size()));
    options.direction = mp::transfer_direction::send;
    options.interval = server_.config.progress_interval;
    options.total_bytes = plan_.file_bytes;
    options.summary_min_bytes = 1 << 20;
    options.note = user_space_tls ? std::string("encrypted in user space")
                                  : fmt::format("{}sent by {}", tls_ ? "encrypted by the kernel, " : "", to_string(body.method));
    options.mptcp_expected = server_.listener_is_mptcp;
    monitor_ = mp::transfer_monitor::create(stream_.get_executor(), stream_.socket().native_handle(),
                                            options, [this] { return sender_.file_bytes_sent(); });
    monitor_->start();
  }
  // (Checked first: the arguments would be formatted on every request even when not logged.)
  if (plan_.file_bytes > 0 && spdlog::should_log(spdlog::level::debug))
    spdlog::debug("{} sending {} by {} over {}{}", label_, mp::format_bytes(plan_.file_bytes),
                  user_space_tls ? "TLS records" : to_string(body.method), mptcp_ ? "MPTCP" : "TCP",
                  !tls_ ? "" : user_space_tls ? ", encrypted in user space" : ", encrypted by the kernel");
  sender_.start(stream_.socket(), std::move(pieces), std::move(body), shared_from_this(),
                // `this`, not a shared_ptr: the sender is ours, so a strong reference kept in it
                // would be a cycle; its pending handlers hold the session while it sends.
                [this](const error_code& ec) { on_sent(ec); }, tls_.get());
}

void http_session::on_sent(const error_code& ec) {
  if (copy_leased_) {
    server_.return_copy_buffer();
    copy_leased_ = false;
  }
  if (monitor_) {
    if (ec)
      monitor_->cancel();
    else
      monitor_->finish();
    monitor_.reset();
  }
  const std::uint64_t sent = sender_.bytes_sent();
  log_access(plan_.header.result_int(), sent > header_size_ ? sent - header_size_ : 0);
  plan_.file = served_file{};
  if (ec == boost::asio::error::fault) {
    // Sent from a mapping, a file that shrank can leave the MPTCP connection unable to send
    // its FIN after a short body (seen on 6.18), and a truncation racing the last send may
    // have put zeros on the wire: a reset tells the client at once that the body is broken.
    spdlog::info("{} transfer aborted after {}: the file shrank while it was sent, or could not be read",
                 label_, mp::format_bytes(sender_.file_bytes_sent()));
    return force_close();  // the sender is done already: only the reset and the close remain
  }
  if (ec) {
    spdlog::info("{} transfer aborted after {}: {}", label_, mp::format_bytes(sender_.file_bytes_sent()),
                 ec == boost::asio::error::timed_out ? "the client stopped reading" : ec.message());
    return close();
  }
  if (keep_alive_ && !server_.stopping()) return read_request();
  linger_close();
}

void http_session::log_access(unsigned status, std::uint64_t body_bytes) {
  const bool header_read = parser_ && parser_->is_header_done();
  std::string request_line;
  std::string_view referer, user_agent;
  if (header_read) {
    const auto& request = parser_->get();
    const auto& target = request.target();
    request_line = fmt::format("{} {} HTTP/{}.{}", std::string(request.method_string()),
                               std::string(target.data(), target.size()), request.version() / 10,
                               request.version() % 10);
    referer = field_value(request, http::field::referer);
    user_agent = field_value(request, http::field::user_agent);
  }
  server_.log->write({client_, std::time(nullptr), request_line, status, body_bytes, referer, user_agent});
}

void http_session::linger_close() {
  // Encrypted by the kernel, a send counts as done once the kernel has made the records, and
  // those TCP had no room for yet wait in its TLS layer (a kernel work item pushes them when
  // the client acknowledges). A FIN now would overtake them, since shutdown queues it at once,
  // and cut the response short. So first wait until TCP has sent everything and the client
  // has acknowledged it; close_notify then takes along whatever still waited.
  if (tls_ && tls_->kernel_sends())
    return wait_for_kernel_tls_records(std::chrono::steady_clock::now() + server_.config.send_timeout, -1);
  shutdown_and_linger();
}

void http_session::wait_for_kernel_tls_records(std::chrono::steady_clock::time_point give_up, int queued_before) {
  if (closed_) return;
  int queued = 0;  // bytes TCP holds that the client has not acknowledged
  const auto now = std::chrono::steady_clock::now();
  if (::ioctl(stream_.socket().native_handle(), SIOCOUTQ, &queued) != 0 || queued == 0 || now >= give_up)
    return shutdown_and_linger();
  // A client that still takes data gets --send-timeout from its last progress, as in sending.
  if (queued_before >= 0 && queued < queued_before) give_up = now + server_.config.send_timeout;
  if (!drain_timer_) drain_timer_.emplace(stream_.get_executor());
  drain_timer_->expires_after(std::chrono::milliseconds(10));
  drain_timer_->async_wait([self = shared_from_this(), give_up, queued](const error_code& ec) {
    if (!ec) self->wait_for_kernel_tls_records(give_up, queued);
  });
}

void http_session::shutdown_and_linger() {
  // Send our FIN, then read and drop what the client still sends until it closes or the
  // linger time is over, so unread request bytes do not turn into a reset.
  error_code ignored;
  send_close_notify();
  stream_.socket().shutdown(mp::mptcp::socket::shutdown_send, ignored);
  stream_.expires_after(linger_time);  // one deadline for the whole drain
  linger_read();
}

void http_session::linger_read() {
  stream_.async_read_some(boost::asio::buffer(linger_buffer_),
                          [self = shared_from_this()](const error_code& ec, std::size_t) {
                            if (ec || self->closed_) return self->close();
                            self->linger_read();
                          });
}

void http_session::send_close_notify() {
  // close_notify tells the client that the connection ended here and was not cut off, and
  // OpenSSL keeps the session resumable only after it (a connection that just stops may
  // have been truncated by an attacker). Best effort: one non-blocking send.
  if (!tls_ || close_notify_sent_ || !tls_->handshake_done()) return;
  close_notify_sent_ = true;
  tls_->close();
  const auto notify = tls_->output();
  if (!notify.empty())
    ::send(stream_.socket().native_handle(), notify.data(), notify.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void http_session::close() {
  if (closed_) return;
  closed_ = true;
  if (drain_timer_) drain_timer_->cancel();
  if (!reset_) send_close_notify();
  error_code ignored;
  stream_.socket().shutdown(mp::mptcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

}  // namespace mpserve
