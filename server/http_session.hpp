#pragma once
// One client connection: read a request, answer it, and keep reading while keep-alive holds.
// Its lifetime is the chain of completion handlers, each holding a shared_ptr to it.

#include "file_sender.hpp"
#include "served_file.hpp"
#include "server_config.hpp"

#include "mp/mptcp_protocol.hpp"
#include "mp/transfer_monitor.hpp"

#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>

namespace mpserve {

struct server_context {
  server_config config;
  unique_fd root;
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(mp::mptcp::socket socket, const server_context& context, std::uint64_t id);
  void run();

private:
  using request_parser = boost::beast::http::request_parser<boost::beast::http::empty_body>;
  using error_response = boost::beast::http::response<boost::beast::http::string_body>;

  void read_request();
  void on_read(const boost::system::error_code& ec);
  void handle_request();
  void send_file(served_file file);
  void on_file_sent(const boost::system::error_code& ec);
  void send_error(boost::beast::http::status status, std::string_view reason);
  void finish_response(bool keep_alive);
  void log_request(unsigned status, std::uint64_t bytes);
  void close();

  boost::beast::basic_stream<mp::mptcp> stream_;
  const server_context& context_;
  std::string label_;  // "[#3 127.0.0.1:41234]"
  boost::beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  std::shared_ptr<error_response> error_response_;
  served_file file_;
  file_sender sender_;
  std::shared_ptr<mp::transfer_monitor> monitor_;
  bool keep_alive_ = false;
};

}  // namespace mpserve
