// Picking a program's own connections out of the namespace-wide path-manager events.
#include "mp/pm_event_filter.hpp"

#include <gtest/gtest.h>

namespace {

using mp::pm_event;
using mp::pm_event_type;

pm_event make(pm_event_type type, std::uint32_t token, std::uint16_t local_port = 0,
              bool server_side = false) {
  pm_event e;
  e.type = type;
  e.token = token;
  if (local_port) e.local = mp::socket_address{boost::asio::ip::make_address("192.0.2.1"), local_port};
  if (server_side) e.server_side = true;
  return e;
}

TEST(PmEventFilter, ServerKeepsConnectionsCreatedOnItsPortUntilClosed) {
  mp::pm_event_filter filter;
  filter.watch_listener_port(8000);
  EXPECT_EQ(filter.offer(make(pm_event_type::created, 7, 8000, true)).size(), 1u);
  EXPECT_TRUE(filter.watching(7));
  // Subflow events carry the token but not always the listener's port.
  EXPECT_EQ(filter.offer(make(pm_event_type::sub_established, 7, 41000)).size(), 1u);
  // Another program's connection on another port, and the client side of ours, are not ours.
  EXPECT_TRUE(filter.offer(make(pm_event_type::created, 8, 9000, true)).empty());
  EXPECT_TRUE(filter.offer(make(pm_event_type::created, 9, 8000, false)).empty());
  EXPECT_EQ(filter.offer(make(pm_event_type::closed, 7)).size(), 1u);
  EXPECT_FALSE(filter.watching(7));
  EXPECT_TRUE(filter.offer(make(pm_event_type::sub_closed, 7)).empty());
}

TEST(PmEventFilter, ClientGetsItsEarlierEventsWhenItClaimsTheToken) {
  mp::pm_event_filter filter;
  EXPECT_TRUE(filter.offer(make(pm_event_type::created, 5)).empty());
  EXPECT_TRUE(filter.offer(make(pm_event_type::created, 6)).empty());
  EXPECT_TRUE(filter.offer(make(pm_event_type::established, 5)).empty());
  auto earlier = filter.watch_token(5);
  ASSERT_EQ(earlier.size(), 2u);
  EXPECT_EQ(earlier[0].type, pm_event_type::created);
  EXPECT_EQ(earlier[1].type, pm_event_type::established);
  EXPECT_TRUE(filter.watch_token(5).empty());  // handed out once
  EXPECT_EQ(filter.offer(make(pm_event_type::announced, 5)).size(), 1u);
  EXPECT_TRUE(filter.offer(make(pm_event_type::announced, 6)).empty());
}

TEST(PmEventFilter, TokenlessEventsAreNobodysAndThePendingBufferIsBounded) {
  mp::pm_event_filter filter(3);
  EXPECT_TRUE(filter.offer(make(pm_event_type::listener_created, 0, 8000, true)).empty());
  EXPECT_TRUE(filter.watch_token(0).empty());
  for (std::uint32_t token = 1; token <= 5; ++token) filter.offer(make(pm_event_type::created, token));
  EXPECT_TRUE(filter.watch_token(1).empty());  // dropped: only the newest three are kept
  EXPECT_EQ(filter.watch_token(5).size(), 1u);
}

}  // namespace
