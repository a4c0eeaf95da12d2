#include "mp/mptcp_socket.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif

namespace mp {

std::optional<mptcp_mode> parse_mptcp_mode(std::string_view text) noexcept {
  if (text == "auto") return mptcp_mode::automatic;
  if (text == "on") return mptcp_mode::on;
  if (text == "off") return mptcp_mode::off;
  return std::nullopt;
}

std::string_view to_string(mptcp_mode mode) noexcept {
  switch (mode) {
    case mptcp_mode::automatic: return "auto";
    case mptcp_mode::on: return "on";
    case mptcp_mode::off: return "off";
  }
  return "?";
}

bool is_mptcp_refusal(const boost::system::error_code& ec) noexcept {
  if (ec.category() != boost::system::system_category()) return false;
  switch (ec.value()) {
    case EPROTONOSUPPORT:  // kernel built without MPTCP
    case EINVAL:           // very old kernels: unknown protocol number
    case ENOPROTOOPT:      // net.mptcp.enabled=0 in this network namespace
    case ESOCKTNOSUPPORT:
      return true;
    default:
      return false;
  }
}

namespace {

mptcp protocol_for(int family) { return family == AF_INET6 ? mptcp::v6() : mptcp::v4(); }

std::string refusal_text(const boost::system::error_code& ec) {
  if (ec.value() == ENOPROTOOPT) return "MPTCP is disabled (net.mptcp.enabled=0): " + ec.message();
  return "the kernel refused an MPTCP socket: " + ec.message();
}

template <typename Socket>
open_result open_with_mode(Socket& socket, int family, mptcp_mode mode,
                           boost::system::error_code& ec) {
  open_result result;
  const mptcp wanted = protocol_for(family);
  if (mode == mptcp_mode::off) {
    socket.open(wanted.as_tcp(), ec);
    return result;
  }
  socket.open(wanted, ec);
  if (!ec) {
    result.mptcp = true;
    return result;
  }
  if (!is_mptcp_refusal(ec)) return result;
  result.fallback_reason = refusal_text(ec);
  if (mode == mptcp_mode::on) return result;  // the refusal stays the error
  ec.clear();
  socket.open(wanted.as_tcp(), ec);
  return result;
}

}  // namespace

open_result open_stream_socket(mptcp::socket& socket, int family, mptcp_mode mode,
                               boost::system::error_code& ec) {
  return open_with_mode(socket, family, mode, ec);
}

open_result open_listener(mptcp::acceptor& acceptor, const mptcp::endpoint& where,
                          mptcp_mode mode, int backlog, boost::system::error_code& ec) {
  const int family = where.address().is_v6() ? AF_INET6 : AF_INET;
  open_result result = open_with_mode(acceptor, family, mode, ec);
  if (ec) return result;
  acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec && family == AF_INET6 && where.address().is_unspecified())
    acceptor.set_option(boost::asio::ip::v6_only(false), ec);
  if (!ec) acceptor.bind(where, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
  return result;
}

bool is_mptcp_connection(int fd) noexcept {
  int value = 0;
  socklen_t length = sizeof value;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_IS_MPTCP, &value, &length) != 0) return false;
  return value != 0;
}

}  // namespace mp
