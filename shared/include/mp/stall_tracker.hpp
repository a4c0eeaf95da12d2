#pragma once
// Tells when a subflow stops carrying data and when it carries data again, from the same
// snapshots the progress sampler sees; free of I/O and clocks. A path that goes out of range
// usually does not close its subflow at once: the kernel keeps retransmitting into the void
// for many seconds, and the only sign is a byte counter that stops moving.

#include "mp/progress_sampler.hpp"

#include <chrono>
#include <map>
#include <vector>

namespace mp {

struct subflow_change {
  enum class kind { stalled, resumed };
  kind what = kind::stalled;
  subflow_sample sample;
  // stalled: how long the counter has not moved; resumed: how long it had not moved.
  double seconds = 0;
  std::uint32_t retransmits = 0;  // stalled: since it last moved; resumed: during the stall
};

class stall_tracker {
public:
  explicit stall_tracker(progress_clock::duration stall_after) : stall_after_(stall_after) {}

  // Feed every snapshot in order; returns the subflows that stalled or resumed with it.
  // A subflow stalls when its counter, having moved before, stays still for stall_after; one
  // that never carried anything (a backup, a path the scheduler has no need for) is not
  // reported. Subflows absent from a snapshot are forgotten (closing is reported elsewhere).
  std::vector<subflow_change> add(const progress_snapshot& snapshot);

private:
  struct tracked {
    std::uint64_t bytes = 0;
    progress_clock::time_point last_moved;
    std::uint32_t retransmits_when_moved = 0;
    bool carried = false;  // it has carried data: one that never did is unused, not stalled
    bool stalled = false;
  };
  progress_clock::duration stall_after_;
  std::map<subflow_key, tracked> subflows_;
};

}  // namespace mp
