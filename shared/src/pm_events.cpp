#include "mp/pm_events.hpp"

#include "netlink_attributes.hpp"

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

struct family_info {
  std::uint16_t id = 0;
  std::uint32_t events_group = 0;
};

// Appends one attribute (header, payload, padding) to a netlink message being built.
void put_attribute(std::vector<std::byte>& message, std::uint16_t type, const void* data,
                   std::size_t length) {
  nlattr header{static_cast<std::uint16_t>(NLA_HDRLEN + length), type};
  const auto* h = reinterpret_cast<const std::byte*>(&header);
  message.insert(message.end(), h, h + sizeof header);
  const auto* d = static_cast<const std::byte*>(data);
  message.insert(message.end(), d, d + length);
  message.resize(NLA_ALIGN(message.size()));
}

// Reads CTRL_CMD_NEWFAMILY's reply: the family id and the id of the events group.
family_info parse_family_reply(std::span<const std::byte> genl_body) {
  family_info info;
  if (genl_body.size() < GENL_HDRLEN) return info;
  netlink::for_each_attribute(genl_body.subspan(GENL_HDRLEN), [&](int type, std::span<const std::byte> p) {
    if (type == CTRL_ATTR_FAMILY_ID && p.size() >= 2) {
      std::memcpy(&info.id, p.data(), 2);
    } else if (type == CTRL_ATTR_MCAST_GROUPS) {
      netlink::for_each_attribute(p, [&](int, std::span<const std::byte> group) {
        std::string_view name;
        std::uint32_t id = 0;
        netlink::for_each_attribute(group, [&](int field, std::span<const std::byte> v) {
          if (field == CTRL_ATTR_MCAST_GRP_NAME && !v.empty())
            name = std::string_view(reinterpret_cast<const char*>(v.data()),
                                    ::strnlen(reinterpret_cast<const char*>(v.data()), v.size()));
          else if (field == CTRL_ATTR_MCAST_GRP_ID && v.size() >= 4)
            std::memcpy(&id, v.data(), 4);
        });
        if (name == group_name) info.events_group = id;
      });
    }
  });
  return info;
}

// Asks the generic-netlink controller for "mptcp_pm" on a blocking socket (once, at start).
std::error_code resolve_family(int fd, family_info& info) {
  std::vector<std::byte> message(NLMSG_HDRLEN + GENL_HDRLEN);
  genlmsghdr genl{};
  genl.cmd = CTRL_CMD_GETFAMILY;
  genl.version = 1;
  std::memcpy(message.data() + NLMSG_HDRLEN, &genl, sizeof genl);
  const std::string name(family_name);
  put_attribute(message, CTRL_ATTR_FAMILY_NAME, name.c_str(), name.size() + 1);
  nlmsghdr header{};
  header.nlmsg_len = static_cast<std::uint32_t>(message.size());
  header.nlmsg_type = GENL_ID_CTRL;
  header.nlmsg_flags = NLM_F_REQUEST;
  header.nlmsg_seq = 1;
  std::memcpy(message.data(), &header, sizeof header);

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0)
    return last_error();

  std::array<std::byte, 8192> reply;
  const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
  if (n < 0) return last_error();
  if (static_cast<std::size_t>(n) < NLMSG_HDRLEN) return std::make_error_code(std::errc::bad_message);
  nlmsghdr reply_header;
  std::memcpy(&reply_header, reply.data(), sizeof reply_header);
  if (reply_header.nlmsg_type == NLMSG_ERROR) {
    nlmsgerr error;
    if (static_cast<std::size_t>(n) < NLMSG_HDRLEN + sizeof error)
      return std::make_error_code(std::errc::bad_message);
    std::memcpy(&error, reply.data() + NLMSG_HDRLEN, sizeof error);
    // ENOENT: this kernel has no MPTCP path manager family.
    return {error.error < 0 ? -error.error : EPROTO, std::system_category()};
  }
  const std::size_t length = std::min<std::size_t>(reply_header.nlmsg_len, n);
  info = parse_family_reply(std::span(reply).subspan(NLMSG_HDRLEN, length - NLMSG_HDRLEN));
  if (info.id == 0 || info.events_group == 0) return std::make_error_code(std::errc::protocol_error);
  return {};
}

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
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) return last_error();
  // Don't hang start-up if the controller never answers.
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  family_info info;
  if (auto ec = resolve_family(fd, info)) {
    ::close(fd);
    return ec;
  }
  // Needs CAP_NET_ADMIN: the group is registered with GENL_MCAST_CAP_NET_ADMIN.
  std::uint32_t group = info.events_group;
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
