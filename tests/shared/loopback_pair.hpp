#pragma once
// A connected client/server socket pair over 127.0.0.1, opened with the library's own
// mode policy, for tests that need a real kernel connection.

#include "mp/mptcp_socket.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace mp::test {

struct loopback_pair {
  boost::asio::io_context io;
  mptcp::acceptor acceptor{io};
  mptcp::socket client{io};
  mptcp::socket server{io};
  open_result listener_opened;
  open_result client_opened;

  // Returns an error text instead of throwing so tests can decide to skip.
  std::optional<std::string> connect(mptcp_mode server_mode, mptcp_mode client_mode) {
    boost::system::error_code ec;
    const mptcp::endpoint where(boost::asio::ip::address_v4::loopback(), 0);
    listener_opened = open_listener(acceptor, where, server_mode, 16, ec);
    if (ec) return "listen: " + ec.message() + " " + listener_opened.fallback_reason;
    client_opened = open_stream_socket(client, AF_INET, client_mode, ec);
    if (ec) return "socket: " + ec.message() + " " + client_opened.fallback_reason;
    client.connect(acceptor.local_endpoint(), ec);
    if (ec) return "connect: " + ec.message();
    acceptor.accept(server, ec);
    if (ec) return "accept: " + ec.message();
    return std::nullopt;
  }
};

// True when this kernel hands out MPTCP sockets at all (else tests that need MPTCP skip).
inline bool kernel_has_mptcp() {
  boost::asio::io_context io;
  mptcp::socket probe(io);
  boost::system::error_code ec;
  probe.open(mptcp::v4(), ec);
  return !ec;
}

}  // namespace mp::test
