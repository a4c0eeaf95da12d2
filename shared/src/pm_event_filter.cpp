#include "mp/pm_event_filter.hpp"

#include <algorithm>

namespace mp {

bool pm_event_filter::on_our_listener(const pm_event& event) const {
  return event.server_side.value_or(false) && event.local &&
         listener_ports_.count(event.local->port) != 0;
}

std::vector<pm_event> pm_event_filter::watch_token(std::uint32_t token) {
  std::vector<pm_event> earlier;
  if (token == 0) return earlier;
  tokens_.insert(token);
  auto matches = [token](const pm_event& e) { return e.token == token; };
  std::copy_if(pending_.begin(), pending_.end(), std::back_inserter(earlier), matches);
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(), matches), pending_.end());
  if (!earlier.empty() && earlier.back().type == pm_event_type::closed) tokens_.erase(token);
  return earlier;
}

std::vector<pm_event> pm_event_filter::offer(const pm_event& event) {
  // Listener events and other token-less events are about no connection of ours.
  if (event.token == 0) return {};
  if (tokens_.count(event.token) == 0 && on_our_listener(event)) tokens_.insert(event.token);
  if (tokens_.count(event.token) != 0) {
    if (event.type == pm_event_type::closed) tokens_.erase(event.token);
    return {event};
  }
  pending_.push_back(event);
  if (pending_.size() > pending_limit_) pending_.pop_front();
  return {};
}

}  // namespace mp
