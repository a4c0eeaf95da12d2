#pragma once
// Accepts connections on one MPTCP (or fallback TCP) listening socket and starts a session
// for each.

#include "http_session.hpp"

#include "mp/mptcp_socket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace mpserve {

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(boost::asio::io_context& io, const server_context& context);

  // Binds and listens; the result says whether the socket is MPTCP, or why not.
  mp::open_result open(const mp::mptcp::endpoint& where, boost::system::error_code& ec);
  mp::mptcp::endpoint local_endpoint() const;
  void run();
  void stop();

private:
  void accept();

  boost::asio::io_context& io_;
  const server_context& context_;
  mp::mptcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::uint64_t next_id_ = 1;
};

}  // namespace mpserve
