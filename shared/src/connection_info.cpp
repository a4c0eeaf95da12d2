#include "mp/connection_info.hpp"

#include "kernel_mptcp.hpp"
#include "mp/mptcp_socket.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace mp {

std::string socket_address::to_string() const {
  if (address.is_v6()) {
    const auto v6 = address.to_v6();
    // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; people know them as a.b.c.d.
    if (v6.is_v4_mapped())
      return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string() + ":" +
             std::to_string(port);
    return "[" + v6.to_string() + "]:" + std::to_string(port);
  }
  return address.to_string() + ":" + std::to_string(port);
}

namespace {

namespace ip = boost::asio::ip;

socket_address from_sockaddr(const sockaddr* sa) {
  socket_address out;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    out.address = ip::address_v4(ntohl(in->sin_addr.s_addr));
    out.port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &in6->sin6_addr, bytes.size());
    ip::address_v6 v6(bytes, in6->sin6_scope_id);
    // A v4-mapped address is shown as the IPv4 address the user knows.
    if (v6.is_v4_mapped())
      out.address = ip::make_address_v4(ip::v4_mapped, v6);
    else
      out.address = v6;
    out.port = ntohs(in6->sin6_port);
  }
  return out;
}

void copy_tcp_counters(const kernel::tcp_info& ti, subflow_stats& sf) {
  sf.state = ti.state;
  sf.bytes_sent = ti.bytes_sent;
  sf.bytes_acked = ti.bytes_acked;
  sf.bytes_received = ti.bytes_received;
  sf.bytes_retrans = ti.bytes_retrans;
  sf.rtt_us = ti.rtt;
  sf.rttvar_us = ti.rttvar;
  sf.cwnd = ti.snd_cwnd;
  sf.mss = ti.snd_mss;
  sf.total_retrans = ti.total_retrans;
  sf.delivery_rate = ti.delivery_rate;
  sf.last_data_recv_ms = ti.last_data_recv;
  sf.last_ack_recv_ms = ti.last_ack_recv;
}

void copy_mptcp_counters(const kernel::mptcp_info& mi, connection_stats& out) {
  // A connection can fall back after it was established (e.g. an infinite mapping).
  if (mi.flags & kernel::mptcp_info_flag_fallback) {
    out.mptcp = false;
    out.fallback = true;
  }
  out.token = mi.token;
  out.subflows = mi.subflows;
  out.bytes_sent = mi.bytes_sent;
  out.bytes_received = mi.bytes_received;
  out.bytes_acked = mi.bytes_acked;
  out.bytes_retrans = mi.bytes_retrans;
}

int socket_protocol(int fd) {
  int protocol = 0;
  socklen_t length = sizeof protocol;
  if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) != 0) return -1;
  return protocol;
}

// Plain TCP, or an MPTCP socket that fell back: one path, read like any TCP socket.
bool query_single_path(int fd, connection_stats& out, std::error_code& ec) {
  kernel::tcp_info ti{};
  socklen_t length = sizeof ti;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &length) != 0) {
    ec.assign(errno, std::system_category());
    return false;
  }
  sockaddr_storage local{}, remote{};
  socklen_t local_length = sizeof local, remote_length = sizeof remote;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0 ||
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_length) != 0) {
    ec.assign(errno, std::system_category());
    return false;
  }
  subflow_stats sf;
  sf.id = 1;
  sf.local = from_sockaddr(reinterpret_cast<sockaddr*>(&local));
  sf.remote = from_sockaddr(reinterpret_cast<sockaddr*>(&remote));
  copy_tcp_counters(ti, sf);
  out.bytes_sent = ti.bytes_sent;
  out.bytes_received = ti.bytes_received;
  out.bytes_acked = ti.bytes_acked;
  out.bytes_retrans = ti.bytes_retrans;
  out.subflow_list.push_back(sf);
  return true;
}

// MPTCP_FULL_INFO (Linux 6.5+): all subflows' addresses and tcp_info in one consistent call.
// The kernel packs the arrays with a stride of min(our element size, its own) and reports it
// back in size_*_user, so the arrays are read as bytes at that stride, never as our structs.
// Returns false with ENOPROTOOPT/EOPNOTSUPP in `err` on kernels that lack it.
bool query_full_info(int fd, connection_stats& out, int& err) {
  std::uint32_t capacity = 8;
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<kernel::mptcp_subflow_info> infos(capacity);
    std::vector<kernel::tcp_info> tcp_infos(capacity);
    kernel::mptcp_full_info full{};
    full.size_tcpinfo_user = sizeof(kernel::tcp_info);
    full.size_sfinfo_user = sizeof(kernel::mptcp_subflow_info);
    full.size_arrays_user = capacity;
    full.subflow_info = reinterpret_cast<std::uintptr_t>(infos.data());
    full.tcp_info = reinterpret_cast<std::uintptr_t>(tcp_infos.data());
    socklen_t length = sizeof full;
    if (::getsockopt(fd, kernel::sol_mptcp, kernel::mptcp_full_info_opt, &full, &length) != 0) {
      err = errno;
      return false;
    }
    if (full.num_subflows > capacity) {  // subflows joined meanwhile: ask again, bigger
      capacity = full.num_subflows + 4;
      continue;
    }
    copy_mptcp_counters(full.mptcp, out);
    const std::size_t sf_stride = std::min<std::size_t>(full.size_sfinfo_user, sizeof(kernel::mptcp_subflow_info));
    const std::size_t tcp_stride = std::min<std::size_t>(full.size_tcpinfo_user, sizeof(kernel::tcp_info));
    const auto* sf_bytes = reinterpret_cast<const unsigned char*>(infos.data());
    const auto* tcp_bytes = reinterpret_cast<const unsigned char*>(tcp_infos.data());
    for (std::uint32_t i = 0; i < full.num_subflows; ++i) {
      kernel::mptcp_subflow_info info{};
      std::memcpy(&info, sf_bytes + i * sf_stride, sf_stride);
      kernel::tcp_info ti{};
      std::memcpy(&ti, tcp_bytes + i * tcp_stride, tcp_stride);
      subflow_stats sf;
      sf.id = info.id;
      sf.local = from_sockaddr(&info.addrs.sa_local);
      sf.remote = from_sockaddr(&info.addrs.sa_remote);
      copy_tcp_counters(ti, sf);
      out.subflow_list.push_back(sf);
    }
    return true;
  }
  err = EAGAIN;
  return false;
}

