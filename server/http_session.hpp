#pragma once
// One client connection: read a request, answer it, and go on while keep-alive holds
// (pipelined requests are answered in order from what is already buffered). Its lifetime is
// the chain of completion handlers, each holding a shared_ptr to it. All of its handlers run
// on one single-threaded io_context, so it needs no locks.

#include "request_admission.hpp"
#include "response_sender.hpp"
#include "server_state.hpp"
#include "static_responder.hpp"

#include "mp/mptcp_protocol.hpp"
#include "mp/tls_io.hpp"
#include "mp/tls_session.hpp"
#include "mp/transfer_monitor.hpp"

#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>
#include <memory>
#include <optional>

namespace mpserve {

// A request body we do not want (GET/HEAD may carry one): counted against the limit, dropped.
struct discard_body {
  struct value_type {};
  class reader {
  public:
    template <bool is_request, class Fields>
    reader(boost::beast::http::header<is_request, Fields>&, value_type&) {}
    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }
    template <class Buffers>
    std::size_t put(const Buffers& buffers, boost::beast::error_code& ec) {
      ec = {};
      return boost::asio::buffer_size(buffers);
    }
    void finish(boost::beast::error_code& ec) { ec = {}; }
  };
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(mp::mptcp::socket socket, server_state& server, std::uint64_t id);
  ~http_session();
  void run();

  // Graceful stop: an idle connection closes now, a busy one after its current response.
  // Call on the session's own executor.
  void stop_when_idle();
  // The grace period is over: end whatever is running. Call on the session's own executor.
  void force_close();
  boost::asio::any_io_executor get_executor() { return stream_.get_executor(); }

private:
  using request_parser = boost::beast::http::request_parser<discard_body>;
  using stream_type = boost::beast::basic_stream<mp::mptcp>;

  // Calls f with what requests are read from: the TCP stream, or the TLS reader over it.
  template <class F>
  void with_reader(F&& f) {
    if (tls_reader_)
      f(*tls_reader_);
    else
      f(stream_);
  }

  void start_tls();
  void on_handshake(const boost::system::error_code& ec);
  void answer_plain_http();
  void read_request();
  void start_read();
  void on_read(const boost::system::error_code& ec);
  void handle_request();
  void answer_error(boost::beast::http::status status);
  void send(response_plan plan);
  void on_sent(const boost::system::error_code& ec);
  void log_access(unsigned status, std::uint64_t body_bytes);
  void linger_close();
  void wait_for_kernel_tls_records(std::chrono::steady_clock::time_point give_up, int queued_before);
  void shutdown_and_linger();
  void linger_read();
  void send_close_notify();
  void close();

  stream_type stream_;
  server_state& server_;
  std::unique_ptr<mp::tls_session> tls_;                 // HTTPS only
  std::optional<mp::tls_stream<stream_type>> tls_reader_;
  server_state::registration registration_;
  bool registered_ = false;
  std::string label_;   // "[#3 127.0.0.1:41234]"
  std::string client_;  // "127.0.0.1"
  bool mptcp_ = false;
  std::uint32_t token_ = 0;  // MPTCP token, 0 for TCP
  admitted_request admitted_;  // the current request as the responder sees it
  boost::beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  response_plan plan_;
  response_sender sender_;
  std::shared_ptr<mp::transfer_monitor> monitor_;
  std::uint64_t requests_ = 0;
  std::size_t header_size_ = 0;  // of the response being sent, to count body bytes
  bool idle_ = false;        // waiting for the next request, none of it read yet
  bool keep_alive_ = false;
  bool copy_leased_ = false;             // holds one of the server's copy buffers
  bool closed_ = false;
  bool reset_ = false;              // force_close: no close_notify, the reset says it all
  bool close_notify_sent_ = false;
  std::array<char, 4096> linger_buffer_{};
  std::optional<boost::asio::steady_timer> drain_timer_;  // kTLS: before the FIN (linger_close)
};

}  // namespace mpserve
