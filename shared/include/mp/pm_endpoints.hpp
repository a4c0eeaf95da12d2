#pragma once
// The in-kernel path manager's endpoints of this network namespace (what `ip mptcp endpoint`
// shows and changes), through the "mptcp_pm" generic netlink family. Listing needs no
// privilege; adding and deleting need CAP_NET_ADMIN (EPERM otherwise). Blocking calls that the
// kernel answers within the call (deleting an endpoint takes the lock of every MPTCP socket in
// the namespace): for rare, deliberate changes, never for a hot path.

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace mp {

struct pm_endpoint {
  std::uint8_t id = 0;
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  std::uint32_t flags = 0;  // MPTCP_PM_ADDR_FLAG_* (signal, subflow, backup, fullmesh)
  std::int32_t ifindex = 0;
  bool creates_subflows() const;  // the `subflow` flag: this host joins from the address
  bool implicit() const;          // made by the kernel for an address in use; cannot be added
  std::string to_string() const;  // as `ip mptcp endpoint show` words it
  friend bool operator==(const pm_endpoint&, const pm_endpoint&) = default;
};

class pm_endpoint_table {
public:
  pm_endpoint_table() = default;
  ~pm_endpoint_table();
  pm_endpoint_table(const pm_endpoint_table&) = delete;
  pm_endpoint_table& operator=(const pm_endpoint_table&) = delete;

  // Opens the netlink socket and resolves the family (ENOENT: the kernel has no MPTCP PM).
  std::error_code open();
  std::error_code list(std::vector<pm_endpoint>& endpoints);
  // Deletes the endpoint with this id. Its subflows close on every MPTCP connection of the
  // namespace, and the peers are told with REMOVE_ADDR on the connections' other subflows.
  std::error_code remove(const pm_endpoint& endpoint);
  // Adds the endpoint (its id too, when not 0). A `subflow` endpoint makes the path manager
  // join from it on the namespace's established connections at once.
  std::error_code add(const pm_endpoint& endpoint);

private:
  int fd_ = -1;
  std::uint16_t family_id_ = 0;
  std::uint32_t sequence_ = 1;  // resolving the family used 1
};

// The endpoint for this local address, or nullptr. An IPv4-mapped IPv6 address matches the
// IPv4 endpoint; an IPv6 scope id is not compared (endpoints carry none).
const pm_endpoint* find_endpoint(const std::vector<pm_endpoint>& endpoints,
                                 const boost::asio::ip::address& address);

}  // namespace mp
