// Names resolve as TCP (glibc's getaddrinfo() rejects IPPROTO_MPTCP) and come back as MPTCP
// endpoints that a socket of ours can connect to.
#include "loopback_pair.hpp"

#include "mp/resolve.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <netdb.h>

namespace {

TEST(Resolve, GetaddrinfoItselfRefusesTheMptcpProtocol) {
  // Why resolve.hpp exists: if glibc ever accepts it, the mapping can go.
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_MPTCP;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo("127.0.0.1", "80", &hints, &result);
  if (rc == 0) ::freeaddrinfo(result);
  EXPECT_NE(rc, 0) << "getaddrinfo accepted IPPROTO_MPTCP";
}

TEST(Resolve, NumericAndLocalNamesBecomeMptcpEndpoints) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto v4 = mp::resolve(resolver, "127.0.0.1", "8080", ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].address(), boost::asio::ip::address_v4::loopback());
  EXPECT_EQ(v4[0].port(), 8080);
  EXPECT_EQ(v4[0].protocol(), mp::mptcp::v4());
  EXPECT_EQ(v4[0].protocol().protocol(), IPPROTO_MPTCP);

  auto v6 = mp::resolve(resolver, "::1", "http", ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].port(), 80);
  EXPECT_EQ(v6[0].protocol(), mp::mptcp::v6());

  // From /etc/hosts: no query leaves the machine.
  auto named = mp::resolve(resolver, "localhost", "8080", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_FALSE(named.empty());
  for (const auto& endpoint : named) EXPECT_TRUE(endpoint.address().is_loopback());
}

TEST(Resolve, AResolvedEndpointConnects) {
  mp::test::loopback_pair pair;
  boost::system::error_code ec;
  mp::open_listener(pair.acceptor, {boost::asio::ip::address_v4::loopback(), 0},
                    mp::mptcp_mode::automatic, 4, ec);
  ASSERT_FALSE(ec) << ec.message();
  boost::asio::ip::tcp::resolver resolver(pair.io);
  auto endpoints = mp::resolve(resolver, "127.0.0.1",
                               std::to_string(pair.acceptor.local_endpoint().port()), ec);
  ASSERT_FALSE(ec) << ec.message();
  mp::open_stream_socket(pair.client, AF_INET, mp::mptcp_mode::automatic, ec);
  ASSERT_FALSE(ec) << ec.message();
  pair.client.connect(endpoints.at(0), ec);
  EXPECT_FALSE(ec) << ec.message();
}

}  // namespace
