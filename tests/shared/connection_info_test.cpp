// query_connection() on real loopback connections: what the kernel reports about an MPTCP
// connection, through both of its interfaces, and how the counters move with traffic.
#include "loopback_pair.hpp"

#include "mp/connection_info.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <netinet/tcp.h>

#include <thread>
#include <vector>

namespace {

using mp::mptcp_mode;
using mp::subflow_query;
using mp::test::loopback_pair;

mp::socket_address address_of(const mp::mptcp::endpoint& endpoint) {
  return {endpoint.address(), endpoint.port()};
}

class MptcpConnection : public ::testing::TestWithParam<subflow_query> {
protected:
  void SetUp() override {
    if (!mp::test::kernel_has_mptcp()) GTEST_SKIP() << "this kernel refuses IPPROTO_MPTCP sockets";
    auto failure = pair.connect(mptcp_mode::on, mptcp_mode::on);
    ASSERT_FALSE(failure) << *failure;
  }

  mp::connection_stats query(mp::mptcp::socket& socket) {
    std::error_code ec;
    auto stats = mp::query_connection(socket.native_handle(), ec, GetParam());
    if (ec && GetParam() == subflow_query::full_info && ec == std::errc::no_protocol_option)
      skip_reason = "kernel lacks MPTCP_FULL_INFO (Linux < 6.5)";
    else
      EXPECT_FALSE(ec) << ec.message();
    return stats;
  }

  loopback_pair pair;
  std::string skip_reason;
};

TEST_P(MptcpConnection, ReportsMptcpWithOneSubflowBetweenTheRightAddresses) {
  const auto client = query(pair.client);
  if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
  EXPECT_TRUE(client.mptcp);
  EXPECT_FALSE(client.fallback);
  EXPECT_NE(client.token, 0u);
  EXPECT_EQ(client.subflows, 0u);  // MPTCP_INFO counts additional subflows only
  ASSERT_EQ(client.subflow_list.size(), 1u);
  const auto& path = client.subflow_list[0];
  EXPECT_EQ(path.local, address_of(pair.client.local_endpoint()));
  EXPECT_EQ(path.remote, address_of(pair.acceptor.local_endpoint()));
  EXPECT_EQ(path.state, TCP_ESTABLISHED);
  EXPECT_GT(path.mss, 0u);
  EXPECT_GT(path.cwnd, 0u);

  // The server's view of the same path, mirrored; its token is its own.
  const auto server = query(pair.server);
  EXPECT_TRUE(server.mptcp);
  ASSERT_EQ(server.subflow_list.size(), 1u);
  EXPECT_EQ(server.subflow_list[0].local, path.remote);
  EXPECT_EQ(server.subflow_list[0].remote, path.local);
  EXPECT_NE(server.token, 0u);
}

TEST_P(MptcpConnection, CountersGrowWithTraffic) {
  const auto before_client = query(pair.client);
  if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
  const auto before_server = query(pair.server);

  constexpr std::size_t size = 4 << 20;
  std::vector<char> out(size, 'x'), in(size);
  std::thread reader([&] {
    boost::system::error_code ec;
    boost::asio::read(pair.server, boost::asio::buffer(in), ec);
  });
  boost::asio::write(pair.client, boost::asio::buffer(out));
  reader.join();

  const auto after_client = query(pair.client);
  const auto after_server = query(pair.server);
  ASSERT_EQ(after_client.subflow_list.size(), 1u);
  ASSERT_EQ(after_server.subflow_list.size(), 1u);
  // MPTCP-level counters count data-sequence bytes exactly.
  EXPECT_GE(after_client.bytes_sent - before_client.bytes_sent, size);
  EXPECT_EQ(after_server.bytes_received - before_server.bytes_received, size);
  // Subflow-level counters saw the same bytes plus MPTCP's own option overhead at most.
  EXPECT_GE(after_client.subflow_list[0].bytes_sent - before_client.subflow_list[0].bytes_sent, size);
  EXPECT_GE(after_server.subflow_list[0].bytes_received -
                before_server.subflow_list[0].bytes_received,
            size);
  EXPECT_GT(after_client.subflow_list[0].bytes_acked, before_client.subflow_list[0].bytes_acked);
  EXPECT_EQ(after_client.token, before_client.token);
}

INSTANTIATE_TEST_SUITE_P(BothKernelInterfaces, MptcpConnection,
                         ::testing::Values(subflow_query::automatic, subflow_query::full_info,
                                           subflow_query::split),
                         [](const auto& info) {
                           switch (info.param) {
                             case subflow_query::full_info: return std::string("FullInfo");
                             case subflow_query::split: return std::string("TcpinfoAndAddrs");
                             default: return std::string("Automatic");
                           }
                         });

TEST(ConnectionInfo, FullInfoAndSplitCallsAgree) {
  if (!mp::test::kernel_has_mptcp()) GTEST_SKIP() << "this kernel refuses IPPROTO_MPTCP sockets";
  loopback_pair pair;
  auto failure = pair.connect(mptcp_mode::on, mptcp_mode::on);
  ASSERT_FALSE(failure) << *failure;
  std::error_code full_error, split_error;
  const auto full = mp::query_connection(pair.client.native_handle(), full_error, subflow_query::full_info);
  if (full_error) GTEST_SKIP() << "no MPTCP_FULL_INFO: " << full_error.message();
  const auto split = mp::query_connection(pair.client.native_handle(), split_error, subflow_query::split);
  ASSERT_FALSE(split_error) << split_error.message();
  EXPECT_EQ(full.token, split.token);
  ASSERT_EQ(full.subflow_list.size(), split.subflow_list.size());
  EXPECT_EQ(full.subflow_list[0].local, split.subflow_list[0].local);
  EXPECT_EQ(full.subflow_list[0].remote, split.subflow_list[0].remote);
  EXPECT_EQ(full.subflow_list[0].mss, split.subflow_list[0].mss);
}

TEST(ConnectionInfo, ABadDescriptorIsAnErrorNotACrash) {
  std::error_code ec;
  auto stats = mp::query_connection(-1, ec);
  EXPECT_TRUE(ec);
  EXPECT_TRUE(stats.subflow_list.empty());
}

TEST(SocketAddress, ShowsMappedIpv4AsIpv4AndBracketsIpv6) {
  namespace ip = boost::asio::ip;
  EXPECT_EQ((mp::socket_address{ip::make_address("192.0.2.7"), 80}.to_string()), "192.0.2.7:80");
  EXPECT_EQ((mp::socket_address{ip::make_address("2001:db8::1"), 443}.to_string()), "[2001:db8::1]:443");
  EXPECT_EQ((mp::socket_address{ip::make_address("::ffff:198.51.100.9"), 8000}.to_string()),
            "198.51.100.9:8000");
}

}  // namespace
