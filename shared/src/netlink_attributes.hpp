#pragma once
// Walking netlink attributes (struct nlattr, 4-byte aligned) without reading past the buffer.
// Internal to shared/: the PM event decoder and the genetlink family lookup both use it.

#include <linux/netlink.h>

#include <cstddef>
#include <cstring>
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

}  // namespace mp::netlink
