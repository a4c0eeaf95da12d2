#pragma once
// Tells, on the receiving side, which path holds a download up. When a path goes silent (Wi-Fi
// out of range), the sender has data in flight and queued on that path's subflow. What the
// other subflows bring lies after that hole: the kernel keeps it out of order, and the sender
// soon stops (its send buffer is full of data the receiver cannot acknowledge yet). The kernel
// re-sends the hole elsewhere only after several retransmission rounds, about a second.
//
// The signature, from counters alone: data has been waiting out of order for a while (the
// subflows together received more than the connection could pass on in order, by more than
// usual), and a subflow that carried data has carried nothing for a while, while another
// subflow brought something after it went quiet. Free of I/O and clocks: snapshots in, stuck
// subflows out.

#include "mp/progress_sampler.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace mpfetch {

class stuck_path_detector {
public:
  struct settings {
    // How long a subflow that carried data must have carried nothing. Data must have been
    // waiting out of order for half of it.
    mp::progress_clock::duration quiet_after = std::chrono::milliseconds(250);
    // Out-of-order data that counts as waiting: this much more than the lowest level of the
    // last `usual_window` (reordering between paths of unequal delay is normal; re-sent data
    // the receiver got twice raises the level for good, and the window forgets it).
    std::uint64_t waiting_bytes = 64 * 1024;
    mp::progress_clock::duration usual_window = std::chrono::seconds(2);
  };

  stuck_path_detector() : stuck_path_detector(settings{}) {}
  explicit stuck_path_detector(settings s) : settings_(s) {}

  struct stuck_subflow {
    mp::subflow_sample sample;
    // Another subflow from the same local address brought data after this one went quiet:
    // the path to one of the peer's addresses failed, not this address's own path, so the
    // address must not be taken away.
    bool address_still_carries = false;
  };

  // Feed every snapshot in order. Its subflow bytes are each subflow's received counter, its
  // transfer_bytes the connection's in-order received bytes (MPTCP_INFO's bytes_received).
  // Returns the subflows found stuck with it; each is reported once, and a subflow absent
  // from a snapshot is forgotten.
  std::vector<stuck_subflow> add(const mp::progress_snapshot& snapshot);

private:
  struct tracked {
    std::uint64_t bytes = 0;
    mp::progress_clock::time_point last_moved;  // min(): not since it appeared
    bool carried = false;
    bool reported = false;
  };
  settings settings_;
  std::map<mp::subflow_key, tracked> subflows_;
  std::deque<std::pair<mp::progress_clock::time_point, std::int64_t>> received_beyond_in_order_;
  std::optional<mp::progress_clock::time_point> waiting_since_;
};

}  // namespace mpfetch
