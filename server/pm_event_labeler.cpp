#include "pm_event_labeler.hpp"

namespace mpserve {

std::string pm_event_labeler::name_of(std::uint32_t token, const name_lookup& lookup) {
  if (const auto it = names_.find(token); it != names_.end()) return it->second;
  std::string name = lookup ? lookup(token) : std::string();
  if (!name.empty()) {
    // Names are dropped at `closed`; should the kernel's closed events be lost (a full socket
    // buffer), this keeps the memory bounded all the same.
    if (names_.size() >= max_names) names_.clear();
    names_.emplace(token, name);
  }
  return name;
}

void pm_event_labeler::release(std::vector<labeled_pm_event>& out, const mp::pm_event& event,
                               std::string label) {
  // A closed connection's token may be reused by a later one: forget its name now.
  if (event.type == mp::pm_event_type::closed) names_.erase(event.token);
  out.push_back({event, std::move(label)});
}

std::vector<labeled_pm_event> pm_event_labeler::offer(const mp::pm_event& event,
                                                      clock::time_point now,
                                                      const name_lookup& lookup) {
  std::vector<labeled_pm_event> out;
  if (event.token == 0) {  // listener events belong to no connection
    release(out, event, {});
    return out;
  }
  std::string name = name_of(event.token, lookup);
  if (name.empty()) {
    held_.push_back({event, now});
    if (held_.size() > hold_limit_) {  // a flood of unnamed events: report the oldest bare
      release(out, held_.front().event, {});
      held_.pop_front();
    }
    return out;
  }
  for (auto it = held_.begin(); it != held_.end();) {  // its earlier events go first
    if (it->event.token != event.token) {
      ++it;
      continue;
    }
    release(out, it->event, name);
    it = held_.erase(it);
  }
  release(out, event, std::move(name));
  return out;
}

std::vector<labeled_pm_event> pm_event_labeler::poll(clock::time_point now,
                                                     const name_lookup& lookup) {
  std::vector<labeled_pm_event> out;
  for (auto it = held_.begin(); it != held_.end();) {
    std::string name = name_of(it->event.token, lookup);
    if (name.empty() && now - it->arrived < max_wait_) {
      ++it;
      continue;
    }
    release(out, it->event, std::move(name));
    it = held_.erase(it);
  }
  return out;
}

std::optional<pm_event_labeler::clock::time_point> pm_event_labeler::next_deadline() const {
  if (held_.empty()) return std::nullopt;
  return held_.front().arrived + max_wait_;
}

}  // namespace mpserve
