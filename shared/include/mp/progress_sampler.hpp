#pragma once
// Progress math, free of I/O and clocks: successive snapshots of per-subflow byte counters
// in, per-interval deltas, rates and shares out. Subflows that vanish keep their last total,
// so a summary still shows what a closed path carried.

#include "mp/connection_info.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

namespace mp {

using progress_clock = std::chrono::steady_clock;

// The byte counter that tells progress: for a sender, bytes the subflow put on the wire the
// first time (sent minus retransmitted: acked lags behind at the end of a transfer); for a
// receiver, bytes received.
enum class transfer_direction { send, receive };

struct subflow_sample {
  std::uint32_t id = 0;
  socket_address local, remote;
  std::uint64_t bytes = 0;  // cumulative for this subflow
  std::uint32_t rtt_us = 0;
  std::uint32_t cwnd = 0;
  std::uint32_t retransmits = 0;  // segments retransmitted so far (a sender's sign of loss)
};

// What identifies one subflow across snapshots: its id and both addresses (a restored path may
// come back with the same id).
using subflow_key = std::tuple<std::uint32_t, std::string, std::string>;
subflow_key key_of(const subflow_sample& sample);

struct progress_snapshot {
  progress_clock::time_point time;
  std::uint64_t transfer_bytes = 0;  // the application's own count of body bytes done
  std::vector<subflow_sample> subflows;
};

// Turns connection_stats into a snapshot, choosing the counter by direction.
progress_snapshot make_snapshot(progress_clock::time_point time, std::uint64_t transfer_bytes,
                                const connection_stats& stats, transfer_direction direction);

struct subflow_interval {
  subflow_sample sample;
  std::uint64_t delta_bytes = 0;
  double rate = 0;   // bytes per second over the interval
  double share = 0;  // of all subflows' delta_bytes in the interval, 0..1
  bool joined = false;  // first seen in this snapshot
};

struct progress_interval {
  double seconds = 0;  // since the previous snapshot (0 for the first)
  std::uint64_t transfer_delta = 0;
  double transfer_rate = 0;
  std::vector<subflow_interval> subflows;
  std::vector<subflow_sample> gone;  // present before, absent now
};

struct subflow_total {
  subflow_sample last;
  std::uint64_t carried = 0;  // bytes since the first snapshot (or since it joined)
  double share = 0;  // of the sum of all subflows' carried bytes
  bool open = false;  // present in the latest snapshot
};

class progress_sampler {
public:
  progress_interval add(const progress_snapshot& snapshot);
  std::vector<subflow_total> totals() const;  // in order of first appearance
  double elapsed_seconds() const;             // first to latest snapshot
  std::uint64_t transfer_bytes() const { return latest_transfer_bytes_; }

private:
  using key = subflow_key;

  struct tracked {
    subflow_sample last;
    std::uint64_t baseline = 0;  // counter value before this transfer, for subflows it inherits
    std::uint64_t carried = 0;
    std::size_t order = 0;
    bool open = false;
  };
  std::map<key, tracked> subflows_;
  std::vector<key> previous_open_;
  std::size_t next_order_ = 0;
  bool has_previous_ = false;
  progress_clock::time_point first_time_{}, previous_time_{};
  std::uint64_t latest_transfer_bytes_ = 0;
};

}  // namespace mp
