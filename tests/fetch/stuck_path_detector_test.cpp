#include "stuck_path_detector.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using mp::progress_snapshot;
using mp::subflow_sample;
using mpfetch::stuck_path_detector;
using stuck_list = std::vector<stuck_path_detector::stuck_subflow>;

const auto t0 = mp::progress_clock::time_point{} + 1h;

// Path A (id 1) and path B (id 2), as in the lab; bytes are each subflow's received counter.
subflow_sample path(std::uint32_t id, std::uint64_t bytes) {
  subflow_sample s;
  s.id = id;
  s.local = {boost::asio::ip::make_address(id == 1 ? "192.0.2.2" : "198.51.100.2"), 40000};
  s.remote = {boost::asio::ip::make_address(id == 1 ? "192.0.2.1" : "198.51.100.1"), 8000};
  s.bytes = bytes;
  return s;
}

progress_snapshot at(std::chrono::milliseconds t, std::uint64_t downloaded, std::uint64_t a, std::uint64_t b) {
  return {t0 + t, downloaded, {path(1, a), path(2, b)}};
}

// Both paths deliver and the download advances every 50 ms until `until`.
void steady(stuck_path_detector& detector, std::chrono::milliseconds until) {
  for (std::chrono::milliseconds t = 0ms; t <= until; t += 50ms) {
    const std::uint64_t n = static_cast<std::uint64_t>(t.count()) * 1000;
    ASSERT_TRUE(detector.add(at(t, 2 * n, n, n)).empty()) << "at " << t.count() << " ms";
  }
}

TEST(StuckPathDetector, BothPathsDeliveringIsNeverStuck) {
  stuck_path_detector detector;
  steady(detector, 5000ms);
}

