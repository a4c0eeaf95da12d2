#pragma once
// Path-manager events as the kernel multicasts them on the genetlink family "mptcp_pm"
// (what `ip mptcp monitor` prints), decoded into a typed value. Pure: no sockets here.

#include "mp/connection_info.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mp {

enum class pm_event_type : std::uint8_t {
  unknown = 0,
  created = 1,
  established = 2,
  closed = 3,
  announced = 6,
  removed = 7,
  sub_established = 10,
  sub_closed = 11,
  sub_priority = 13,
  listener_created = 15,
  listener_closed = 16,
};

struct pm_event {
  pm_event_type type = pm_event_type::unknown;
  std::uint8_t command = 0;  // the raw genetlink command, kept for unknown types
  std::uint32_t token = 0;   // MPTCP connection token (0 for listener events)
  std::uint16_t family = 0;  // AF_INET / AF_INET6
  std::optional<std::uint8_t> local_id;
  std::optional<std::uint8_t> remote_id;
  std::optional<socket_address> local;   // saddr + sport
  std::optional<socket_address> remote;  // daddr + dport
  std::optional<bool> backup;
  std::optional<std::uint8_t> error;
  std::optional<std::uint16_t> flags;
  std::optional<std::uint32_t> timeout;
  std::optional<std::int32_t> interface_index;
  std::optional<std::uint32_t> reset_reason;
  std::optional<std::uint32_t> reset_flags;
  std::optional<bool> server_side;
};

std::string_view to_string(pm_event_type type) noexcept;

// One line for people, e.g. "sub_established token=1a2b3c4d 192.0.2.1:41000 -> 198.51.100.1:8000
// loc_id=1 rem_id=0".
std::string describe(const pm_event& event);

// Decodes one generic-netlink message body: the genlmsghdr followed by attributes. Returns
// nothing when it is too short or an attribute overruns it; unknown attributes are skipped,
// known ones too short for their type are ignored.
std::optional<pm_event> decode_pm_message(std::span<const std::byte> genl_message);

// Decodes every message of `family_id` in a netlink datagram (several may share one).
std::vector<pm_event> decode_pm_datagram(std::span<const std::byte> datagram,
                                         std::uint16_t family_id);

}  // namespace mp
