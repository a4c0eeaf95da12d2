// Path-manager events: the decoder on hand-built netlink messages, and the live monitor on
// the events of a connection the test makes itself.
#include "loopback_pair.hpp"

#include "mp/connection_info.hpp"
#include "mp/pm_events.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <chrono>
#include <cstring>
#include <vector>

namespace {

namespace ip = boost::asio::ip;
using mp::pm_event_type;

// Builds generic-netlink messages the way the kernel lays them out.
class message_builder {
public:
  explicit message_builder(std::uint8_t command) {
    genlmsghdr header{};
    header.cmd = command;
    header.version = 1;
    append(&header, sizeof header);
  }
  template <typename T>
  message_builder& attr(std::uint16_t type, T value) {
    return raw_attr(type, &value, sizeof value);
  }
  message_builder& raw_attr(std::uint16_t type, const void* data, std::size_t length) {
    nlattr header{static_cast<std::uint16_t>(NLA_HDRLEN + length), type};
    append(&header, sizeof header);
    append(data, length);
    bytes_.resize(NLA_ALIGN(bytes_.size()));
    return *this;
  }
  message_builder& v4(std::uint16_t type, const char* text) {
    in_addr address{};
    ::inet_pton(AF_INET, text, &address);
    return raw_attr(type, &address, 4);
  }
  message_builder& v6(std::uint16_t type, const char* text) {
    in6_addr address{};
    ::inet_pton(AF_INET6, text, &address);
    return raw_attr(type, &address, 16);
  }
  std::vector<std::byte> genl() const { return bytes_; }
  // Wrapped in a netlink header of `family_id`.
  std::vector<std::byte> netlink(std::uint16_t family_id) const {
    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_HDRLEN + bytes_.size());
    header.nlmsg_type = family_id;
    std::vector<std::byte> out(NLMSG_HDRLEN);
    std::memcpy(out.data(), &header, sizeof header);
    out.insert(out.end(), bytes_.begin(), bytes_.end());
    out.resize(NLMSG_ALIGN(out.size()));
    return out;
  }

private:
  void append(const void* data, std::size_t length) {
    // resize + memcpy rather than insert(): GCC 12 warns falsely (-Wstringop-overflow) on
    // inserting into an empty vector.
    const std::size_t old_size = bytes_.size();
    bytes_.resize(old_size + length);
    std::memcpy(bytes_.data() + old_size, data, length);
  }
  std::vector<std::byte> bytes_;
};

// Attribute numbers from include/uapi/linux/mptcp.h (ABI).
enum : std::uint16_t {
  token = 1, family = 2, loc_id = 3, rem_id = 4, saddr4 = 5, saddr6 = 6, daddr4 = 7, daddr6 = 8,
  sport = 9, dport = 10, backup = 11, error = 12, flags = 13, timeout = 14, if_idx = 15,
  reset_reason = 16, reset_flags = 17, server_side = 18,
};

TEST(PmEventDecode, SubflowEstablishedWithIpv4Addresses) {
  auto bytes = message_builder(10)
                   .attr<std::uint32_t>(token, 0x1a2b3c4d)
                   .attr<std::uint16_t>(family, AF_INET)
                   .attr<std::uint8_t>(loc_id, 1)
                   .attr<std::uint8_t>(rem_id, 2)
                   .v4(saddr4, "192.0.2.1")
                   .v4(daddr4, "198.51.100.1")
                   .attr<std::uint16_t>(sport, htons(41000))
                   .attr<std::uint16_t>(dport, htons(8000))
                   .attr<std::uint8_t>(backup, 1)
                   .attr<std::int32_t>(if_idx, 7)
                   .attr<std::uint8_t>(server_side, 0)
                   .genl();
  auto event = mp::decode_pm_message(bytes);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, pm_event_type::sub_established);
  EXPECT_EQ(event->token, 0x1a2b3c4du);
  EXPECT_EQ(event->family, AF_INET);
  EXPECT_EQ(event->local_id, 1);
  EXPECT_EQ(event->remote_id, 2);
  ASSERT_TRUE(event->local && event->remote);
  EXPECT_EQ(event->local->address, ip::make_address("192.0.2.1"));
  EXPECT_EQ(event->local->port, 41000);
  EXPECT_EQ(event->remote->address, ip::make_address("198.51.100.1"));
  EXPECT_EQ(event->remote->port, 8000);
  EXPECT_EQ(event->backup, true);
  EXPECT_EQ(event->interface_index, 7);
  EXPECT_EQ(event->server_side, false);
  EXPECT_EQ(mp::describe(*event),
            "sub_established token=1a2b3c4d 192.0.2.1:41000 -> 198.51.100.1:8000 loc_id=1 "
            "rem_id=2 backup ifindex=7");
}

