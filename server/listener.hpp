#pragma once
// Accepts connections on one MPTCP (or fallback TCP) listening socket and starts a session
// for each, handing the connections round-robin to the worker io_contexts (one per thread).

#include "http_session.hpp"
#include "server_state.hpp"

#include "mp/mptcp_socket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <vector>

namespace mpserve {

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(boost::asio::io_context& io, server_state& server,
           std::vector<boost::asio::io_context*> workers);

  // Binds and listens; the result says whether the socket is MPTCP, or why not.
  mp::open_result open(const mp::mptcp::endpoint& where, boost::system::error_code& ec);
  mp::mptcp::endpoint local_endpoint() const;
  void run();
  void stop();

private:
  void accept();
  void pause_then_accept(std::chrono::milliseconds pause);

  server_state& server_;
  std::vector<boost::asio::io_context*> workers_;
  std::size_t next_worker_ = 0;
  mp::mptcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::uint64_t next_id_ = 1;
  bool full_reported_ = false;
};

}  // namespace mpserve
