#pragma once
// Local copies of the kernel's MPTCP and TCP uapi structs. Debian 12's headers (6.1) are
// older than the kernels we run on, and <linux/tcp.h> clashes with <netinet/tcp.h>. Every
// struct is read with the size the kernel reports back, so older kernels fill a prefix.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

namespace mp::kernel {

inline constexpr int sol_mptcp = 284;
inline constexpr int mptcp_info_opt = 1;
inline constexpr int mptcp_tcpinfo_opt = 2;
inline constexpr int mptcp_subflow_addrs_opt = 3;
inline constexpr int mptcp_full_info_opt = 4;
inline constexpr std::uint32_t mptcp_info_flag_fallback = 1u << 0;

struct mptcp_info {
  std::uint8_t subflows;
  std::uint8_t add_addr_signal;
  std::uint8_t add_addr_accepted;
  std::uint8_t subflows_max;
  std::uint8_t add_addr_signal_max;
  std::uint8_t add_addr_accepted_max;
  std::uint32_t flags;
  std::uint32_t token;
  std::uint64_t write_seq;
  std::uint64_t snd_una;
  std::uint64_t rcv_nxt;
  std::uint8_t local_addr_used;
  std::uint8_t local_addr_max;
  std::uint8_t csum_enabled;
  std::uint32_t retransmits;
  std::uint64_t bytes_retrans;
  std::uint64_t bytes_sent;
  std::uint64_t bytes_received;
  std::uint64_t bytes_acked;
  std::uint8_t subflows_total;
  std::uint8_t reserved[3];
  std::uint32_t last_data_sent;
  std::uint32_t last_data_recv;
  std::uint32_t last_ack_recv;
};

struct alignas(8) mptcp_subflow_data {
  std::uint32_t size_subflow_data;
  std::uint32_t num_subflows;
  std::uint32_t size_kernel;
  std::uint32_t size_user;
};

struct mptcp_subflow_addrs {
  union {
    sa_family_t sa_family;
    sockaddr sa_local;
    sockaddr_in sin_local;
    sockaddr_in6 sin6_local;
    sockaddr_storage ss_local;
  };
  union {
    sockaddr sa_remote;
    sockaddr_in sin_remote;
    sockaddr_in6 sin6_remote;
    sockaddr_storage ss_remote;
  };
};

struct mptcp_subflow_info {
  std::uint32_t id;
  mptcp_subflow_addrs addrs;
};

struct mptcp_full_info {
  std::uint32_t size_tcpinfo_kernel;
  std::uint32_t size_tcpinfo_user;
  std::uint32_t size_sfinfo_kernel;
  std::uint32_t size_sfinfo_user;
  std::uint32_t num_subflows;
  std::uint32_t size_arrays_user;
  alignas(8) std::uint64_t subflow_info;  // user pointer
  alignas(8) std::uint64_t tcp_info;      // user pointer
  mptcp_info mptcp;
};

struct tcp_info {
  std::uint8_t state;
  std::uint8_t ca_state;
  std::uint8_t retransmits;
  std::uint8_t probes;
  std::uint8_t backoff;
  std::uint8_t options;
  std::uint8_t wscale;
  std::uint8_t flags;
  std::uint32_t rto;
  std::uint32_t ato;
  std::uint32_t snd_mss;
  std::uint32_t rcv_mss;
  std::uint32_t unacked;
  std::uint32_t sacked;
  std::uint32_t lost;
  std::uint32_t retrans;
  std::uint32_t fackets;
  std::uint32_t last_data_sent;
  std::uint32_t last_ack_sent;
  std::uint32_t last_data_recv;
  std::uint32_t last_ack_recv;
  std::uint32_t pmtu;
  std::uint32_t rcv_ssthresh;
  std::uint32_t rtt;
  std::uint32_t rttvar;
  std::uint32_t snd_ssthresh;
  std::uint32_t snd_cwnd;
  std::uint32_t advmss;
  std::uint32_t reordering;
  std::uint32_t rcv_rtt;
  std::uint32_t rcv_space;
  std::uint32_t total_retrans;
  std::uint64_t pacing_rate;
  std::uint64_t max_pacing_rate;
  std::uint64_t bytes_acked;
  std::uint64_t bytes_received;
  std::uint32_t segs_out;
  std::uint32_t segs_in;
  std::uint32_t notsent_bytes;
  std::uint32_t min_rtt;
  std::uint32_t data_segs_in;
  std::uint32_t data_segs_out;
  std::uint64_t delivery_rate;
  std::uint64_t busy_time;
  std::uint64_t rwnd_limited;
  std::uint64_t sndbuf_limited;
  std::uint32_t delivered;
  std::uint32_t delivered_ce;
  std::uint64_t bytes_sent;
  std::uint64_t bytes_retrans;
  std::uint32_t dsack_dups;
  std::uint32_t reord_seen;
  std::uint32_t rcv_ooopack;
  std::uint32_t snd_wnd;
};

}  // namespace mp::kernel
