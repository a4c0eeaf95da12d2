#include "mp/pm_events.hpp"

#include "genetlink.hpp"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace mp {

namespace {

constexpr std::string_view family_name = "mptcp_pm";
constexpr std::string_view group_name = "mptcp_pm_events";

std::error_code last_error() { return {errno, std::system_category()}; }

}  // namespace

struct pm_event_monitor::state : std::enable_shared_from_this<state> {
  explicit state(boost::asio::any_io_executor executor) : descriptor(std::move(executor)) {}

  boost::asio::posix::stream_descriptor descriptor;
  std::uint16_t family_id = 0;
  handler on_event;
  std::uint64_t overruns = 0;
  std::array<std::byte, 16384> buffer;

  void wait() {
    descriptor.async_wait(boost::asio::posix::descriptor_base::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                            if (ec) return;  // cancelled by stop(), or the descriptor closed
                            self->drain();
                            self->wait();
                          });
  }

  // Reads every datagram that is ready; the socket is non-blocking.
  void drain() {
    for (;;) {
      const ssize_t n = ::recv(descriptor.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == ENOBUFS) {  // the kernel dropped events while we were busy: go on
          ++overruns;
          continue;
        }
        return;  // EAGAIN, or an error that the next wait reports
      }
      if (n == 0) return;
      for (const auto& event : decode_pm_datagram(std::span(buffer).first(n), family_id))
        if (on_event) on_event(event);
    }
  }
};

pm_event_monitor::pm_event_monitor(boost::asio::any_io_executor executor)
    : state_(std::make_shared<state>(std::move(executor))) {}

pm_event_monitor::~pm_event_monitor() { stop(); }

std::error_code pm_event_monitor::start(handler on_event) {
  genetlink::family_info info;
  std::error_code open_error;
  const int fd = genetlink::open_family_socket(family_name, info, open_error);
  if (fd < 0) return open_error;
  const std::uint32_t group = info.group(group_name);
  if (group == 0) {
    ::close(fd);
    return std::make_error_code(std::errc::protocol_error);
  }
  // Needs CAP_NET_ADMIN: the group is registered with GENL_MCAST_CAP_NET_ADMIN.
  if (::setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
    auto ec = last_error();
    ::close(fd);
    return ec;
  }
  boost::system::error_code assign_error;
  state_->descriptor.assign(fd, assign_error);
  if (assign_error) {
    ::close(fd);
    return assign_error;
  }
  state_->descriptor.non_blocking(true, assign_error);
  state_->family_id = info.id;
  state_->on_event = std::move(on_event);
  state_->wait();
  return {};
}

void pm_event_monitor::stop() {
  boost::system::error_code ignored;
  state_->descriptor.cancel(ignored);
  state_->descriptor.close(ignored);
}

std::uint64_t pm_event_monitor::overruns() const noexcept { return state_->overruns; }

}  // namespace mp
