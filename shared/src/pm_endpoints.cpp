#include "mp/pm_endpoints.hpp"

#include "genetlink.hpp"
#include "netlink_attributes.hpp"

#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace mp {

namespace {

// Comparable form: IPv4-mapped IPv6 as IPv4, IPv6 without its scope id.
boost::asio::ip::address unmapped(const boost::asio::ip::address& address) {
  if (!address.is_v6()) return address;
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6);
  return boost::asio::ip::address_v6(v6.to_bytes());
}

pm_endpoint parse_endpoint(std::span<const std::byte> attributes) {
  pm_endpoint endpoint;
  netlink::for_each_attribute(attributes, [&](int type, std::span<const std::byte> nested) {
    if (type != MPTCP_PM_ATTR_ADDR) return;
    netlink::for_each_attribute(nested, [&](int field, std::span<const std::byte> v) {
      switch (field) {
        case MPTCP_PM_ADDR_ATTR_ID:
          endpoint.id = netlink::read_value<std::uint8_t>(v).value_or(0);
          break;
        case MPTCP_PM_ADDR_ATTR_ADDR4:
          if (auto a = netlink::read_v4(v)) endpoint.address = *a;
          break;
        case MPTCP_PM_ADDR_ATTR_ADDR6:
          if (auto a = netlink::read_v6(v)) endpoint.address = *a;
          break;
        case MPTCP_PM_ADDR_ATTR_PORT:
          endpoint.port = netlink::read_value<std::uint16_t>(v).value_or(0);  // host order here
          break;
        case MPTCP_PM_ADDR_ATTR_FLAGS:
          endpoint.flags = netlink::read_value<std::uint32_t>(v).value_or(0);
          break;
        case MPTCP_PM_ADDR_ATTR_IF_IDX:
          endpoint.ifindex = netlink::read_value<std::int32_t>(v).value_or(0);
          break;
        default:
          break;
      }
    });
  });
  return endpoint;
}

// MPTCP_PM_ATTR_ADDR for a request; `whole` adds flags, port and interface (for adding).
void put_endpoint(genetlink::request& request, const pm_endpoint& endpoint, bool whole) {
  const auto nested = request.begin_nested(MPTCP_PM_ATTR_ADDR);
  const auto address = unmapped(endpoint.address);
  if (address.is_v4()) {
    request.put_value<std::uint16_t>(MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET);
    const auto b = address.to_v4().to_bytes();
    request.put(MPTCP_PM_ADDR_ATTR_ADDR4, b.data(), b.size());
  } else {
    request.put_value<std::uint16_t>(MPTCP_PM_ADDR_ATTR_FAMILY, AF_INET6);
    const auto b = address.to_v6().to_bytes();
    request.put(MPTCP_PM_ADDR_ATTR_ADDR6, b.data(), b.size());
  }
  request.put_value<std::uint8_t>(MPTCP_PM_ADDR_ATTR_ID, endpoint.id);
  if (whole) {
    if (endpoint.port != 0) request.put_value<std::uint16_t>(MPTCP_PM_ADDR_ATTR_PORT, endpoint.port);
    request.put_value<std::uint32_t>(MPTCP_PM_ADDR_ATTR_FLAGS, endpoint.flags);
    if (endpoint.ifindex != 0) request.put_value<std::int32_t>(MPTCP_PM_ADDR_ATTR_IF_IDX, endpoint.ifindex);
  }
  request.end_nested(nested);
}

}  // namespace

bool pm_endpoint::creates_subflows() const { return (flags & MPTCP_PM_ADDR_FLAG_SUBFLOW) != 0; }
bool pm_endpoint::implicit() const { return (flags & MPTCP_PM_ADDR_FLAG_IMPLICIT) != 0; }

std::string pm_endpoint::to_string() const {
  std::string text = unmapped(address).to_string();
  if (port != 0) text += " port " + std::to_string(port);
  text += " id " + std::to_string(id);
  if (flags & MPTCP_PM_ADDR_FLAG_SIGNAL) text += " signal";
  if (flags & MPTCP_PM_ADDR_FLAG_SUBFLOW) text += " subflow";
  if (flags & MPTCP_PM_ADDR_FLAG_BACKUP) text += " backup";
  if (flags & MPTCP_PM_ADDR_FLAG_FULLMESH) text += " fullmesh";
  if (flags & MPTCP_PM_ADDR_FLAG_IMPLICIT) text += " implicit";
  if (ifindex != 0) {
    char name[IF_NAMESIZE] = {};
    if (::if_indextoname(static_cast<unsigned>(ifindex), name)) text += std::string(" dev ") + name;
    else text += " ifindex " + std::to_string(ifindex);
  }
  return text;
}

pm_endpoint_table::~pm_endpoint_table() {
  if (fd_ >= 0) ::close(fd_);
}

std::error_code pm_endpoint_table::open() {
  if (fd_ >= 0) return {};
  std::error_code ec;
  genetlink::family_info info;
  const int fd = genetlink::open_family_socket("mptcp_pm", info, ec);
  if (fd < 0) return ec;
  fd_ = fd;
  family_id_ = info.id;
  return {};
}

std::error_code pm_endpoint_table::list(std::vector<pm_endpoint>& endpoints) {
  endpoints.clear();
  if (auto ec = open()) return ec;
  genetlink::request dump(family_id_, MPTCP_PM_CMD_GET_ADDR, NLM_F_DUMP);
  return genetlink::transact(fd_, dump.bytes(++sequence_), [&](std::span<const std::byte> attributes) {
    endpoints.push_back(parse_endpoint(attributes));
  });
}

std::error_code pm_endpoint_table::remove(const pm_endpoint& endpoint) {
  if (auto ec = open()) return ec;
  genetlink::request del(family_id_, MPTCP_PM_CMD_DEL_ADDR, NLM_F_ACK);
  put_endpoint(del, endpoint, false);
  return genetlink::transact(fd_, del.bytes(++sequence_), nullptr);
}

std::error_code pm_endpoint_table::add(const pm_endpoint& endpoint) {
  if (auto ec = open()) return ec;
  genetlink::request add(family_id_, MPTCP_PM_CMD_ADD_ADDR, NLM_F_ACK);
  put_endpoint(add, endpoint, true);
  return genetlink::transact(fd_, add.bytes(++sequence_), nullptr);
}

const pm_endpoint* find_endpoint(const std::vector<pm_endpoint>& endpoints,
                                 const boost::asio::ip::address& address) {
  const auto wanted = unmapped(address);
  for (const auto& endpoint : endpoints)
    if (unmapped(endpoint.address) == wanted) return &endpoint;
  return nullptr;
}

}  // namespace mp
