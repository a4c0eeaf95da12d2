#include "path_replugger.hpp"

#include "mp/connection_info.hpp"
#include "mp/logging.hpp"

#include <fmt/format.h>
#include <linux/mptcp.h>
#include <netinet/tcp.h>

namespace mpfetch {

namespace {
using namespace std::chrono_literals;
constexpr auto sample_every = 50ms;
// A join through a path that is still dead retransmits its SYN at growing intervals; past
// this, a new join is started so that a restored path is found within about a second.
constexpr auto rejoin_again_after = 5s;
}  // namespace

std::shared_ptr<path_replugger> path_replugger::create(boost::asio::any_io_executor executor, int fd,
                                                       std::function<void()> before_log) {
  return std::shared_ptr<path_replugger>(
      new path_replugger(std::move(executor), fd, std::move(before_log)));
}

path_replugger::path_replugger(boost::asio::any_io_executor executor, int fd,
                               std::function<void()> before_log)
    : timer_(std::move(executor)),
      fd_(fd),
      before_log_(std::move(before_log)),
      detector_() {}

void path_replugger::start() {
  running_ = true;
  tick();
}

void path_replugger::stop() {
  running_ = false;
  timer_.cancel();
}

void path_replugger::schedule() {
  timer_.expires_after(sample_every);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock(); self && self->running_) self->tick();
  });
}

void path_replugger::log(spdlog::level::level_enum level, std::string_view event, const std::string& text) {
  if (before_log_) before_log_();
  mp::log_event(level, event, "[paths] " + text);
}

void path_replugger::tick() {
  std::error_code ec;
  const auto stats = mp::query_connection(fd_, ec);
  if (ec || !stats.mptcp) return;  // closed, or plain TCP after all: nothing to re-plug
  const auto now = mp::progress_clock::now();
  // The connection's in-order bytes, not the file's: a slow disk must not look like a hole.
  const auto snapshot = mp::make_snapshot(now, stats.bytes_received, stats, mp::transfer_direction::receive);

  std::set<std::string> replugged;
  for (const auto& stuck : detector_.add(snapshot)) {
    const auto address = stuck.local.address.to_string();
    if (replugged.count(address)) continue;
    log(spdlog::level::info, "path_stuck",
        fmt::format("subflow {} -> {} went quiet while the data other paths brought waits for what "
                    "it still owes",
                    stuck.local.to_string(), stuck.remote.to_string()));
    if (replug(stuck.local.address, true)) {
      replugged.insert(address);
      awaiting_join_[address] = {now, stuck.local.port};
    }
  }

  for (auto it = awaiting_join_.begin(); it != awaiting_join_.end();) {
    bool joined = false;
    for (const auto& subflow : stats.subflow_list)
      if (subflow.local.address.to_string() == it->first && subflow.local.port != it->second.stuck_port &&
          subflow.state == TCP_ESTABLISHED)
        joined = true;
    if (joined) {
      log(spdlog::level::info, "path_rejoined", fmt::format("a new subflow from {} has joined", it->first));
      it = awaiting_join_.erase(it);
      continue;
    }
    if (now - it->second.replugged >= rejoin_again_after && !replugged.count(it->first)) {
      // Its join is still trying a dead path (or gave up): start a fresh one.
      if (replug(boost::asio::ip::make_address(it->first), false)) it->second.replugged = now;
    }
    ++it;
  }
  schedule();
}

bool path_replugger::replug(const boost::asio::ip::address& local, bool first_time) {
  std::vector<mp::pm_endpoint> endpoints;
  if (auto ec = endpoints_.list(endpoints)) {
    log(spdlog::level::warn, "path_replug_failed", fmt::format("cannot read the MPTCP endpoints: {}", ec.message()));
    return false;
  }
  const mp::pm_endpoint* found = mp::find_endpoint(endpoints, local);
  // An implicit endpoint is one the kernel made for an address in use; it refuses to add one.
  if (found && (found->flags & MPTCP_PM_ADDR_FLAG_IMPLICIT)) found = nullptr;
  if (!found) {
    if (told_no_endpoint_.insert(local.to_string()).second)
      log(spdlog::level::warn, "path_replug_failed",
          fmt::format("{} is not an MPTCP endpoint, so it cannot be re-plugged (the kernel re-sends what "
                      "was stuck once the subflow is stale); make it one with "
                      "`ip mptcp endpoint add {} dev IFACE subflow`",
                      local.to_string(), local.to_string()));
    return false;
  }
  const mp::pm_endpoint endpoint = *found;
  if (auto ec = endpoints_.remove(endpoint)) {
    log(spdlog::level::warn, "path_replug_failed",
        fmt::format("cannot delete endpoint {}: {}", endpoint.to_string(), ec.message()));
    return false;
  }
  std::error_code add_error = endpoints_.add(endpoint);
  if (add_error) add_error = endpoints_.add(endpoint);  // once more before giving up
  if (add_error) {
    log(spdlog::level::err, "path_replug_failed",
        fmt::format("deleted endpoint {} but cannot add it back: {}; restore it with "
                    "`ip mptcp endpoint add {}`",
                    endpoint.to_string(), add_error.message(), endpoint.to_string()));
    return false;
  }
  if (first_time)
    log(spdlog::level::info, "path_replugged",
        fmt::format("re-plugged endpoint {}: the server re-sends what was stuck on that path now, "
                    "and the path manager joins from it again when the path works",
                    endpoint.to_string()));
  else
    log(spdlog::level::debug, "path_replugged",
        fmt::format("re-plugged endpoint {} again: no subflow from it has joined yet", endpoint.to_string()));
  return true;
}

}  // namespace mpfetch
