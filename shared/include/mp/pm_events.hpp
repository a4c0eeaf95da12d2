#pragma once
// Listens to the kernel's MPTCP path-manager events (genetlink family "mptcp_pm", multicast
// group "mptcp_pm_events") on an Asio executor and hands each decoded event to a callback.
//
// Subscribing needs CAP_NET_ADMIN and a kernel with the family; start() reports why it could
// not, once, and the program goes on without events.

#include "mp/pm_event.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <memory>
#include <system_error>

namespace mp {

class pm_event_monitor {
public:
  using handler = std::function<void(const pm_event&)>;

  explicit pm_event_monitor(boost::asio::any_io_executor executor);
  ~pm_event_monitor();
  pm_event_monitor(const pm_event_monitor&) = delete;
  pm_event_monitor& operator=(const pm_event_monitor&) = delete;

  // Resolves the family, joins the group and starts reading. An error means no events
  // will come (EPERM without CAP_NET_ADMIN, ENOENT where the kernel has no "mptcp_pm").
  std::error_code start(handler on_event);
  void stop();

  // Events the kernel dropped because we read too slowly (ENOBUFS), so callers can say so.
  std::uint64_t overruns() const noexcept;

private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace mp
