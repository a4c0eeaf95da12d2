#pragma once
// Names path-manager events after the connection they belong to ("[#12 192.0.2.2]"), without
// any I/O. The kernel multicasts a connection's first events (created, established, often the
// first sub_established) the moment the handshake completes, usually before the worker thread
// that accepted it has read the token and named the connection; and `closed` arrives after the
// session is gone. So an event whose token has no name yet is held a short while, and a name,
// once seen, is remembered until the connection's `closed` event.

#include "mp/pm_event.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mpserve {

struct labeled_pm_event {
  mp::pm_event event;
  std::string label;  // empty when the connection was never named in time
};

class pm_event_labeler {
public:
  using clock = std::chrono::steady_clock;
  // The live name of a token, empty while (or once) the server has none.
  using name_lookup = std::function<std::string(std::uint32_t token)>;

  explicit pm_event_labeler(clock::duration max_wait = std::chrono::milliseconds(250),
                            std::size_t hold_limit = 256)
      : max_wait_(max_wait), hold_limit_(hold_limit) {}

  // Returns what can be reported now, in arrival order per connection: `event` and the held
  // events of its connection once it has a name; nothing while it waits for one.
  std::vector<labeled_pm_event> offer(const mp::pm_event& event, clock::time_point now,
                                      const name_lookup& lookup);

  // Releases held events whose connection got a name, and those held for max_wait (unnamed).
  std::vector<labeled_pm_event> poll(clock::time_point now, const name_lookup& lookup);

  // When poll() has something to do next; nothing when no event is held.
  std::optional<clock::time_point> next_deadline() const;

private:
  static constexpr std::size_t max_names = 65536;

  struct held_event {
    mp::pm_event event;
    clock::time_point arrived;
  };

  // The remembered or live name of `token` (remembered from then on), empty if none.
  std::string name_of(std::uint32_t token, const name_lookup& lookup);
  void release(std::vector<labeled_pm_event>& out, const mp::pm_event& event, std::string label);

  clock::duration max_wait_;
  std::size_t hold_limit_;
  std::deque<held_event> held_;
  std::unordered_map<std::uint32_t, std::string> names_;
};

}  // namespace mpserve
