#pragma once
// Walking netlink attributes (struct nlattr, 4-byte aligned) and reading their payloads
// without reading past the buffer. Internal to shared/: the PM event decoder, the endpoint
// table and the genetlink family lookup use it.

#include <boost/asio/ip/address.hpp>
#include <linux/netlink.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>

namespace mp::netlink {

// Calls visit(type, payload) for each attribute, type without the NESTED/BYTEORDER flags.
// Returns false if an attribute's length is impossible (the rest is then not visited).
template <typename Visit>
bool for_each_attribute(std::span<const std::byte> rest, Visit&& visit) {
  while (rest.size() >= NLA_HDRLEN) {
    nlattr attribute;
    std::memcpy(&attribute, rest.data(), sizeof attribute);
    if (attribute.nla_len < NLA_HDRLEN || attribute.nla_len > rest.size()) return false;
    visit(attribute.nla_type & NLA_TYPE_MASK,
          rest.subspan(NLA_HDRLEN, attribute.nla_len - NLA_HDRLEN));
    const std::size_t advance = NLA_ALIGN(attribute.nla_len);
    if (advance >= rest.size()) break;
    rest = rest.subspan(advance);
  }
  return true;
}

// A fixed-size payload (host order, as netlink carries integers), or nullopt if it is short.
template <typename T>
std::optional<T> read_value(std::span<const std::byte> payload) {
  if (payload.size() < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, payload.data(), sizeof(T));
  return value;
}

// A struct in_addr / in6_addr payload (network order, as the bytes types want).
inline std::optional<boost::asio::ip::address> read_v4(std::span<const std::byte> payload) {
  if (payload.size() < 4) return std::nullopt;
  boost::asio::ip::address_v4::bytes_type bytes;
  std::memcpy(bytes.data(), payload.data(), 4);
  return boost::asio::ip::address_v4(bytes);
}

inline std::optional<boost::asio::ip::address> read_v6(std::span<const std::byte> payload) {
  if (payload.size() < 16) return std::nullopt;
  boost::asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), payload.data(), 16);
  return boost::asio::ip::address_v6(bytes);
}

}  // namespace mp::netlink
