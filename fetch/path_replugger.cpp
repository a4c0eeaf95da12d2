#include "path_replugger.hpp"

#include "mp/connection_info.hpp"
#include "mp/logging.hpp"

#include <fmt/format.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <csignal>

namespace mpfetch {

namespace {
using namespace std::chrono_literals;
constexpr auto sample_every = 50ms;
// A join through a path that is still dead retransmits its SYN at growing intervals; a fresh
// join after this finds a restored path sooner. Doubled after each try, up to a minute.
constexpr auto first_rejoin_wait = 5s;
constexpr auto longest_rejoin_wait = 60s;
// A path that holds the download up again this soon after a re-plug is left to the kernel:
// re-sent data received twice looks like data waiting for a while, and a slow path is no
// reason to take an address away from the host over and over.
constexpr auto replug_hold_off = 10s;

// Delete-then-add must not be cut in half by Ctrl-C: the endpoint would stay deleted.
class signals_held {
public:
  signals_held() {
    sigset_t held;
    sigemptyset(&held);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&held, s);
    ::pthread_sigmask(SIG_BLOCK, &held, &previous_);
  }
  ~signals_held() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  signals_held(const signals_held&) = delete;
  signals_held& operator=(const signals_held&) = delete;

private:
  sigset_t previous_;
};
}  // namespace

std::shared_ptr<path_replugger> path_replugger::create(boost::asio::any_io_executor executor, int fd,
                                                       std::function<void()> before_log) {
  return std::shared_ptr<path_replugger>(new path_replugger(std::move(executor), fd, std::move(before_log)));
}

path_replugger::path_replugger(boost::asio::any_io_executor executor, int fd, std::function<void()> before_log)
    : timer_(std::move(executor)), fd_(fd), before_log_(std::move(before_log)) {}

void path_replugger::start() {
  running_ = true;
  tick();
}

void path_replugger::stop() {
  running_ = false;
  timer_.cancel();
  restore_lost_endpoints();
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

void path_replugger::log_once(const std::string& key, const std::string& text) {
  if (told_.insert(key).second) log(spdlog::level::warn, "path_replug_skipped", text);
}

void path_replugger::tick() {
  std::error_code ec;
  const auto stats = mp::query_connection(fd_, ec, mp::subflow_query::full_info);
  if (ec == std::errc::no_protocol_option || ec == std::errc::operation_not_supported) {
    log(spdlog::level::warn, "path_replug_unavailable",
        "--replug-stalled-paths needs Linux 6.5 or later (MPTCP_FULL_INFO); the kernel handles stalled paths alone");
    return;
  }
  if (!ec && !stats.mptcp) return;  // plain TCP after all (a fallback): nothing to re-plug
  if (!ec) {
    const auto now = mp::progress_clock::now();
    restore_lost_endpoints();
    // The connection's in-order bytes, not the file's: a slow disk must not look like a hole.
    const auto snapshot = mp::make_snapshot(now, stats.bytes_received, stats, mp::transfer_direction::receive);
    for (const auto& stuck : detector_.add(snapshot)) act_on(stuck, now);
    watch_joins(stats, now);
  }
  schedule();  // an error (subflows changing under the query) is tried again next time
}

void path_replugger::act_on(const stuck_path_detector::stuck_subflow& stuck, mp::progress_clock::time_point now) {
  const auto& sample = stuck.sample;
  const auto& local = sample.local.address;
  const auto address = local.to_string();
  if (awaiting_join_.count(local)) return;  // re-plugged already, its join not back yet
  log(spdlog::level::info, "path_stuck",
      fmt::format("subflow {} -> {} went quiet while the data other paths brought waits for what it still owes",
                  sample.local.to_string(), sample.remote.to_string()));
  if (stuck.address_still_carries) {
    log(spdlog::level::info, "path_replug_skipped",
        fmt::format("not re-plugging {}: another subflow from it still carries data (the path to {} failed, "
                    "not {}'s own); the kernel re-sends what was stuck",
                    address, sample.remote.address.to_string(), address));
    return;
  }
  if (auto last = last_replugged_.find(local); last != last_replugged_.end() && now - last->second < replug_hold_off) {
    log(spdlog::level::info, "path_replug_skipped",
        fmt::format("not re-plugging {} again within {} s of the last time; the kernel re-sends what was stuck",
                    address, std::chrono::duration_cast<std::chrono::seconds>(replug_hold_off).count()));
    return;
  }
  if (replug(local, true)) {
    last_replugged_[local] = now;
    awaiting_join_[local] = {now + first_rejoin_wait, first_rejoin_wait, sample.local.port};
  }
}

void path_replugger::watch_joins(const mp::connection_stats& stats, mp::progress_clock::time_point now) {
  for (auto it = awaiting_join_.begin(); it != awaiting_join_.end();) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const boost::asio::ip::address& address = it->first;
    awaiting& state = it->second;
    const bool joined = std::any_of(stats.subflow_list.begin(), stats.subflow_list.end(), [&](const auto& subflow) {
      return subflow.local.address == address && subflow.local.port != state.stuck_port &&
             subflow.state == TCP_ESTABLISHED;
    });
    if (joined) {
      log(spdlog::level::info, "path_rejoined", fmt::format("a new subflow from {} has joined", address.to_string()));
      it = awaiting_join_.erase(it);
      continue;
    }
    if (now >= state.next_try) {
      // Its join is still trying a dead path (or gave up): start a fresh one, and wait longer
      // before the next, whether this one could be started or not.
      replug(address, false);
      state.wait = std::min<mp::progress_clock::duration>(state.wait * 2, longest_rejoin_wait);
      state.next_try = now + state.wait;
    }
    ++it;
  }
}

