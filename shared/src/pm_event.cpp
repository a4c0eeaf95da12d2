#include "mp/pm_event.hpp"

#include "netlink_attributes.hpp"

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstring>
#include <spdlog/fmt/fmt.h>

namespace mp {

namespace {

namespace ip = boost::asio::ip;

// Attribute numbers of enum mptcp_event_attr (include/uapi/linux/mptcp.h). Kept here because
// Debian's header lags the kernel and these numbers are ABI.
enum : std::uint16_t {
  attr_token = 1,
  attr_family = 2,
  attr_loc_id = 3,
  attr_rem_id = 4,
  attr_saddr4 = 5,
  attr_saddr6 = 6,
  attr_daddr4 = 7,
  attr_daddr6 = 8,
  attr_sport = 9,
  attr_dport = 10,
  attr_backup = 11,
  attr_error = 12,
  attr_flags = 13,
  attr_timeout = 14,
  attr_if_idx = 15,
  attr_reset_reason = 16,
  attr_reset_flags = 17,
  attr_server_side = 18,
};

using netlink::read_v4;
using netlink::read_v6;
using netlink::read_value;

// Addresses and ports arrive in separate attributes; collect them and join at the end.
struct address_parts {
  std::optional<ip::address> address;
  std::optional<std::uint16_t> port;

  std::optional<socket_address> join() const {
    if (!address && !port) return std::nullopt;
    socket_address out;
    if (address) out.address = *address;
    if (port) out.port = *port;
    return out;
  }
};

std::optional<std::uint16_t> read_port(std::span<const std::byte> payload) {
  auto raw = read_value<std::uint16_t>(payload);
  if (!raw) return std::nullopt;
  return ntohs(*raw);
}

pm_event_type type_of(std::uint8_t command) {
  switch (command) {
    case 1: return pm_event_type::created;
    case 2: return pm_event_type::established;
    case 3: return pm_event_type::closed;
    case 6: return pm_event_type::announced;
    case 7: return pm_event_type::removed;
    case 10: return pm_event_type::sub_established;
    case 11: return pm_event_type::sub_closed;
    case 13: return pm_event_type::sub_priority;
    case 15: return pm_event_type::listener_created;
    case 16: return pm_event_type::listener_closed;
    default: return pm_event_type::unknown;
  }
}

}  // namespace

std::string_view to_string(pm_event_type type) noexcept {
  switch (type) {
    case pm_event_type::created: return "created";
    case pm_event_type::established: return "established";
    case pm_event_type::closed: return "closed";
    case pm_event_type::announced: return "announced";
    case pm_event_type::removed: return "removed";
    case pm_event_type::sub_established: return "sub_established";
    case pm_event_type::sub_closed: return "sub_closed";
    case pm_event_type::sub_priority: return "sub_priority";
    case pm_event_type::listener_created: return "listener_created";
    case pm_event_type::listener_closed: return "listener_closed";
    case pm_event_type::unknown: break;
  }
  return "unknown";
}

std::string describe(const pm_event& event) {
  std::string text(to_string(event.type));
  if (event.type == pm_event_type::unknown) text += fmt::format("({})", event.command);
  if (event.token != 0) text += fmt::format(" token={:08x}", event.token);
  if (event.local && event.remote)
    text += " " + event.local->to_string() + " -> " + event.remote->to_string();
  else if (event.local)
    text += " local=" + event.local->to_string();
  else if (event.remote)
    text += " remote=" + event.remote->to_string();
  if (event.local_id) text += fmt::format(" loc_id={}", *event.local_id);
  if (event.remote_id) text += fmt::format(" rem_id={}", *event.remote_id);
  if (event.backup && *event.backup) text += " backup";
  if (event.interface_index) text += fmt::format(" ifindex={}", *event.interface_index);
  if (event.error && *event.error) text += fmt::format(" error={}", *event.error);
  if (event.reset_reason) text += fmt::format(" reset_reason={}", *event.reset_reason);
  if (event.server_side && *event.server_side) text += " server-side";
  return text;
}

std::optional<pm_event> decode_pm_message(std::span<const std::byte> genl_message) {
  if (genl_message.size() < GENL_HDRLEN) return std::nullopt;
  genlmsghdr header;
  std::memcpy(&header, genl_message.data(), sizeof header);

  pm_event event;
  event.command = header.cmd;
  event.type = type_of(header.cmd);
  address_parts local, remote;

  const bool well_formed = netlink::for_each_attribute(
      genl_message.subspan(GENL_HDRLEN), [&](int type, std::span<const std::byte> payload) {
        switch (type) {
          case attr_token: event.token = read_value<std::uint32_t>(payload).value_or(0); break;
          case attr_family: event.family = read_value<std::uint16_t>(payload).value_or(0); break;
          case attr_loc_id: event.local_id = read_value<std::uint8_t>(payload); break;
          case attr_rem_id: event.remote_id = read_value<std::uint8_t>(payload); break;
          case attr_saddr4: local.address = read_v4(payload); break;
          case attr_saddr6: local.address = read_v6(payload); break;
          case attr_daddr4: remote.address = read_v4(payload); break;
          case attr_daddr6: remote.address = read_v6(payload); break;
          case attr_sport: local.port = read_port(payload); break;
          case attr_dport: remote.port = read_port(payload); break;
          case attr_backup:
            if (auto v = read_value<std::uint8_t>(payload)) event.backup = *v != 0;
            break;
          case attr_error: event.error = read_value<std::uint8_t>(payload); break;
          case attr_flags: event.flags = read_value<std::uint16_t>(payload); break;
          case attr_timeout: event.timeout = read_value<std::uint32_t>(payload); break;
          case attr_if_idx: event.interface_index = read_value<std::int32_t>(payload); break;
          case attr_reset_reason: event.reset_reason = read_value<std::uint32_t>(payload); break;
          case attr_reset_flags: event.reset_flags = read_value<std::uint32_t>(payload); break;
          case attr_server_side:
            if (auto v = read_value<std::uint8_t>(payload)) event.server_side = *v != 0;
            break;
          default: break;  // newer kernels add attributes; skipping them is the contract
        }
      });
  if (!well_formed) return std::nullopt;
  event.local = local.join();
  event.remote = remote.join();
  return event;
}

std::vector<pm_event> decode_pm_datagram(std::span<const std::byte> datagram,
                                         std::uint16_t family_id) {
  std::vector<pm_event> events;
  auto rest = datagram;
  while (rest.size() >= NLMSG_HDRLEN) {
    nlmsghdr header;
    std::memcpy(&header, rest.data(), sizeof header);
    if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > rest.size()) break;
    if (header.nlmsg_type == family_id) {
      auto event = decode_pm_message(rest.subspan(NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN));
      if (event) events.push_back(std::move(*event));
    }
    const std::size_t advance = NLMSG_ALIGN(header.nlmsg_len);
    if (advance >= rest.size()) break;
    rest = rest.subspan(advance);
  }
  return events;
}

}  // namespace mp
