#pragma once
// The server's log of path-manager events (subflows joining and closing, addresses announced):
// the kernel's multicast, narrowed to connections on our listening port, each line named after
// its connection ("[#12 192.0.2.2] [pm] sub_established ..."). Runs on one executor.

#include "pm_event_labeler.hpp"
#include "server_state.hpp"

#include "mp/pm_event_filter.hpp"
#include "mp/pm_events.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <system_error>

namespace mpserve {

class pm_event_log {
public:
  pm_event_log(boost::asio::any_io_executor executor, const server_state& server,
               std::uint16_t listener_port);

  // Starts listening; an error means no events will be logged (the caller says why).
  std::error_code start();
  void stop();

private:
  void on_event(const mp::pm_event& event);
  void write(const std::vector<labeled_pm_event>& events);
  void schedule_poll();

  const server_state& server_;
  mp::pm_event_monitor monitor_;
  mp::pm_event_filter own_events_;  // the kernel reports every connection; log only ours
  pm_event_labeler labeler_;
  pm_event_labeler::name_lookup lookup_;
  boost::asio::steady_timer poll_timer_;
  bool poll_scheduled_ = false;
};

}  // namespace mpserve