TEST(PmEventDecode, AnnouncedIpv6AddressHasOnlyTheRemoteSide) {
  auto bytes = message_builder(6)
                   .attr<std::uint32_t>(token, 5)
                   .attr<std::uint8_t>(rem_id, 3)
                   .v6(daddr6, "2001:db8::2")
                   .attr<std::uint16_t>(dport, htons(443))
                   .genl();
  auto event = mp::decode_pm_message(bytes);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, pm_event_type::announced);
  EXPECT_FALSE(event->local);
  ASSERT_TRUE(event->remote);
  EXPECT_EQ(event->remote->to_string(), "[2001:db8::2]:443");
  EXPECT_EQ(mp::describe(*event), "announced token=00000005 remote=[2001:db8::2]:443 rem_id=3");
}

TEST(PmEventDecode, EveryKnownCommandHasAName) {
  const std::pair<std::uint8_t, const char*> table[] = {
      {1, "created"}, {2, "established"}, {3, "closed"}, {6, "announced"}, {7, "removed"},
      {10, "sub_established"}, {11, "sub_closed"}, {13, "sub_priority"},
      {15, "listener_created"}, {16, "listener_closed"}, {99, "unknown"}};
  for (auto [command, name] : table) {
    auto event = mp::decode_pm_message(message_builder(command).genl());
    ASSERT_TRUE(event) << name;
    EXPECT_EQ(mp::to_string(event->type), name);
    EXPECT_EQ(event->command, command);
  }
  EXPECT_EQ(mp::describe(*mp::decode_pm_message(message_builder(99).genl())), "unknown(99)");
}

TEST(PmEventDecode, SkipsUnknownAndNestedFlaggedAttributes) {
  auto bytes = message_builder(3)
                   .attr<std::uint64_t>(200, 0xdeadbeef)  // from a newer kernel
                   .attr<std::uint32_t>(token | NLA_F_NET_BYTEORDER, 42)
                   .attr<std::uint32_t>(reset_reason, 4)
                   .attr<std::uint8_t>(error, 104)
                   .genl();
  auto event = mp::decode_pm_message(bytes);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, pm_event_type::closed);
  EXPECT_EQ(event->token, 42u);
  EXPECT_EQ(event->reset_reason, 4u);
  EXPECT_EQ(event->error, 104);
}

TEST(PmEventDecode, RejectsTruncatedMessagesAndIgnoresShortValues) {
  EXPECT_FALSE(mp::decode_pm_message({}));
  auto bytes = message_builder(1).attr<std::uint32_t>(token, 9).genl();
  // An attribute whose length runs past the end.
  auto truncated = bytes;
  truncated.resize(truncated.size() - 2);
  EXPECT_FALSE(mp::decode_pm_message(truncated));
  // An attribute too short for its type is ignored, not read past.
  auto short_value = message_builder(1).attr<std::uint8_t>(saddr4, 1).attr<std::uint8_t>(token, 1).genl();
  auto event = mp::decode_pm_message(short_value);
  ASSERT_TRUE(event);
  EXPECT_FALSE(event->local);
  EXPECT_EQ(event->token, 0u);
}

