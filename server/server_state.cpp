#include "server_state.hpp"

#include <algorithm>
#include <vector>

namespace mpserve {

server_state::registration server_state::add_session(std::weak_ptr<http_session> session) {
  std::lock_guard lock(mutex_);
  return sessions_.insert(sessions_.end(), std::move(session));
}

void server_state::remove_session(registration where) {
  std::lock_guard lock(mutex_);
  sessions_.erase(where);
  connections_.fetch_sub(1, std::memory_order_acq_rel);
}

void server_state::begin_stop(const std::function<void(const std::shared_ptr<http_session>&)>& visit) {
  stopping_.store(true, std::memory_order_release);
  std::vector<std::shared_ptr<http_session>> live;
  {
    std::lock_guard lock(mutex_);
    for (auto& weak : sessions_)
      if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  for (const auto& session : live) visit(session);
}

bool server_state::lease_copy_buffer() noexcept {
  const std::size_t budget = std::max<std::size_t>(1, config.copy_memory_limit / config.copy_buffer_size);
  if (copy_buffers_.fetch_add(1, std::memory_order_acq_rel) < budget) return true;
  copy_buffers_.fetch_sub(1, std::memory_order_acq_rel);
  return false;
}

void server_state::name_connection(std::uint32_t token, std::string label) {
  std::lock_guard lock(labels_mutex_);
  labels_[token] = std::move(label);
}

void server_state::forget_connection(std::uint32_t token) {
  std::lock_guard lock(labels_mutex_);
  labels_.erase(token);
}

std::string server_state::connection_label(std::uint32_t token) const {
  std::lock_guard lock(labels_mutex_);
  const auto it = labels_.find(token);
  return it == labels_.end() ? std::string() : it->second;
}

}  // namespace mpserve
