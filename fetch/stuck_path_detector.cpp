#include "stuck_path_detector.hpp"

#include <algorithm>

namespace mpfetch {

std::vector<stuck_path_detector::stuck_subflow> stuck_path_detector::add(const mp::progress_snapshot& snapshot) {
  const auto now = snapshot.time;

  // Out-of-order data (plus anything received twice), against its usual level.
  std::int64_t beyond = -static_cast<std::int64_t>(snapshot.transfer_bytes);
  for (const auto& sample : snapshot.subflows) beyond += static_cast<std::int64_t>(sample.bytes);
  auto& history = received_beyond_in_order_;
  history.emplace_back(now, beyond);
  while (now - history.front().first > settings_.usual_window) history.pop_front();
  std::int64_t usual = beyond;
  for (const auto& [time, level] : history) usual = std::min(usual, level);
  if (beyond - usual >= static_cast<std::int64_t>(settings_.waiting_bytes)) {
    if (!waiting_since_) waiting_since_ = now;
  } else {
    waiting_since_.reset();
  }

  std::map<mp::subflow_key, tracked> current;
  for (const auto& sample : snapshot.subflows) {
    const auto key = mp::key_of(sample);
    auto found = subflows_.find(key);
    tracked t;
    if (found == subflows_.end()) {
      // A subflow seen for the first time has not moved as far as we know: a join still
      // waiting for its SYN to get through must not count as a path that delivers.
      t.bytes = sample.bytes;
      t.carried = sample.bytes > 0;
      t.last_moved = t.carried ? now : mp::progress_clock::time_point::min();
    } else {
      t = found->second;
      if (sample.bytes != t.bytes) {
        t.bytes = sample.bytes;
        t.last_moved = now;
        t.carried = true;
      }
    }
    current.emplace(key, t);
  }
  subflows_ = std::move(current);

  std::vector<stuck_subflow> stuck;
  if (!waiting_since_ || now - *waiting_since_ < settings_.quiet_after / 2) return stuck;
  for (const auto& sample : snapshot.subflows) {
    auto& t = subflows_.at(mp::key_of(sample));
    if (!t.carried || t.reported || now - t.last_moved < settings_.quiet_after) continue;
    // It went quiet about when data began to wait: one that has idled for long (a path the
    // scheduler had no need for) is not what the data waits for.
    if (t.last_moved < *waiting_since_ - settings_.quiet_after) continue;
    // The one that went quiet first: another subflow brought something after it (the rest of
    // what was in flight, or a piece of the hole the sender re-sent there). Paths that went
    // quiet together tell nothing apart yet.
    bool others_moved_later = false, address_still_carries = false;
    for (const auto& other : snapshot.subflows) {
      const auto& o = subflows_.at(mp::key_of(other));
      if (&o == &t || o.last_moved <= t.last_moved) continue;
      others_moved_later = true;
      if (other.local.address == sample.local.address) address_still_carries = true;
    }
    if (!others_moved_later) continue;
    t.reported = true;
    stuck.push_back({sample, address_still_carries});
  }
  return stuck;
}

}  // namespace mpfetch
