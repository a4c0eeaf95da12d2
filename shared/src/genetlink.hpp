#pragma once
// Generic netlink plumbing, internal to shared/: building a request, resolving a family by
// name, and one request with its replies on a blocking socket. The path-manager event listener
// and the endpoint commands both speak "mptcp_pm" through it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mp::genetlink {

// One generic netlink request being built: netlink header, genetlink header, attributes.
class request {
public:
  request(std::uint16_t family_id, std::uint8_t command, std::uint16_t flags);
  void put(std::uint16_t type, const void* data, std::size_t length);
  template <typename T>
  void put_value(std::uint16_t type, T value) { put(type, &value, sizeof value); }
  // Attributes put between begin_nested and end_nested go inside one nested attribute.
  std::size_t begin_nested(std::uint16_t type);
  void end_nested(std::size_t start);
  // The finished message; its sequence number is what the reply is matched by.
  std::span<const std::byte> bytes(std::uint32_t sequence);

private:
  std::vector<std::byte> message_;
};

struct family_info {
  std::uint16_t id = 0;
  std::vector<std::pair<std::string, std::uint32_t>> groups;  // multicast group name, id
  std::uint32_t group(std::string_view name) const;           // 0 when absent
};

// Sends `message` on the blocking NETLINK_GENERIC socket fd and reads the replies: each
// message's genetlink attributes (after the genetlink header) go to on_reply. Ends at the
// kernel's acknowledgement (ask for one with NLM_F_ACK) or at NLMSG_DONE for a dump; a
// negative acknowledgement becomes the error it carries (EPERM, ENOENT, EINVAL, ...).
std::error_code transact(int fd, std::span<const std::byte> message,
                         const std::function<void(std::span<const std::byte>)>& on_reply);

// Asks the controller for the family's id and multicast groups (ENOENT: no such family).
std::error_code resolve_family(int fd, std::string_view name, family_info& info);

// A NETLINK_GENERIC socket that gives up on a reply after `timeout_seconds`.
int open_socket(std::error_code& ec, int timeout_seconds = 2);

// open_socket, then resolve_family: the socket, or -1 (closed again) with the reason in ec.
int open_family_socket(std::string_view name, family_info& info, std::error_code& ec);

}  // namespace mp::genetlink
