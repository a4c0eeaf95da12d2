#pragma once
// One download: resolve, connect over MPTCP (or the fallback the mode allows), send GET, and
// stream the body into an output_file while a transfer_monitor logs per-subflow progress.

#include "output_file.hpp"
#include "url_target.hpp"

#include "mp/mptcp_mode.hpp"
#include "mp/mptcp_protocol.hpp"
#include "mp/transfer_monitor.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace mpfetch {

// wget's exit codes.
enum exit_code : int {
  exit_ok = 0,
  exit_generic = 1,
  exit_usage = 2,
  exit_file_io = 3,
  exit_network = 4,
  exit_tls = 5,
  exit_protocol = 7,
  exit_server_error = 8,
};

struct download_options {
  url_target url;
  std::string output_path;
  mp::mptcp_mode mptcp = mp::mptcp_mode::automatic;
  std::chrono::milliseconds progress_interval{1000};
  std::chrono::milliseconds connect_timeout{30'000};
  std::chrono::milliseconds read_timeout{900'000};  // wget's default
  std::string user_agent = "mpfetch/" MP_VERSION;
  // Called once connected over MPTCP, with the connection's token (to pick its PM events).
  std::function<void(std::uint32_t token)> on_mptcp_token;
};

struct download_result {
  int code = exit_generic;
  std::string message;  // one line for the user when code != 0
  std::uint64_t bytes = 0;
};

class downloader : public std::enable_shared_from_this<downloader> {
public:
  downloader(boost::asio::any_io_executor executor, download_options options);
  void start(std::function<void(const download_result&)> done);

private:
  using response_parser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

  void on_resolved(const boost::system::error_code& ec,
                   const boost::asio::ip::tcp::resolver::results_type& results);
  void connect_next();
  void on_connected(const boost::system::error_code& ec);
  void on_header(const boost::system::error_code& ec);
  void read_sized_body();  // Content-Length bodies: straight from the socket
  void read_body();        // chunked or close-delimited bodies: through the parser
  void on_body(const boost::system::error_code& ec);
  bool write_body(const char* data, std::size_t size);  // false: failed and finished
  void complete_body();
  void fail_body(const boost::system::error_code& ec);
  void finish(int code, std::string message);

  download_options options_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::basic_stream<mp::mptcp> stream_;
  std::vector<mp::mptcp::endpoint> endpoints_;
  std::size_t next_endpoint_ = 0;
  boost::system::error_code last_connect_error_;
  bool fallback_reported_ = false;
  boost::beast::http::request<boost::beast::http::empty_body> request_;
  boost::beast::flat_buffer buffer_;
  std::optional<response_parser> parser_;
  std::vector<char> body_buffer_;
  output_file file_;
  std::uint64_t bytes_ = 0;
  std::uint64_t remaining_ = 0;  // of a Content-Length body
  std::shared_ptr<mp::transfer_monitor> monitor_;
  std::function<void(const download_result&)> done_;
};

}  // namespace mpfetch
