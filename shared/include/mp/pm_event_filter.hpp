#pragma once
// Path-manager events are multicast for every MPTCP connection in the network namespace; a
// program wants only its own. This picks them out, by token, without any I/O:
// - a server watches its listening port: connections created on it are its own;
// - a client learns its token after connect(), later than the kernel's first events, so
//   events of unknown tokens wait in a small buffer until the token is claimed.

#include "mp/pm_event.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <vector>

namespace mp {

class pm_event_filter {
public:
  explicit pm_event_filter(std::size_t pending_limit = 64) : pending_limit_(pending_limit) {}

  // Server side: connections whose server-side socket is on `port` are ours.
  void watch_listener_port(std::uint16_t port) { listener_ports_.insert(port); }

  // Claims `token` and returns the events of it that arrived before, oldest first.
  std::vector<pm_event> watch_token(std::uint32_t token);

  // Returns the events to report now: `event` if it belongs to a watched connection, nothing
  // otherwise (it may be held until its token is claimed). A closed event ends the watch.
  std::vector<pm_event> offer(const pm_event& event);

  bool watching(std::uint32_t token) const { return tokens_.count(token) != 0; }

private:
  bool on_our_listener(const pm_event& event) const;

  std::set<std::uint16_t> listener_ports_;
  std::set<std::uint32_t> tokens_;
  std::deque<pm_event> pending_;
  std::size_t pending_limit_;
};

}  // namespace mp
