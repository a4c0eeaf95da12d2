#include "genetlink.hpp"

#include "netlink_attributes.hpp"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace mp::genetlink {

namespace {
std::error_code last_error() { return {errno, std::system_category()}; }
}  // namespace

request::request(std::uint16_t family_id, std::uint8_t command, std::uint16_t flags)
    : message_(NLMSG_HDRLEN + GENL_HDRLEN) {
  nlmsghdr header{};
  header.nlmsg_type = family_id;
  header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  std::memcpy(message_.data(), &header, sizeof header);
  genlmsghdr genl{};
  genl.cmd = command;
  genl.version = 1;
  std::memcpy(message_.data() + NLMSG_HDRLEN, &genl, sizeof genl);
}

void request::put(std::uint16_t type, const void* data, std::size_t length) {
  nlattr header{static_cast<std::uint16_t>(NLA_HDRLEN + length), type};
  const auto* h = reinterpret_cast<const std::byte*>(&header);
  message_.insert(message_.end(), h, h + sizeof header);
  const auto* d = static_cast<const std::byte*>(data);
  message_.insert(message_.end(), d, d + length);
  message_.resize(NLA_ALIGN(message_.size()));
}

std::size_t request::begin_nested(std::uint16_t type) {
  const std::size_t start = message_.size();
  put(static_cast<std::uint16_t>(type | NLA_F_NESTED), nullptr, 0);
  return start;
}

void request::end_nested(std::size_t start) {
  const auto length = static_cast<std::uint16_t>(message_.size() - start);
  std::memcpy(message_.data() + start, &length, sizeof length);  // nla_len comes first
}

std::span<const std::byte> request::bytes(std::uint32_t sequence) {
  nlmsghdr header;
  std::memcpy(&header, message_.data(), sizeof header);
  header.nlmsg_len = static_cast<std::uint32_t>(message_.size());
  header.nlmsg_seq = sequence;
  std::memcpy(message_.data(), &header, sizeof header);
  return message_;
}

std::uint32_t family_info::group(std::string_view name) const {
  for (const auto& [group_name, id] : groups)
    if (group_name == name) return id;
  return 0;
}

std::error_code transact(int fd, std::span<const std::byte> message,
                         const std::function<void(std::span<const std::byte>)>& on_reply) {
  nlmsghdr sent;
  std::memcpy(&sent, message.data(), sizeof sent);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0)
    return last_error();

  std::array<std::byte, 16384> buffer;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();  // EAGAIN: the kernel did not answer within the socket's timeout
    }
    std::span<const std::byte> rest(buffer.data(), static_cast<std::size_t>(n));
    while (rest.size() >= NLMSG_HDRLEN) {
      nlmsghdr header;
      std::memcpy(&header, rest.data(), sizeof header);
      if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > rest.size())
        return std::make_error_code(std::errc::bad_message);
      const auto body = rest.subspan(NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN);
      const std::size_t advance = std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), rest.size());
      rest = rest.subspan(advance);
      if (header.nlmsg_seq != sent.nlmsg_seq) continue;  // a stale reply to an earlier request
      if (header.nlmsg_type == NLMSG_DONE) {
        // A dump that failed part-way says so here.
        int error = 0;
        if (body.size() >= sizeof error) std::memcpy(&error, body.data(), sizeof error);
        return error < 0 ? std::error_code(-error, std::system_category()) : std::error_code();
      }
      if (header.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr error;
        if (body.size() < sizeof error.error) return std::make_error_code(std::errc::bad_message);
        std::memcpy(&error.error, body.data(), sizeof error.error);
        if (error.error == 0) return {};  // the acknowledgement
        return {-error.error, std::system_category()};
      }
      if (body.size() >= GENL_HDRLEN && on_reply) on_reply(body.subspan(GENL_HDRLEN));
      // A reply to a request that asked for neither an acknowledgement nor a dump ends here.
      if (!(sent.nlmsg_flags & (NLM_F_ACK | NLM_F_DUMP))) return {};
    }
  }
}

std::error_code resolve_family(int fd, std::string_view name, family_info& info) {
  request ask(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
  const std::string family_name(name);
  ask.put(CTRL_ATTR_FAMILY_NAME, family_name.c_str(), family_name.size() + 1);
  info = {};
  auto ec = transact(fd, ask.bytes(1), [&](std::span<const std::byte> attributes) {
    netlink::for_each_attribute(attributes, [&](int type, std::span<const std::byte> p) {
      if (type == CTRL_ATTR_FAMILY_ID && p.size() >= 2) {
        std::memcpy(&info.id, p.data(), 2);
      } else if (type == CTRL_ATTR_MCAST_GROUPS) {
        netlink::for_each_attribute(p, [&](int, std::span<const std::byte> group) {
          std::string group_name;
          std::uint32_t id = 0;
          netlink::for_each_attribute(group, [&](int field, std::span<const std::byte> v) {
            if (field == CTRL_ATTR_MCAST_GRP_NAME && !v.empty())
              group_name.assign(reinterpret_cast<const char*>(v.data()),
                                ::strnlen(reinterpret_cast<const char*>(v.data()), v.size()));
            else if (field == CTRL_ATTR_MCAST_GRP_ID && v.size() >= 4)
              std::memcpy(&id, v.data(), 4);
          });
          info.groups.emplace_back(std::move(group_name), id);
        });
      }
    });
  });
  if (ec) return ec;  // ENOENT: this kernel has no such family
  if (info.id == 0) return std::make_error_code(std::errc::protocol_error);
  return {};
}

int open_socket(std::error_code& ec, int timeout_seconds) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) {
    ec = last_error();
    return -1;
  }
  // Don't hang if the kernel never answers.
  timeval timeout{timeout_seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ec.clear();
  return fd;
}

int open_family_socket(std::string_view name, family_info& info, std::error_code& ec) {
  const int fd = open_socket(ec);
  if (fd < 0) return -1;
  if ((ec = resolve_family(fd, name, info))) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace mp::genetlink