TEST(StuckPathDetector, APathGoneSilentWhileTheOtherDeliversOutOfOrderIsStuck) {
  stuck_path_detector detector;
  steady(detector, 1000ms);
  // At 1000 ms path A goes silent. B keeps delivering, but the download stops: B's data lies
  // after the hole A left.
  const std::uint64_t a = 1'000'000, b = 1'000'000, done = 2'000'000;
  stuck_list stuck;
  std::chrono::milliseconds found_at{};
  for (std::chrono::milliseconds t = 1050ms; t <= 1500ms && stuck.empty(); t += 50ms) {
    stuck = detector.add(at(t, done, a, b + static_cast<std::uint64_t>((t - 1000ms).count()) * 1000));
    found_at = t;
  }
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_EQ(stuck[0].sample.id, 1u);
  EXPECT_EQ(stuck[0].sample.local.address.to_string(), "192.0.2.2");
  EXPECT_EQ(found_at, 1250ms);  // quiet for 250 ms
  EXPECT_FALSE(stuck[0].address_still_carries);
  // Reported once, however long it stays stuck.
  EXPECT_TRUE(detector.add(at(1600ms, done, a, b + 700'000)).empty());
  EXPECT_TRUE(detector.add(at(2600ms, done, a, b + 700'000)).empty());
}

TEST(StuckPathDetector, WhenAllStopTogetherTheFirstToMoveAgainIsNotTheStuckOne) {
  // The sender's buffer was nearly full at the cut: B brings what it had in flight (out of
  // order) in the same sampling interval as A's last data, then all is still. Nothing tells
  // the paths apart until the sender re-sends a piece of the hole on B (its MPTCP
  // retransmission timer, ~200 ms): A is the one still quiet.
  stuck_path_detector detector;
  steady(detector, 1000ms);
  const std::uint64_t a = 1'020'000, b = 1'300'000, done = 2'000'000;
  for (std::chrono::milliseconds t = 1050ms; t <= 1200ms; t += 50ms)
    EXPECT_TRUE(detector.add(at(t, done, a, b)).empty()) << t.count();
  EXPECT_TRUE(detector.add(at(1250ms, done + 16'000, a, b + 16'000)).empty());  // quiet 200 ms
  auto stuck = detector.add(at(1300ms, done + 16'000, a, b + 16'000));
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_EQ(stuck[0].sample.id, 1u);
  // B, quiet since 1250 ms, is not taken for stuck: nothing moved after it.
  for (std::chrono::milliseconds t = 1350ms; t <= 2500ms; t += 50ms)
    EXPECT_TRUE(detector.add(at(t, done + 16'000, a, b + 16'000)).empty()) << t.count();
}

subflow_sample with_id(subflow_sample s, std::uint32_t id, const char* local, const char* remote) {
  s.id = id;
  s.local.address = boost::asio::ip::make_address(local);
  s.remote.address = boost::asio::ip::make_address(remote);
  return s;
}

TEST(StuckPathDetector, AnAddressThatStillCarriesToAnotherPeerAddressIsFlagged) {
  // One client address, two server addresses: the path to the server's first address dies,
  // the subflow from the same client address to its second one goes on. Taking the client's
  // address away would close the live subflow too.
  stuck_path_detector detector;
  auto snap = [](std::chrono::milliseconds t, std::uint64_t done, std::uint64_t a, std::uint64_t b) {
    return progress_snapshot{t0 + t, done,
                             {with_id(path(1, a), 1, "192.0.2.2", "192.0.2.1"),
                              with_id(path(2, b), 2, "192.0.2.2", "198.51.100.1")}};
  };
  for (std::chrono::milliseconds t = 0ms; t <= 1000ms; t += 50ms) {
    const std::uint64_t n = static_cast<std::uint64_t>(t.count()) * 1000;
    ASSERT_TRUE(detector.add(snap(t, 2 * n, n, n)).empty());
  }
  stuck_list stuck;
  for (std::chrono::milliseconds t = 1050ms; t <= 1500ms && stuck.empty(); t += 50ms)
    stuck = detector.add(snap(t, 2'000'000, 1'000'000, 1'000'000 + static_cast<std::uint64_t>((t - 1000ms).count()) * 1000));
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_EQ(stuck[0].sample.id, 1u);
  EXPECT_TRUE(stuck[0].address_still_carries);
}

TEST(StuckPathDetector, ASubflowIdleLongBeforeTheHoleIsNotReportedWithTheStuckOne) {
  // A third subflow carried data early, then the scheduler stopped using it. When path A's
  // hole appears, only A is what the data waits for.
  stuck_path_detector detector;
  auto snap = [](std::chrono::milliseconds t, std::uint64_t done, std::uint64_t a, std::uint64_t b) {
    return progress_snapshot{t0 + t, done, {path(1, a), path(2, b), with_id(path(3, 10'000), 3, "203.0.113.2", "203.0.113.1")}};
  };
  for (std::chrono::milliseconds t = 0ms; t <= 1000ms; t += 50ms) {
    const std::uint64_t n = static_cast<std::uint64_t>(t.count()) * 1000;
    ASSERT_TRUE(detector.add(snap(t, 2 * n + 10'000, n, n)).empty());
  }
  stuck_list stuck, all;
  for (std::chrono::milliseconds t = 1050ms; t <= 2000ms; t += 50ms) {
    stuck = detector.add(snap(t, 2'010'000, 1'000'000, 1'000'000 + static_cast<std::uint64_t>((t - 1000ms).count()) * 1000));
    all.insert(all.end(), stuck.begin(), stuck.end());
  }
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].sample.id, 1u);
}

TEST(StuckPathDetector, AJoinStillWaitingForItsSynDoesNotCountAsADeliveringPath) {
  // A and B stop in the same interval (nothing tells them apart), and a new subflow appears
  // with nothing received yet: it is no evidence that another path delivers.
  stuck_path_detector detector;
  steady(detector, 1000ms);
  const std::uint64_t a = 1'020'000, b = 1'300'000, done = 2'000'000;
  for (std::chrono::milliseconds t = 1050ms; t <= 1500ms; t += 50ms) {
    progress_snapshot snap = at(t, done, a, b);
    if (t >= 1200ms) snap.subflows.push_back(with_id(path(1, 0), 5, "192.0.2.2", "192.0.2.1"));
    EXPECT_TRUE(detector.add(snap).empty()) << t.count();
  }
}

TEST(StuckPathDetector, ReorderingThatIsFilledInIsNotWaiting) {
  // Out-of-order data that the slower path fills in within a sampling interval or two is
  // normal multipath reordering: A is quiet only briefly, and the level comes back.
  stuck_path_detector detector;
  steady(detector, 1000ms);
  EXPECT_TRUE(detector.add(at(1050ms, 2'000'000, 1'000'000, 1'200'000)).empty());
  EXPECT_TRUE(detector.add(at(1100ms, 2'000'000, 1'000'000, 1'300'000)).empty());
  EXPECT_TRUE(detector.add(at(1150ms, 2'600'000, 1'300'000, 1'300'000)).empty());
  for (std::chrono::milliseconds t = 1200ms; t <= 3000ms; t += 50ms) {
    const std::uint64_t n = 1'300'000 + static_cast<std::uint64_t>((t - 1150ms).count()) * 1000;
    EXPECT_TRUE(detector.add(at(t, 2 * n, n, n)).empty()) << t.count();
  }
}

TEST(StuckPathDetector, AnIdlePathWhileTheDownloadAdvancesIsNotStuck) {
  // The scheduler needs only B (a slow sender, a reader that keeps up): A is quiet, but
  // everything B brings is handed on, so nothing waits for A.
  stuck_path_detector detector;
  steady(detector, 500ms);
  for (std::chrono::milliseconds t = 550ms; t <= 3000ms; t += 50ms) {
    const std::uint64_t extra = static_cast<std::uint64_t>((t - 500ms).count()) * 1000;
    EXPECT_TRUE(detector.add(at(t, 1'000'000 + extra, 500'000, 500'000 + extra)).empty()) << t.count();
  }
}

TEST(StuckPathDetector, EverythingStillIsNotStuck) {
  // The server stopped sending (or the reader stopped reading): all quiet together.
  stuck_path_detector detector;
  steady(detector, 500ms);
  for (std::chrono::milliseconds t = 550ms; t <= 3000ms; t += 50ms)
    EXPECT_TRUE(detector.add(at(t, 1'000'000, 500'000, 500'000)).empty()) << t.count();
}

TEST(StuckPathDetector, DataThatAdvancedTheDownloadIsNotOutOfOrder) {
  // A goes quiet; B's last delivery was handed on at once (the download advanced with it),
  // then everything stops: a sender pausing, not a hole.
  stuck_path_detector detector;
  steady(detector, 500ms);
  EXPECT_TRUE(detector.add(at(550ms, 1'100'000, 500'000, 600'000)).empty());
  for (std::chrono::milliseconds t = 600ms; t <= 2000ms; t += 50ms)
    EXPECT_TRUE(detector.add(at(t, 1'100'000, 500'000, 600'000)).empty()) << t.count();
}

TEST(StuckPathDetector, ASubflowThatNeverCarriedIsNotStuck) {
  // A joined subflow the scheduler never used (a backup) is idle, not stuck.
  stuck_path_detector detector;
  for (std::chrono::milliseconds t = 0ms; t <= 300ms; t += 50ms)
    EXPECT_TRUE(detector.add(at(t, 5000, 0, 5000)).empty());
  for (std::chrono::milliseconds t = 350ms; t <= 2000ms; t += 50ms)
    EXPECT_TRUE(detector.add(at(t, 5000, 0, 5000 + static_cast<std::uint64_t>(t.count()))).empty()) << t.count();
}

TEST(StuckPathDetector, AReplacementSubflowIsWatchedAfresh) {
  stuck_path_detector detector;
  steady(detector, 1000ms);
  stuck_list stuck;
  for (std::chrono::milliseconds t = 1050ms; t <= 1300ms && stuck.empty(); t += 50ms)
    stuck = detector.add(at(t, 2'000'000, 1'000'000, 1'000'000 + static_cast<std::uint64_t>((t - 1000ms).count()) * 1000));
  ASSERT_EQ(stuck.size(), 1u);
  // The stuck subflow closed; a new one joins on path A (another id), carries, and goes silent again.
  auto rejoined = [](std::uint64_t bytes) {
    subflow_sample s = path(1, bytes);
    s.id = 3;
    s.local.port = 40001;
    return s;
  };
  std::uint64_t done = 2'000'000, b = 1'300'000;
  for (std::chrono::milliseconds t = 1350ms; t <= 2000ms; t += 50ms) {
    done += 100'000, b += 50'000;
    const std::uint64_t a = static_cast<std::uint64_t>((t - 1300ms).count()) * 1000;
    EXPECT_TRUE(detector.add({t0 + t, done, {rejoined(a), path(2, b)}}).empty());
  }
  stuck.clear();
  for (std::chrono::milliseconds t = 2050ms; t <= 2500ms && stuck.empty(); t += 50ms) {
    b += 50'000;
    stuck = detector.add({t0 + t, done, {rejoined(700'000), path(2, b)}});
  }
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_EQ(stuck[0].sample.id, 3u);
}

}  // namespace
