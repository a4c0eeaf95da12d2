#include "mp/progress_sampler.hpp"

#include <boost/asio/ip/address.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace {

using mp::progress_clock;
using mp::progress_sampler;
using mp::progress_snapshot;
using mp::subflow_sample;

progress_clock::time_point at(double seconds) {
  return progress_clock::time_point{} +
         std::chrono::duration_cast<progress_clock::duration>(std::chrono::duration<double>(seconds));
}

mp::socket_address addr(const char* ip, std::uint16_t port) {
  return {boost::asio::ip::make_address(ip), port};
}

// Two paths of one connection: same server address, different client addresses.
subflow_sample path_a(std::uint64_t bytes, std::uint32_t id = 1) {
  return {id, addr("10.0.1.2", 40000), addr("10.0.0.1", 8080), bytes, 1500, 10};
}
subflow_sample path_b(std::uint64_t bytes, std::uint32_t id = 2) {
  return {id, addr("10.0.2.2", 40001), addr("10.0.0.1", 8080), bytes, 30000, 20};
}
subflow_sample path_c(std::uint64_t bytes, std::uint32_t id = 3) {
  return {id, addr("fd00::2", 40002), addr("fd00::1", 8080), bytes, 500, 30};
}

progress_snapshot snap(double seconds, std::uint64_t transfer_bytes,
                       std::vector<subflow_sample> subflows) {
  return {at(seconds), transfer_bytes, std::move(subflows)};
}

mp::subflow_stats stats_row(std::uint32_t id, std::uint64_t sent, std::uint64_t retrans,
                            std::uint64_t received) {
  mp::subflow_stats sf;
  sf.id = id;
  sf.local = addr("192.0.2.1", static_cast<std::uint16_t>(50000 + id));
  sf.remote = addr("198.51.100.1", 80);
  sf.bytes_sent = sent;
  sf.bytes_retrans = retrans;
  sf.bytes_received = received;
  sf.bytes_acked = 7;  // never the progress counter
  sf.rtt_us = 1000 * id;
  sf.cwnd = 10 * id;
  return sf;
}

// --- make_snapshot ---------------------------------------------------------------------------

