#pragma once
// One client connection to an HTTP origin: resolve, connect over MPTCP (or the fallback the
// mode allows) trying each address in turn, and for https a TLS handshake with SNI, hostname
// verification and the system trust store (TLS 1.2 or newer). Reads and writes go through
// visit(), which hands the plain or the TLS stream to a generic lambda, so Beast's algorithms
// work on either. A connection can be reused for the next request to the same origin.
//
// TLS runs through mp::tls_session rather than Asio's ssl::stream: a read decrypts every whole
// record that has arrived into the caller's buffer, where ssl::stream completes once per 16 KiB
// record (and the downloader wrote the file once per record). Over MPTCP OpenSSL receives the
// records straight from the socket; over TCP they come 32 KiB at a time through the session.

#include "url_target.hpp"

#include "mp/mptcp_mode.hpp"
#include "mp/mptcp_protocol.hpp"
#include "mp/tls_io.hpp"
#include "mp/tls_session.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/basic_stream.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mpfetch {

struct tls_options {
  bool verify = true;           // --no-check-certificate turns it off
  std::string ca_certificate;   // --ca-certificate FILE, in addition to the system store
};

// Why a connection attempt failed, so the caller can pick wget's exit code.
enum class connect_failure { none, resolve, connect, tls_verify, tls_other, mptcp_refused };

struct connect_outcome {
  connect_failure failure = connect_failure::none;
  std::string message;  // one line for the user
};

class http_connection {
public:
  using plain_stream = boost::beast::basic_stream<mp::mptcp>;
  using tls_stream = mp::tls_stream<plain_stream>;

  http_connection(boost::asio::any_io_executor executor, mp::mptcp_mode mode,
                  std::chrono::milliseconds connect_timeout);

  // Prepares TLS for https origins; throws std::runtime_error with one line on a bad CA file.
  void configure_tls(const tls_options& options);

  void async_connect(const url_target& origin, std::function<void(const connect_outcome&)> done);

  // True while open to the same scheme, host and port.
  bool usable_for(const url_target& origin) const;
  bool is_open() const;
  void close();

  int native_handle();
  plain_stream& plain() { return *plain_; }
  // Whether the open socket is an MPTCP one (also when it fell back to TCP), as found at connect.
  bool is_mptcp_socket() const noexcept { return mptcp_socket_; }

  // Calls f(stream) with the stream to read and write: plain_stream& or tls_stream&.
  template <typename F>
  decltype(auto) visit(F&& f) {
    if (tls_stream_) return f(*tls_stream_);
    return f(*plain_);
  }

  // Called with the MPTCP token after each connect over MPTCP (to pick its PM events).
  std::function<void(std::uint32_t token)> on_mptcp_token;

private:
  void connect_next();
  void on_tcp_connected(const boost::system::error_code& ec);
  void finish(connect_failure failure, std::string message);

  boost::asio::any_io_executor executor_;
  mp::mptcp_mode mode_;
  std::chrono::milliseconds connect_timeout_;
  boost::asio::ip::tcp::resolver resolver_;
  std::optional<boost::asio::ssl::context> tls_context_;
  bool verify_ = true;
  std::optional<plain_stream> plain_;
  std::unique_ptr<mp::tls_session> tls_;       // https: the session over plain_
  std::optional<tls_stream> tls_stream_;       // and the stream that reads and writes through it
  url_target origin_;
  bool connected_ = false;
  bool mptcp_socket_ = false;
  bool mptcp_connection_ = false;  // MPTCP at connect, not fallen back
  std::vector<mp::mptcp::endpoint> endpoints_;
  std::size_t next_endpoint_ = 0;
  boost::system::error_code last_error_;
  bool fallback_reported_ = false;
  std::function<void(const connect_outcome&)> done_;
};

}  // namespace mpfetch