bool path_replugger::replug(const boost::asio::ip::address& local, bool first_time) {
  const std::string address = local.to_string();
  std::vector<mp::pm_endpoint> endpoints;
  if (auto ec = endpoints_.list(endpoints)) {
    log_once("list", fmt::format("cannot read the MPTCP endpoints: {}; nothing is re-plugged", ec.message()));
    return false;
  }
  const mp::pm_endpoint* found = mp::find_endpoint(endpoints, local);
  if (!found || found->implicit()) {
    log_once("none " + address,
             fmt::format("{} is not an MPTCP endpoint, so it cannot be re-plugged (the kernel re-sends what was "
                         "stuck once the subflow is stale); make it one with `ip mptcp endpoint add {} dev IFACE subflow`",
                         address, address));
    return false;
  }
  if (!found->creates_subflows()) {
    log_once("flags " + address, fmt::format("endpoint {} opens no subflows (no `subflow` flag), so re-plugging it "
                                             "would not bring the path back; left alone",
                                             found->to_string()));
    return false;
  }
  const mp::pm_endpoint endpoint = *found;
  std::error_code add_error;
  {
    signals_held hold;
    if (auto ec = endpoints_.remove(endpoint)) {
      log_once("delete " + address, fmt::format("cannot delete endpoint {}: {}", endpoint.to_string(), ec.message()));
      return false;
    }
    add_error = endpoints_.add(endpoint);
    if (add_error) add_error = endpoints_.add(endpoint);  // once more before giving up for now
  }
  if (add_error) {
    lost_.push_back(endpoint);
    log(spdlog::level::err, "path_replug_failed",
        fmt::format("deleted endpoint {} but cannot add it back: {}; trying again while mpfetch runs (by hand: "
                    "`ip mptcp endpoint add {}`)",
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

void path_replugger::restore_lost_endpoints() {
  for (auto it = lost_.begin(); it != lost_.end();) {
    if (auto ec = endpoints_.add(*it); ec && ec != std::errc::device_or_resource_busy) {
      ++it;  // still refused; said when it was lost
      continue;
    }
    // Added, or already there again (EBUSY: someone else added it).
    log(spdlog::level::info, "path_endpoint_restored", fmt::format("endpoint {} is back", it->to_string()));
    it = lost_.erase(it);
  }
}

}  // namespace mpfetch
