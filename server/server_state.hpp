#pragma once
// What every connection of a running server shares, across its threads: the configuration,
// the served directory, the access log, and what a graceful stop needs to find the sessions.

#include "access_log.hpp"
#include "served_file.hpp"
#include "server_config.hpp"

#include <atomic>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>

namespace mpserve {

class http_session;

class server_state {
public:
  server_state(server_config config, unique_fd root, std::unique_ptr<access_log> log)
      : config(std::move(config)), root(std::move(root)), log(std::move(log)) {}

  const server_config config;
  const unique_fd root;
  const std::unique_ptr<access_log> log;

  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
  std::size_t connections() const noexcept { return connections_.load(std::memory_order_acquire); }

  using registration = std::list<std::weak_ptr<http_session>>::iterator;
  registration add_session(std::weak_ptr<http_session> session);
  void remove_session(registration where);

  // Marks the server as stopping and calls `visit` for every live session (from this thread:
  // the visitor must post to the session's own executor).
  void begin_stop(const std::function<void(const std::shared_ptr<http_session>&)>& visit);

private:
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> connections_{0};
  std::mutex mutex_;
  std::list<std::weak_ptr<http_session>> sessions_;
};

}  // namespace mpserve
