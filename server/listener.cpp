#include "listener.hpp"

#include <spdlog/spdlog.h>

namespace mpserve {

using boost::system::error_code;

listener::listener(boost::asio::io_context& io, server_state& server,
                   std::vector<boost::asio::io_context*> workers)
    : server_(server), workers_(std::move(workers)), acceptor_(io), retry_timer_(io) {}

mp::open_result listener::open(const mp::mptcp::endpoint& where, error_code& ec) {
  return mp::open_listener(acceptor_, where, server_.config.mptcp, server_.config.backlog, ec);
}

mp::mptcp::endpoint listener::local_endpoint() const {
  error_code ec;
  return acceptor_.local_endpoint(ec);
}

void listener::run() { accept(); }

void listener::stop() {
  error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
}

void listener::pause_then_accept(std::chrono::milliseconds pause) {
  retry_timer_.expires_after(pause);
  retry_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec && self->acceptor_.is_open()) self->accept();
  });
}

void listener::accept() {
  if (server_.connections() >= server_.config.max_connections) {
    // Leave new connections in the kernel's backlog until one of ours closes.
    if (!full_reported_)
      spdlog::warn("{} connections open (--max-connections): not accepting more for now",
                   server_.connections());
    full_reported_ = true;
    return pause_then_accept(std::chrono::milliseconds(20));
  }
  full_reported_ = false;
  auto& worker = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_.async_accept(worker, [self = shared_from_this()](const error_code& ec,
                                                              mp::mptcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      // EMFILE/ENFILE/ENOBUFS: accepting again at once would spin; pause briefly instead.
      spdlog::warn("accept failed: {}; retrying in 100 ms", ec.message());
      return self->pause_then_accept(std::chrono::milliseconds(100));
    }
    const std::uint64_t id = self->next_id_++;
    self->server_.connection_accepted();
    // The session lives on the worker's thread from its first handler on.
    auto executor = socket.get_executor();
    auto session = std::make_shared<http_session>(std::move(socket), self->server_, id);
    boost::asio::post(executor, [session = std::move(session)] { session->run(); });
    self->accept();
  });
}

}  // namespace mpserve
