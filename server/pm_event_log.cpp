#include "pm_event_log.hpp"

#include "mp/logging.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace mpserve {

namespace {
// How often held events look again for their connection's name: a session names itself
// within a millisecond or so of the accept, so this mostly costs one or two turns.
constexpr auto poll_period = std::chrono::milliseconds(10);
}  // namespace

pm_event_log::pm_event_log(boost::asio::any_io_executor executor, const server_state& server,
                           std::uint16_t listener_port)
    : server_(server),
      monitor_(executor),
      lookup_([this](std::uint32_t token) { return server_.connection_label(token); }),
      poll_timer_(executor) {
  own_events_.watch_listener_port(listener_port);
}

std::error_code pm_event_log::start() {
  return monitor_.start([this](const mp::pm_event& event) { on_event(event); });
}

void pm_event_log::stop() {
  monitor_.stop();
  poll_timer_.cancel();
  // What is still held is logged as it is rather than lost.
  write(labeler_.poll(pm_event_labeler::clock::time_point::max(), lookup_));
}

void pm_event_log::on_event(const mp::pm_event& event) {
  const auto now = pm_event_labeler::clock::now();
  for (const auto& ours : own_events_.offer(event)) write(labeler_.offer(ours, now, lookup_));
  schedule_poll();
}

void pm_event_log::write(const std::vector<labeled_pm_event>& events) {
  for (const auto& [event, label] : events) {
    mp::log_event(spdlog::level::info, "pm_event",
                  (label.empty() ? "[pm] " : label + " [pm] ") + mp::describe(event),
                  {{"type", std::string(mp::to_string(event.type))},
                   {"token", std::uint64_t{event.token}},
                   {"connection", label}});
  }
}

void pm_event_log::schedule_poll() {
  const auto deadline = labeler_.next_deadline();
  if (!deadline || poll_scheduled_) return;
  poll_scheduled_ = true;
  poll_timer_.expires_at(std::min(*deadline, pm_event_labeler::clock::now() + poll_period));
  poll_timer_.async_wait([this](const boost::system::error_code& error) {
    poll_scheduled_ = false;
    if (error) return;
    write(labeler_.poll(pm_event_labeler::clock::now(), lookup_));
    schedule_poll();
  });
}

}  // namespace mpserve
