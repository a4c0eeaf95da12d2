#pragma once
// What the kernel knows about one connection: MPTCP or TCP, MPTCP-level counters, and each
// subflow's addresses and TCP counters. Callers never see a raw kernel struct.

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace mp {

struct socket_address {
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  // 192.0.2.1:80, [2001:db8::1]:80; IPv4-mapped IPv6 addresses are shown as IPv4.
  std::string to_string() const;
  friend bool operator==(const socket_address&, const socket_address&) = default;
};

struct subflow_stats {
  std::uint32_t id = 0;  // kernel's subflow id where MPTCP_FULL_INFO gives one, else index+1
  socket_address local;
  socket_address remote;
  std::uint8_t state = 0;  // TCP_ESTABLISHED, ...
  std::uint64_t bytes_sent = 0;       // including retransmissions
  std::uint64_t bytes_acked = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_retrans = 0;
  std::uint32_t rtt_us = 0;
  std::uint32_t rttvar_us = 0;
  std::uint32_t cwnd = 0;  // segments
  std::uint32_t mss = 0;
  std::uint32_t total_retrans = 0;  // segments
  std::uint64_t delivery_rate = 0;  // bytes/s, the kernel's estimate
  std::uint32_t last_data_recv_ms = 0;
  std::uint32_t last_ack_recv_ms = 0;
  bool backup = false;
};

struct connection_stats {
  bool mptcp = false;     // the socket is MPTCP and did not fall back
  bool fallback = false;  // an MPTCP socket that fell back to TCP (peer without MPTCP)
  std::uint32_t token = 0;
  std::uint8_t subflows = 0;  // additional subflows, as MPTCP_INFO counts them
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_acked = 0;
  std::uint64_t bytes_retrans = 0;
  std::vector<subflow_stats> subflow_list;  // for TCP: the single connection
};

// How MPTCP subflows are read. `automatic` is what programs use; the others exist so tests can
// check both kernel interfaces on a kernel that has both.
enum class subflow_query {
  automatic,  // MPTCP_FULL_INFO, or the split calls where the kernel lacks it
  full_info,  // MPTCP_FULL_INFO only (Linux 6.5+)
  split,      // MPTCP_INFO + MPTCP_TCPINFO + MPTCP_SUBFLOW_ADDRS (Linux 5.16+)
};

// Reads everything the kernel offers for the connected socket `fd`. Uses MPTCP_FULL_INFO
// where available (one consistent snapshot), MPTCP_TCPINFO + MPTCP_SUBFLOW_ADDRS otherwise,
// and TCP_INFO for plain TCP and for MPTCP sockets that fell back.
connection_stats query_connection(int fd, std::error_code& ec,
                                  subflow_query method = subflow_query::automatic);

}  // namespace mp