TEST(PmEventDecode, DatagramKeepsOnlyTheMptcpFamily) {
  const std::uint16_t family_id = 0x1f;
  std::vector<std::byte> datagram;
  for (auto part : {message_builder(1).attr<std::uint32_t>(token, 1).netlink(family_id),
                    message_builder(1).attr<std::uint32_t>(token, 2).netlink(family_id + 1),
                    message_builder(2).attr<std::uint32_t>(token, 3).netlink(family_id)})
    datagram.insert(datagram.end(), part.begin(), part.end());
  auto events = mp::decode_pm_datagram(datagram, family_id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].token, 1u);
  EXPECT_EQ(events[0].type, pm_event_type::created);
  EXPECT_EQ(events[1].token, 3u);
  EXPECT_EQ(events[1].type, pm_event_type::established);
  // A header claiming more than the datagram holds ends decoding without reading past it.
  datagram.resize(datagram.size() - 4);
  EXPECT_EQ(mp::decode_pm_datagram(datagram, family_id).size(), 1u);
}

TEST(PmEventMonitor, SeesCreatedAndEstablishedWithTheTokenMptcpInfoReports) {
  if (!mp::test::kernel_has_mptcp()) GTEST_SKIP() << "this kernel refuses IPPROTO_MPTCP sockets";
  mp::test::loopback_pair pair;
  std::vector<mp::pm_event> seen;
  mp::pm_event_monitor monitor(pair.io.get_executor());
  if (auto ec = monitor.start([&](const mp::pm_event& e) { seen.push_back(e); }))
    GTEST_SKIP() << "cannot subscribe to mptcp_pm events (needs CAP_NET_ADMIN and Linux 5.12+): "
                 << ec.message();

  auto failure = pair.connect(mp::mptcp_mode::on, mp::mptcp_mode::on);
  ASSERT_FALSE(failure) << *failure;
  // A client is "established" (fully, at the MPTCP level) once the server's data-level
  // acknowledgment arrives, so exchange a byte each way first.
  char byte = 'x';
  boost::asio::write(pair.client, boost::asio::buffer(&byte, 1));
  boost::asio::read(pair.server, boost::asio::buffer(&byte, 1));
  boost::asio::write(pair.server, boost::asio::buffer(&byte, 1));
  boost::asio::read(pair.client, boost::asio::buffer(&byte, 1));
  std::error_code ec;
  const auto client = mp::query_connection(pair.client.native_handle(), ec);
  ASSERT_FALSE(ec) << ec.message();
  const auto server = mp::query_connection(pair.server.native_handle(), ec);
  ASSERT_FALSE(ec) << ec.message();

  auto find = [&](pm_event_type type, std::uint32_t wanted) -> const mp::pm_event* {
    for (const auto& e : seen)
      if (e.type == type && e.token == wanted) return &e;
    return nullptr;
  };
  // Other tests may make connections at the same time; only our tokens count.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!(find(pm_event_type::established, client.token) &&
           find(pm_event_type::established, server.token)) &&
         std::chrono::steady_clock::now() < deadline)
    pair.io.run_for(std::chrono::milliseconds(50));

  const auto* created = find(pm_event_type::created, client.token);
  const auto* established = find(pm_event_type::established, client.token);
  ASSERT_NE(created, nullptr) << "no created event with token " << client.token;
  ASSERT_NE(established, nullptr) << "no established event with token " << client.token;
  ASSERT_TRUE(established->local && established->remote);
  EXPECT_EQ(established->local->port, pair.client.local_endpoint().port());
  EXPECT_EQ(established->remote->port, pair.acceptor.local_endpoint().port());
  EXPECT_NE(established->server_side, true);

  const auto* server_established = find(pm_event_type::established, server.token);
  ASSERT_NE(server_established, nullptr) << "no established event with server token";
  EXPECT_EQ(server_established->server_side, true);

  // Closing the connection is an event too.
  pair.client.close();
  pair.server.close();
  const auto close_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!find(pm_event_type::closed, client.token) &&
         std::chrono::steady_clock::now() < close_deadline)
    pair.io.run_for(std::chrono::milliseconds(50));
  EXPECT_NE(find(pm_event_type::closed, client.token), nullptr);
  monitor.stop();
}

}  // namespace
