#include "listener.hpp"

#include <spdlog/spdlog.h>

namespace mpserve {

using boost::system::error_code;

listener::listener(boost::asio::io_context& io, const server_context& context)
    : io_(io), context_(context), acceptor_(io), retry_timer_(io) {}

mp::open_result listener::open(const mp::mptcp::endpoint& where, error_code& ec) {
  return mp::open_listener(acceptor_, where, context_.config.mptcp, context_.config.backlog, ec);
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

void listener::accept() {
  acceptor_.async_accept(io_, [self = shared_from_this()](const error_code& ec,
                                                          mp::mptcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      // EMFILE/ENFILE/ENOBUFS: accepting again at once would spin; pause briefly instead.
      spdlog::warn("accept failed: {}; retrying in 100 ms", ec.message());
      self->retry_timer_.expires_after(std::chrono::milliseconds(100));
      self->retry_timer_.async_wait([self](const error_code& wait_error) {
        if (!wait_error) self->accept();
      });
      return;
    }
    std::make_shared<http_session>(std::move(socket), self->context_, self->next_id_++)->run();
    self->accept();
  });
}

}  // namespace mpserve
