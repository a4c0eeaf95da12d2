#pragma once
// Name resolution for mptcp endpoints: resolved as TCP, because glibc's getaddrinfo() does
// not know IPPROTO_MPTCP, then mapped address for address.

#include "mp/mptcp_protocol.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <string_view>
#include <vector>

namespace mp {

std::vector<mptcp::endpoint> to_mptcp_endpoints(
    const boost::asio::ip::tcp::resolver::results_type& results);

// Blocking resolve, for start-up (a listener's --bind address).
std::vector<mptcp::endpoint> resolve(boost::asio::ip::tcp::resolver& resolver,
                                     std::string_view host, std::string_view service,
                                     boost::system::error_code& ec);

}  // namespace mp
