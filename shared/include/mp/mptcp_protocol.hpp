#pragma once
// An Asio protocol type for stream sockets that are MPTCP where the kernel allows it.
//
// It works with Asio's socket and acceptor the way asio::ip::tcp does, but carries the
// IP protocol number at run time, so one socket type covers MPTCP (262) and the plain-TCP
// fallback chosen by open_stream_socket()/open_listener() (mptcp_socket.hpp).

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/ip/basic_endpoint.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace mp {

class mptcp {
public:
  using endpoint = boost::asio::ip::basic_endpoint<mptcp>;
  using socket = boost::asio::basic_stream_socket<mptcp>;
  using acceptor = boost::asio::basic_socket_acceptor<mptcp>;
  // No resolver typedef on purpose: glibc's getaddrinfo() rejects ai_protocol=262 with
  // EAI_SOCKTYPE, so names are resolved as TCP and mapped (see resolve.hpp).

  static mptcp v4() noexcept { return mptcp(AF_INET, IPPROTO_MPTCP); }
  static mptcp v6() noexcept { return mptcp(AF_INET6, IPPROTO_MPTCP); }

  // The same address family with plain TCP: what a fallback opens.
  mptcp as_tcp() const noexcept { return mptcp(family_, IPPROTO_TCP); }

  int type() const noexcept { return SOCK_STREAM; }
  int protocol() const noexcept { return protocol_; }
  int family() const noexcept { return family_; }
  bool is_mptcp() const noexcept { return protocol_ == IPPROTO_MPTCP; }

  friend bool operator==(const mptcp& a, const mptcp& b) noexcept {
    return a.family_ == b.family_ && a.protocol_ == b.protocol_;
  }
  friend bool operator!=(const mptcp& a, const mptcp& b) noexcept { return !(a == b); }

private:
  mptcp(int family, int protocol) noexcept : family_(family), protocol_(protocol) {}
  int family_;
  int protocol_;
};

}  // namespace mp