// Before 6.5: MPTCP_INFO, then MPTCP_TCPINFO and MPTCP_SUBFLOW_ADDRS separately (a subflow
// may come or go between the two calls; entries are paired by index as far as both go).
bool query_split_info(int fd, connection_stats& out, std::error_code& ec) {
  kernel::mptcp_info mi{};
  socklen_t length = sizeof mi;
  if (::getsockopt(fd, kernel::sol_mptcp, kernel::mptcp_info_opt, &mi, &length) != 0) {
    ec.assign(errno, std::system_category());
    return false;
  }
  copy_mptcp_counters(mi, out);

  constexpr std::size_t max_subflows = 16;
  struct tcp_buffer {
    kernel::mptcp_subflow_data header;
    std::array<kernel::tcp_info, max_subflows> items;
  } tcp{};
  tcp.header.size_subflow_data = sizeof tcp.header;
  tcp.header.size_user = sizeof(kernel::tcp_info);
  length = sizeof tcp;
  if (::getsockopt(fd, kernel::sol_mptcp, kernel::mptcp_tcpinfo_opt, &tcp, &length) != 0) {
    ec.assign(errno, std::system_category());
    return false;
  }
  struct addr_buffer {
    kernel::mptcp_subflow_data header;
    std::array<kernel::mptcp_subflow_addrs, max_subflows> items;
  } addrs{};
  addrs.header.size_subflow_data = sizeof addrs.header;
  addrs.header.size_user = sizeof(kernel::mptcp_subflow_addrs);
  length = sizeof addrs;
  if (::getsockopt(fd, kernel::sol_mptcp, kernel::mptcp_subflow_addrs_opt, &addrs, &length) != 0) {
    ec.assign(errno, std::system_category());
    return false;
  }
  // The kernel's element size may differ from ours; step by what it reports.
  const std::size_t count = std::min<std::size_t>(
      {tcp.header.num_subflows, addrs.header.num_subflows, max_subflows});
  const auto* tcp_bytes = reinterpret_cast<const unsigned char*>(tcp.items.data());
  const auto* addr_bytes = reinterpret_cast<const unsigned char*>(addrs.items.data());
  const std::size_t tcp_stride = std::min<std::size_t>(tcp.header.size_user, sizeof(kernel::tcp_info));
  const std::size_t addr_stride =
      std::min<std::size_t>(addrs.header.size_user, sizeof(kernel::mptcp_subflow_addrs));
  for (std::size_t i = 0; i < count; ++i) {
    kernel::tcp_info ti{};
    std::memcpy(&ti, tcp_bytes + i * tcp_stride, tcp_stride);
    kernel::mptcp_subflow_addrs sa{};
    std::memcpy(&sa, addr_bytes + i * addr_stride, addr_stride);
    subflow_stats sf;
    sf.id = static_cast<std::uint32_t>(i + 1);
    sf.local = from_sockaddr(&sa.sa_local);
    sf.remote = from_sockaddr(&sa.sa_remote);
    copy_tcp_counters(ti, sf);
    out.subflow_list.push_back(sf);
  }
  return true;
}

}  // namespace

connection_stats query_connection(int fd, std::error_code& ec, subflow_query method) {
  ec.clear();
  connection_stats out;
  const bool mptcp_socket = socket_protocol(fd) == IPPROTO_MPTCP;
  if (!mptcp_socket || !is_mptcp_connection(fd)) {
    out.fallback = mptcp_socket;
    query_single_path(fd, out, ec);
    return out;
  }
  out.mptcp = true;
  int err = 0;
  if (method != subflow_query::split) {
    if (query_full_info(fd, out, err)) return out;
  }
  if (method == subflow_query::full_info ||
      (method == subflow_query::automatic && err != ENOPROTOOPT && err != EOPNOTSUPP &&
       err != EINVAL)) {
    ec.assign(err, std::system_category());
    return out;
  }
  out.subflow_list.clear();
  query_split_info(fd, out, ec);
  return out;
}

}  // namespace mp
