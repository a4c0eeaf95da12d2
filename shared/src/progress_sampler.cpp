#include "mp/progress_sampler.hpp"

#include <algorithm>

namespace mp {

progress_snapshot make_snapshot(progress_clock::time_point time, std::uint64_t transfer_bytes,
                                const connection_stats& stats, transfer_direction direction) {
  progress_snapshot snapshot{time, transfer_bytes, {}};
  snapshot.subflows.reserve(stats.subflow_list.size());
  for (const auto& sf : stats.subflow_list) {
    snapshot.subflows.push_back(subflow_sample{
        sf.id, sf.local, sf.remote,
        direction == transfer_direction::send
            ? (sf.bytes_sent >= sf.bytes_retrans ? sf.bytes_sent - sf.bytes_retrans : 0)
            : sf.bytes_received,
        sf.rtt_us,
        sf.cwnd,
        sf.total_retrans});
  }
  return snapshot;
}

subflow_key key_of(const subflow_sample& sample) {
  return {sample.id, sample.local.to_string(), sample.remote.to_string()};
}

progress_interval progress_sampler::add(const progress_snapshot& snapshot) {
  progress_interval interval;
  if (has_previous_) {
    interval.seconds = std::chrono::duration<double>(snapshot.time - previous_time_).count();
    interval.transfer_delta = snapshot.transfer_bytes >= latest_transfer_bytes_
                                  ? snapshot.transfer_bytes - latest_transfer_bytes_
                                  : 0;
  } else {
    first_time_ = snapshot.time;
    interval.transfer_delta = snapshot.transfer_bytes;
  }
  const bool timed = interval.seconds > 0;
  if (timed) interval.transfer_rate = static_cast<double>(interval.transfer_delta) / interval.seconds;

  for (auto& [k, t] : subflows_) t.open = false;
  std::uint64_t delta_sum = 0;
  for (const auto& sample : snapshot.subflows) {
    subflow_interval row{sample, 0, 0, 0, false};
    auto [it, inserted] = subflows_.try_emplace(key_of(sample));
    if (inserted) {
      it->second.order = next_order_++;
      if (has_previous_) {
        // Joined during the transfer: everything it carried belongs to this transfer.
        row.joined = true;
        row.delta_bytes = sample.bytes;
      } else {
        // Present at the start (a keep-alive connection): earlier requests' bytes don't count.
        it->second.baseline = sample.bytes;
      }
    } else {
      // A counter that went backwards is a new subflow that reused the same addresses and id.
      const std::uint64_t before = it->second.last.bytes;
      row.delta_bytes = sample.bytes >= before ? sample.bytes - before : sample.bytes;
    }
    it->second.carried += row.delta_bytes;
    it->second.last = sample;
    it->second.open = true;
    if (timed) row.rate = static_cast<double>(row.delta_bytes) / interval.seconds;
    delta_sum += row.delta_bytes;
    interval.subflows.push_back(row);
  }
  for (auto& row : interval.subflows)
    row.share = delta_sum ? static_cast<double>(row.delta_bytes) / static_cast<double>(delta_sum) : 0;

  if (has_previous_) {
    for (const auto& previous : previous_open_) {
      auto it = subflows_.find(previous);
      if (it != subflows_.end() && !it->second.open) interval.gone.push_back(it->second.last);
    }
  }
  previous_open_.clear();
  for (const auto& sample : snapshot.subflows) previous_open_.push_back(key_of(sample));

  has_previous_ = true;
  previous_time_ = snapshot.time;
  latest_transfer_bytes_ = snapshot.transfer_bytes;
  return interval;
}

std::vector<subflow_total> progress_sampler::totals() const {
  std::vector<std::pair<std::size_t, subflow_total>> ordered;
  std::uint64_t sum = 0;
  for (const auto& [k, t] : subflows_) {
    ordered.push_back({t.order, subflow_total{t.last, t.carried, 0, t.open}});
    sum += t.carried;
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<subflow_total> result;
  for (auto& [order, total] : ordered) {
    total.share = sum ? static_cast<double>(total.carried) / static_cast<double>(sum) : 0;
    result.push_back(total);
  }
  return result;
}

double progress_sampler::elapsed_seconds() const {
  if (!has_previous_) return 0;
  return std::chrono::duration<double>(previous_time_ - first_time_).count();
}

}  // namespace mp
