#include "stuck_path_detector.hpp"

#include <algorithm>

namespace mpfetch {

std::vector<mp::subflow_sample> stuck_path_detector::add(const mp::progress_snapshot& snapshot) {
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
      t.bytes = sample.bytes;
      t.last_moved = now;
      t.carried = sample.bytes > 0;
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

  std::vector<mp::subflow_sample> stuck;
  if (!waiting_since_ || now - *waiting_since_ < settings_.quiet_after / 2) return stuck;
  for (const auto& sample : snapshot.subflows) {
    auto& t = subflows_.at(mp::key_of(sample));
    if (!t.carried || t.reported || now - t.last_moved < settings_.quiet_after) continue;
    // The one that went quiet first: another subflow brought something after it (the rest of
    // what was in flight, or a piece of the hole the sender re-sent there). Paths that went
    // quiet together tell nothing apart yet.
    const bool others_moved_later = std::any_of(subflows_.begin(), subflows_.end(), [&](const auto& other) {
      return other.second.last_moved > t.last_moved;
    });
    if (!others_moved_later) continue;
    t.reported = true;
    stuck.push_back(sample);
  }
  return stuck;
}

}  // namespace mpfetch
