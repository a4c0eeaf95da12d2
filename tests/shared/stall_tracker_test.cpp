#include "mp/stall_tracker.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using mp::progress_snapshot;
using mp::stall_tracker;
using mp::subflow_change;
using mp::subflow_sample;

const auto t0 = mp::progress_clock::time_point{} + 1h;

subflow_sample subflow(std::uint32_t id, std::uint64_t bytes, std::uint32_t retransmits = 0) {
  subflow_sample s;
  s.id = id;
  s.local = {boost::asio::ip::make_address(id == 1 ? "192.0.2.2" : "198.51.100.2"), 40000};
  s.remote = {boost::asio::ip::make_address(id == 1 ? "192.0.2.1" : "198.51.100.1"), 8080};
  s.bytes = bytes;
  s.retransmits = retransmits;
  return s;
}

progress_snapshot at(std::chrono::milliseconds t, std::vector<subflow_sample> subflows) {
  return {t0 + t, 0, std::move(subflows)};
}

TEST(StallTracker, MovingSubflowsNeverStall) {
  stall_tracker tracker(1s);
  for (int i = 0; i <= 10; ++i)
    EXPECT_TRUE(tracker.add(at(i * 500ms, {subflow(1, 1000u * (i + 1)), subflow(2, 500u * (i + 1))})).empty());
}

TEST(StallTracker, StillCounterStallsOnceThenResumes) {
  stall_tracker tracker(1s);
  EXPECT_TRUE(tracker.add(at(0ms, {subflow(1, 100), subflow(2, 100)})).empty());
  EXPECT_TRUE(tracker.add(at(500ms, {subflow(1, 200), subflow(2, 200)})).empty());
  // Path A stops at 200 bytes while B goes on; its sender retransmits.
  EXPECT_TRUE(tracker.add(at(1000ms, {subflow(1, 200, 2), subflow(2, 300)})).empty());
  auto changes = tracker.add(at(1500ms, {subflow(1, 200, 4), subflow(2, 400)}));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].what, subflow_change::kind::stalled);
  EXPECT_EQ(changes[0].sample.id, 1u);
  EXPECT_DOUBLE_EQ(changes[0].seconds, 1.0);
  EXPECT_EQ(changes[0].retransmits, 4u);
  // Reported once, not every interval.
  EXPECT_TRUE(tracker.add(at(2000ms, {subflow(1, 200, 6), subflow(2, 500)})).empty());
  EXPECT_TRUE(tracker.add(at(4500ms, {subflow(1, 200, 9), subflow(2, 900)})).empty());
  changes = tracker.add(at(5000ms, {subflow(1, 300, 9), subflow(2, 1000)}));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].what, subflow_change::kind::resumed);
  EXPECT_DOUBLE_EQ(changes[0].seconds, 4.5);  // last moved at 0.5 s
  EXPECT_EQ(changes[0].retransmits, 9u);
  // And it can stall again.
  EXPECT_TRUE(tracker.add(at(5500ms, {subflow(1, 300, 9), subflow(2, 1100)})).empty());
  changes = tracker.add(at(6000ms, {subflow(1, 300, 9), subflow(2, 1200)}));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].what, subflow_change::kind::stalled);
  EXPECT_EQ(changes[0].retransmits, 0u);
}

TEST(StallTracker, EverySubflowStallsInATotalOutage) {
  stall_tracker tracker(1s);
  tracker.add(at(0ms, {subflow(1, 100), subflow(2, 100)}));
  tracker.add(at(500ms, {subflow(1, 200), subflow(2, 200)}));
  EXPECT_EQ(tracker.add(at(1500ms, {subflow(1, 200), subflow(2, 200)})).size(), 2u);
}

TEST(StallTracker, SubflowThatNeverCarriedIsUnusedNotStalled) {
  stall_tracker tracker(1s);
  tracker.add(at(0ms, {subflow(1, 100), subflow(2, 0)}));
  for (int i = 1; i <= 6; ++i)
    EXPECT_TRUE(tracker.add(at(i * 500ms, {subflow(1, 100u + 100u * i), subflow(2, 0)})).empty());
}

TEST(StallTracker, SubflowInheritedWithBytesHasCarried) {
  stall_tracker tracker(1s);  // a kept-alive connection: counters start above zero
  tracker.add(at(0ms, {subflow(1, 5000)}));
  EXPECT_EQ(tracker.add(at(1000ms, {subflow(1, 5000)})).size(), 1u);
}

TEST(StallTracker, GoneSubflowIsForgottenAndARejoinStartsAfresh) {
  stall_tracker tracker(1s);
  tracker.add(at(0ms, {subflow(1, 100), subflow(2, 100)}));
  tracker.add(at(500ms, {subflow(2, 200)}));  // 1 closed
  // Same id and addresses again later (a restored path): not a resume of the old one.
  EXPECT_TRUE(tracker.add(at(3000ms, {subflow(1, 0), subflow(2, 900)})).empty());
  EXPECT_TRUE(tracker.add(at(3500ms, {subflow(1, 50), subflow(2, 1000)})).empty());
}

}  // namespace