TEST(MakeSnapshot, SenderCountsBytesSentMinusRetransmitted) {
  mp::connection_stats stats;
  stats.subflow_list = {stats_row(1, 10'000, 1'500, 99), stats_row(2, 4'000, 0, 55)};
  const auto snapshot = mp::make_snapshot(at(3), 12'345, stats, mp::transfer_direction::send);
  EXPECT_EQ(snapshot.time, at(3));
  EXPECT_EQ(snapshot.transfer_bytes, 12'345u);
  ASSERT_EQ(snapshot.subflows.size(), 2u);
  EXPECT_EQ(snapshot.subflows[0].bytes, 8'500u);
  EXPECT_EQ(snapshot.subflows[1].bytes, 4'000u);
}

TEST(MakeSnapshot, ReceiverCountsBytesReceived) {
  mp::connection_stats stats;
  stats.subflow_list = {stats_row(1, 10'000, 1'500, 99), stats_row(2, 4'000, 0, 55)};
  const auto snapshot = mp::make_snapshot(at(0), 0, stats, mp::transfer_direction::receive);
  ASSERT_EQ(snapshot.subflows.size(), 2u);
  EXPECT_EQ(snapshot.subflows[0].bytes, 99u);
  EXPECT_EQ(snapshot.subflows[1].bytes, 55u);
}

TEST(MakeSnapshot, RetransmittedAboveSentClampsToZero) {
  mp::connection_stats stats;
  stats.subflow_list = {stats_row(1, 100, 200, 0)};
  const auto snapshot = mp::make_snapshot(at(0), 0, stats, mp::transfer_direction::send);
  ASSERT_EQ(snapshot.subflows.size(), 1u);
  EXPECT_EQ(snapshot.subflows[0].bytes, 0u);
}

TEST(MakeSnapshot, CopiesIdentityRttAndCwnd) {
  mp::connection_stats stats;
  stats.subflow_list = {stats_row(4, 1, 0, 0)};
  const auto snapshot = mp::make_snapshot(at(0), 0, stats, mp::transfer_direction::send);
  ASSERT_EQ(snapshot.subflows.size(), 1u);
  const auto& s = snapshot.subflows[0];
  EXPECT_EQ(s.id, 4u);
  EXPECT_EQ(s.local, addr("192.0.2.1", 50004));
  EXPECT_EQ(s.remote, addr("198.51.100.1", 80));
  EXPECT_EQ(s.rtt_us, 4000u);
  EXPECT_EQ(s.cwnd, 40u);
}

TEST(MakeSnapshot, NoSubflowsGivesEmptySnapshot) {
  const auto snapshot =
      mp::make_snapshot(at(1), 5, mp::connection_stats{}, mp::transfer_direction::receive);
  EXPECT_TRUE(snapshot.subflows.empty());
  EXPECT_EQ(snapshot.transfer_bytes, 5u);
}

// --- add(): intervals ------------------------------------------------------------------------

TEST(ProgressSampler, FirstSnapshotHasNoDurationAndSetsBaseline) {
  progress_sampler sampler;
  const auto first = sampler.add(snap(10, 4'096, {path_a(1'000'000)}));
  EXPECT_EQ(first.seconds, 0);
  EXPECT_EQ(first.transfer_delta, 4'096u);
  EXPECT_EQ(first.transfer_rate, 0);
  ASSERT_EQ(first.subflows.size(), 1u);
  EXPECT_EQ(first.subflows[0].delta_bytes, 0u);  // keep-alive bytes before this transfer
  EXPECT_EQ(first.subflows[0].rate, 0);
  EXPECT_EQ(first.subflows[0].share, 0);
  EXPECT_FALSE(first.subflows[0].joined);
  EXPECT_TRUE(first.gone.empty());
  EXPECT_EQ(sampler.transfer_bytes(), 4'096u);
}

TEST(ProgressSampler, IntervalGivesDeltasRatesAndShares) {
  progress_sampler sampler;
  sampler.add(snap(0, 0, {path_a(100), path_b(200)}));
  const auto interval = sampler.add(snap(2, 4'000, {path_a(3'100), path_b(1'200)}));
  EXPECT_DOUBLE_EQ(interval.seconds, 2.0);
  EXPECT_EQ(interval.transfer_delta, 4'000u);
  EXPECT_DOUBLE_EQ(interval.transfer_rate, 2'000.0);
  ASSERT_EQ(interval.subflows.size(), 2u);
  EXPECT_EQ(interval.subflows[0].sample.id, 1u);
  EXPECT_EQ(interval.subflows[0].delta_bytes, 3'000u);
  EXPECT_DOUBLE_EQ(interval.subflows[0].rate, 1'500.0);
  EXPECT_DOUBLE_EQ(interval.subflows[0].share, 0.75);
  EXPECT_EQ(interval.subflows[1].sample.id, 2u);
  EXPECT_EQ(interval.subflows[1].delta_bytes, 1'000u);
  EXPECT_DOUBLE_EQ(interval.subflows[1].rate, 500.0);
  EXPECT_DOUBLE_EQ(interval.subflows[1].share, 0.25);
  EXPECT_FALSE(interval.subflows[0].joined);
  EXPECT_FALSE(interval.subflows[1].joined);
  EXPECT_TRUE(interval.gone.empty());
}

TEST(ProgressSampler, SubMillisecondIntervalIsMeasuredInSeconds) {
  progress_sampler sampler;
  sampler.add(snap(1.0, 0, {path_a(0)}));
  const auto interval = sampler.add(snap(1.25, 1'000, {path_a(500)}));
  EXPECT_DOUBLE_EQ(interval.seconds, 0.25);
  EXPECT_DOUBLE_EQ(interval.transfer_rate, 4'000.0);
  EXPECT_DOUBLE_EQ(interval.subflows[0].rate, 2'000.0);
}

TEST(ProgressSampler, IdleIntervalHasZeroSharesNotNaN) {
  progress_sampler sampler;
  sampler.add(snap(0, 10, {path_a(10), path_b(10)}));
  const auto interval = sampler.add(snap(1, 10, {path_a(10), path_b(10)}));
  EXPECT_EQ(interval.transfer_delta, 0u);
  EXPECT_EQ(interval.transfer_rate, 0);
  for (const auto& row : interval.subflows) {
    EXPECT_EQ(row.delta_bytes, 0u);
    EXPECT_EQ(row.share, 0);
  }
}

TEST(ProgressSampler, ZeroLengthIntervalHasNoRate) {
  progress_sampler sampler;
  sampler.add(snap(5, 0, {path_a(0)}));
  const auto interval = sampler.add(snap(5, 100, {path_a(100)}));
  EXPECT_EQ(interval.seconds, 0);
  EXPECT_EQ(interval.transfer_delta, 100u);
  EXPECT_EQ(interval.transfer_rate, 0);
  EXPECT_EQ(interval.subflows[0].delta_bytes, 100u);
  EXPECT_EQ(interval.subflows[0].rate, 0);
  EXPECT_DOUBLE_EQ(interval.subflows[0].share, 1.0);
}

TEST(ProgressSampler, TransferCountGoingBackwardsGivesZeroDelta) {
  progress_sampler sampler;
  sampler.add(snap(0, 1'000, {}));
  const auto interval = sampler.add(snap(1, 400, {}));
  EXPECT_EQ(interval.transfer_delta, 0u);
  EXPECT_EQ(sampler.transfer_bytes(), 400u);
}

// --- joins, resets, departures ---------------------------------------------------------------

TEST(ProgressSampler, SubflowJoiningMidTransferCountsItsWholeCounter) {
  progress_sampler sampler;
  sampler.add(snap(0, 0, {path_a(0)}));
  const auto interval = sampler.add(snap(1, 3'000, {path_a(1'000), path_b(2'000)}));
  ASSERT_EQ(interval.subflows.size(), 2u);
  EXPECT_FALSE(interval.subflows[0].joined);
  EXPECT_TRUE(interval.subflows[1].joined);
  EXPECT_EQ(interval.subflows[1].delta_bytes, 2'000u);
  EXPECT_DOUBLE_EQ(interval.subflows[1].rate, 2'000.0);
  EXPECT_NEAR(interval.subflows[1].share, 2.0 / 3.0, 1e-12);

  const auto next = sampler.add(snap(2, 3'500, {path_a(1'000), path_b(2'500)}));
  EXPECT_FALSE(next.subflows[1].joined);  // joined is reported once
  EXPECT_EQ(next.subflows[1].delta_bytes, 500u);

  const auto totals = sampler.totals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[1].carried, 2'500u);
}

TEST(ProgressSampler, SubflowsAtFirstSnapshotExcludeEarlierBytesFromTotals) {
  progress_sampler sampler;
  sampler.add(snap(0, 0, {path_a(50'000), path_b(7'000)}));  // a keep-alive connection
  sampler.add(snap(1, 3'000, {path_a(52'000), path_b(8'000)}));
  const auto totals = sampler.totals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0].carried, 2'000u);
  EXPECT_EQ(totals[1].carried, 1'000u);
  EXPECT_EQ(totals[0].last.bytes, 52'000u);  // the raw counter is still what the kernel said
}

TEST(ProgressSampler, CounterGoingBackwardsIsANewSubflowOnTheSameAddresses) {
  progress_sampler sampler;
  sampler.add(snap(0, 0, {path_a(0)}));
  sampler.add(snap(1, 5'000, {path_a(5'000)}));
  const auto interval = sampler.add(snap(2, 5'300, {path_a(300)}));
  ASSERT_EQ(interval.subflows.size(), 1u);
  EXPECT_EQ(interval.subflows[0].delta_bytes, 300u);  // not a huge unsigned wrap-around
  EXPECT_DOUBLE_EQ(interval.subflows[0].rate, 300.0);
  EXPECT_TRUE(interval.gone.empty());
  const auto totals = sampler.totals();
  ASSERT_EQ(totals.size(), 1u);
  EXPECT_EQ(totals[0].carried, 5'300u);
}

TEST(ProgressSampler, SameAddressesWithOtherIdAreADifferentSubflow) {
  progress_sampler sampler;
  sampler.add(snap(0, 0, {path_a(0, 1)}));
  const auto interval = sampler.add(snap(1, 0, {path_a(100, 7)}));
  ASSERT_EQ(interval.subflows.size(), 1u);
  EXPECT_TRUE(interval.subflows[0].joined);
  ASSERT_EQ(interval.gone.size(), 1u);
  EXPECT_EQ(interval.gone[0].id, 1u);
  EXPECT_EQ(sampler.totals().size(), 2u);
}

TEST(ProgressSampler, GoneSubflowIsReportedOnceAndKeepsItsTotal) {
  progress_sampler sampler;
  sampler.add(snap(0, 0, {path_a(0), path_b(0)}));
  sampler.add(snap(1, 2'000, {path_a(1'000), path_b(1'000)}));

  const auto departed = sampler.add(snap(2, 3'000, {path_a(2'000)}));
  ASSERT_EQ(departed.subflows.size(), 1u);
  ASSERT_EQ(departed.gone.size(), 1u);
  EXPECT_EQ(departed.gone[0].id, 2u);
  EXPECT_EQ(departed.gone[0].bytes, 1'000u);  // its last sample
  EXPECT_EQ(departed.gone[0].remote, addr("10.0.0.1", 8080));
  EXPECT_DOUBLE_EQ(departed.subflows[0].share, 1.0);

  const auto later = sampler.add(snap(3, 4'000, {path_a(3'000)}));
  EXPECT_TRUE(later.gone.empty());

  const auto totals = sampler.totals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_TRUE(totals[0].open);
  EXPECT_EQ(totals[0].carried, 3'000u);
  EXPECT_FALSE(totals[1].open);
  EXPECT_EQ(totals[1].carried, 1'000u);
  EXPECT_DOUBLE_EQ(totals[0].share, 0.75);
  EXPECT_DOUBLE_EQ(totals[1].share, 0.25);
}

TEST(ProgressSampler, AllSubflowsGoneAtOnce) {
  progress_sampler sampler;
  sampler.add(snap(0, 0, {path_a(0), path_b(0)}));
  const auto interval = sampler.add(snap(1, 0, {}));
  EXPECT_TRUE(interval.subflows.empty());
  ASSERT_EQ(interval.gone.size(), 2u);
  EXPECT_EQ(interval.gone[0].id, 1u);  // in the order of the previous snapshot
  EXPECT_EQ(interval.gone[1].id, 2u);
  for (const auto& total : sampler.totals()) EXPECT_FALSE(total.open);
}

TEST(ProgressSampler, SubflowReturningAfterGoneContinuesFromItsLastCount) {
  progress_sampler sampler;
  sampler.add(snap(0, 0, {path_a(0), path_b(0)}));
  sampler.add(snap(1, 0, {path_a(100), path_b(100)}));
  sampler.add(snap(2, 0, {path_a(200)}));
  const auto back = sampler.add(snap(3, 0, {path_a(300), path_b(150)}));
  ASSERT_EQ(back.subflows.size(), 2u);
  EXPECT_FALSE(back.subflows[1].joined);
  EXPECT_EQ(back.subflows[1].delta_bytes, 50u);
  EXPECT_TRUE(back.gone.empty());
  EXPECT_EQ(sampler.totals()[1].carried, 150u);
}

// --- totals() and elapsed_seconds() ----------------------------------------------------------

TEST(ProgressSampler, TotalsAreInOrderOfFirstAppearanceNotKeyOrder) {
  progress_sampler sampler;
  // Ids descending and addresses unsorted, so a map-ordered result would differ.
  sampler.add(snap(0, 0, {path_c(0, 9)}));
  sampler.add(snap(1, 0, {path_c(10, 9), path_b(20, 5)}));
  sampler.add(snap(2, 0, {path_c(10, 9), path_b(20, 5), path_a(70, 1)}));
  const auto totals = sampler.totals();
  ASSERT_EQ(totals.size(), 3u);
  EXPECT_EQ(totals[0].last.id, 9u);
  EXPECT_EQ(totals[1].last.id, 5u);
  EXPECT_EQ(totals[2].last.id, 1u);
  EXPECT_EQ(totals[0].carried, 10u);
  EXPECT_EQ(totals[1].carried, 20u);
  EXPECT_EQ(totals[2].carried, 70u);
  EXPECT_DOUBLE_EQ(totals[0].share, 0.1);
  EXPECT_DOUBLE_EQ(totals[1].share, 0.2);
  EXPECT_DOUBLE_EQ(totals[2].share, 0.7);
  EXPECT_EQ(totals[2].last.rtt_us, 1500u);
  EXPECT_EQ(totals[0].last.remote, addr("fd00::1", 8080));
}

TEST(ProgressSampler, TotalsWithNothingCarriedHaveZeroShares) {
  progress_sampler sampler;
  EXPECT_TRUE(sampler.totals().empty());
  sampler.add(snap(0, 0, {path_a(123), path_b(456)}));
  const auto totals = sampler.totals();
  ASSERT_EQ(totals.size(), 2u);
  for (const auto& total : totals) {
    EXPECT_EQ(total.carried, 0u);
    EXPECT_EQ(total.share, 0);
    EXPECT_TRUE(total.open);
  }
}

TEST(ProgressSampler, ElapsedSecondsRunsFromFirstToLatestSnapshot) {
  progress_sampler sampler;
  EXPECT_EQ(sampler.elapsed_seconds(), 0);
  sampler.add(snap(100, 0, {}));
  EXPECT_EQ(sampler.elapsed_seconds(), 0);
  sampler.add(snap(101.5, 0, {}));
  EXPECT_DOUBLE_EQ(sampler.elapsed_seconds(), 1.5);
  sampler.add(snap(104, 0, {}));
  EXPECT_DOUBLE_EQ(sampler.elapsed_seconds(), 4.0);
}

TEST(ProgressSampler, WorksEndToEndFromConnectionStats) {
  progress_sampler sampler;
  mp::connection_stats stats;
  stats.subflow_list = {stats_row(1, 1'000, 0, 0)};
  sampler.add(mp::make_snapshot(at(0), 0, stats, mp::transfer_direction::send));
  stats.subflow_list = {stats_row(1, 5'000, 1'000, 0), stats_row(2, 2'000, 0, 0)};
  const auto interval =
      sampler.add(mp::make_snapshot(at(1), 6'000, stats, mp::transfer_direction::send));
  ASSERT_EQ(interval.subflows.size(), 2u);
  EXPECT_EQ(interval.subflows[0].delta_bytes, 3'000u);  // 4'000 new minus the 1'000 baseline
  EXPECT_EQ(interval.subflows[1].delta_bytes, 2'000u);
  EXPECT_TRUE(interval.subflows[1].joined);
}

}  // namespace
