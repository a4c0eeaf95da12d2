#pragma once
// Opening MPTCP sockets with the fallback policy of mptcp_mode.

#include "mp/mptcp_mode.hpp"
#include "mp/mptcp_protocol.hpp"

#include <string>
#include <system_error>

namespace mp {

struct open_result {
  bool mptcp = false;          // the socket is IPPROTO_MPTCP
  std::string fallback_reason;  // why it is TCP although MPTCP was wanted (empty otherwise)
};

// True for the errors with which a kernel says "no MPTCP here": not built in, disabled by
// net.mptcp.enabled=0 (ENOPROTOOPT), or an unknown protocol.
bool is_mptcp_refusal(const boost::system::error_code& ec) noexcept;

// Opens `socket` for `family` (AF_INET/AF_INET6) under `mode`. With mode::automatic a refusal
// falls back to TCP and says why in the result; with mode::on the refusal is the error.
open_result open_stream_socket(mptcp::socket& socket, int family, mptcp_mode mode,
                               boost::system::error_code& ec);

// Opens, binds and listens `acceptor` at `where` under `mode` (SO_REUSEADDR set; for IPv6
// wildcard addresses IPV6_V6ONLY is cleared so one listener serves both families).
open_result open_listener(mptcp::acceptor& acceptor, const mptcp::endpoint& where,
                          mptcp_mode mode, int backlog, boost::system::error_code& ec);

// Whether a connected socket is MPTCP end to end (TCP_IS_MPTCP): false for plain TCP
// sockets and for MPTCP sockets whose peer did not speak MPTCP.
bool is_mptcp_connection(int fd) noexcept;

}  // namespace mp
