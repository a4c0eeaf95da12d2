#include "mp/stall_tracker.hpp"

namespace mp {

std::vector<subflow_change> stall_tracker::add(const progress_snapshot& snapshot) {
  std::vector<subflow_change> changes;
  std::map<subflow_key, tracked> present;
  for (const auto& sample : snapshot.subflows) {
    subflow_key k = key_of(sample);
    auto it = subflows_.find(k);
    if (it == subflows_.end()) {  // new: its clock starts now
      // A counter already above zero (a kept-alive connection's earlier transfers) has carried.
      present.emplace(std::move(k),
                      tracked{sample.bytes, snapshot.time, sample.retransmits, sample.bytes > 0, false});
      continue;
    }
    tracked state = it->second;
    const double idle = std::chrono::duration<double>(snapshot.time - state.last_moved).count();
    const std::uint32_t retransmits =
        sample.retransmits >= state.retransmits_when_moved
            ? sample.retransmits - state.retransmits_when_moved
            : 0;
    if (sample.bytes != state.bytes) {
      if (state.stalled)
        changes.push_back({subflow_change::kind::resumed, sample, idle, retransmits});
      state = tracked{sample.bytes, snapshot.time, sample.retransmits, true, false};
    } else if (state.carried && !state.stalled && snapshot.time - state.last_moved >= stall_after_) {
      state.stalled = true;
      changes.push_back({subflow_change::kind::stalled, sample, idle, retransmits});
    }
    present.emplace(std::move(k), state);
  }
  subflows_ = std::move(present);
  return changes;
}

}  // namespace mp
