#include "pm_event_labeler.hpp"

#include <gtest/gtest.h>

#include <map>

namespace {

using mpserve::labeled_pm_event;
using mpserve::pm_event_labeler;
using namespace std::chrono_literals;

mp::pm_event event_of(mp::pm_event_type type, std::uint32_t token) {
  mp::pm_event event;
  event.type = type;
  event.token = token;
  return event;
}

// What the server's sessions have named so far.
struct names {
  std::map<std::uint32_t, std::string> live;
  pm_event_labeler::name_lookup lookup() {
    return [this](std::uint32_t token) {
      const auto it = live.find(token);
      return it == live.end() ? std::string() : it->second;
    };
  }
};

std::vector<std::string> described(const std::vector<labeled_pm_event>& events) {
  std::vector<std::string> out;
  for (const auto& [event, label] : events)
    out.push_back(std::string(mp::to_string(event.type)) + " " + std::to_string(event.token) +
                  " " + (label.empty() ? "-" : label));
  return out;
}

const auto t0 = pm_event_labeler::clock::time_point{} + 1h;

TEST(PmEventLabeler, NamedConnectionIsReportedAtOnce) {
  names server;
  server.live[7] = "[#1 192.0.2.2]";
  pm_event_labeler labeler;
  EXPECT_EQ(described(labeler.offer(event_of(mp::pm_event_type::created, 7), t0, server.lookup())),
            std::vector<std::string>{"created 7 [#1 192.0.2.2]"});
  EXPECT_FALSE(labeler.next_deadline());
}

TEST(PmEventLabeler, EventsBeforeTheNameWaitForItInOrder) {
  names server;
  pm_event_labeler labeler(250ms);
  EXPECT_TRUE(labeler.offer(event_of(mp::pm_event_type::created, 7), t0, server.lookup()).empty());
  EXPECT_TRUE(
      labeler.offer(event_of(mp::pm_event_type::established, 7), t0 + 1ms, server.lookup()).empty());
  ASSERT_TRUE(labeler.next_deadline());
  EXPECT_EQ(*labeler.next_deadline(), t0 + 250ms);
  EXPECT_TRUE(labeler.poll(t0 + 2ms, server.lookup()).empty());  // still no name, not yet due

  server.live[7] = "[#1 192.0.2.2]";
  EXPECT_EQ(described(labeler.poll(t0 + 3ms, server.lookup())),
            (std::vector<std::string>{"created 7 [#1 192.0.2.2]", "established 7 [#1 192.0.2.2]"}));
  EXPECT_FALSE(labeler.next_deadline());
}

TEST(PmEventLabeler, NamedEventReleasesItsConnectionsHeldEventsFirst) {
  names server;
  pm_event_labeler labeler;
  labeler.offer(event_of(mp::pm_event_type::created, 7), t0, server.lookup());
  labeler.offer(event_of(mp::pm_event_type::created, 9), t0, server.lookup());
  server.live[7] = "[#1 a]";
  EXPECT_EQ(described(labeler.offer(event_of(mp::pm_event_type::sub_established, 7), t0 + 1ms,
                                    server.lookup())),
            (std::vector<std::string>{"created 7 [#1 a]", "sub_established 7 [#1 a]"}));
  // The other connection still waits.
  ASSERT_TRUE(labeler.next_deadline());
}

TEST(PmEventLabeler, UnnamedEventsGoOutBareAfterTheWait) {
  names server;
  pm_event_labeler labeler(250ms);
  labeler.offer(event_of(mp::pm_event_type::created, 7), t0, server.lookup());
  EXPECT_TRUE(labeler.poll(t0 + 249ms, server.lookup()).empty());
  EXPECT_EQ(described(labeler.poll(t0 + 250ms, server.lookup())),
            std::vector<std::string>{"created 7 -"});
}

TEST(PmEventLabeler, NameOutlivesTheSessionUntilClosed) {
  names server;
  server.live[7] = "[#1 a]";
  pm_event_labeler labeler;
  labeler.offer(event_of(mp::pm_event_type::created, 7), t0, server.lookup());
  server.live.erase(7);  // the session ended; the kernel's closed event comes after
  EXPECT_EQ(described(labeler.offer(event_of(mp::pm_event_type::closed, 7), t0 + 1s,
                                    server.lookup())),
            std::vector<std::string>{"closed 7 [#1 a]"});
  // The token may come back for another connection: the old name is not reused.
  EXPECT_TRUE(labeler.offer(event_of(mp::pm_event_type::created, 7), t0 + 2s, server.lookup())
                  .empty());
  server.live[7] = "[#2 b]";
  EXPECT_EQ(described(labeler.poll(t0 + 2s + 1ms, server.lookup())),
            std::vector<std::string>{"created 7 [#2 b]"});
}

TEST(PmEventLabeler, ListenerEventsAreNotHeld) {
  names server;
  pm_event_labeler labeler;
  EXPECT_EQ(described(labeler.offer(event_of(mp::pm_event_type::listener_created, 0), t0,
                                    server.lookup())),
            std::vector<std::string>{"listener_created 0 -"});
}

TEST(PmEventLabeler, HoldingIsBounded) {
  names server;
  pm_event_labeler labeler(250ms, 3);
  for (std::uint32_t token = 1; token <= 3; ++token)
    EXPECT_TRUE(labeler.offer(event_of(mp::pm_event_type::created, token), t0, server.lookup()).empty());
  EXPECT_EQ(described(labeler.offer(event_of(mp::pm_event_type::created, 4), t0, server.lookup())),
            std::vector<std::string>{"created 1 -"});
}

}  // namespace
