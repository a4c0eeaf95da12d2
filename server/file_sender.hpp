#pragma once
// Sends a response header and a file range to a socket without reading the file into user
// space: the header with MSG_MORE so it leaves with the first body bytes, the body with
// sendfile(2). The socket is non-blocking; when it is full we wait for it to be writable.

#include "mp/mptcp_protocol.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

namespace mpserve {

class file_sender {
public:
  using completion = std::function<void(const boost::system::error_code&)>;

  // Starts sending; `done` runs once, on the socket's executor, with the first error or none.
  // The caller keeps this object and the file descriptor alive until then.
  void start(mp::mptcp::socket& socket, std::string header, int file_fd, off_t offset,
             std::uint64_t length, completion done);

  std::uint64_t body_bytes_sent() const noexcept { return body_sent_; }

private:
  void step();
  void wait_writable();
  void complete(const boost::system::error_code& ec);

  mp::mptcp::socket* socket_ = nullptr;
  std::string header_;
  std::size_t header_sent_ = 0;
  int file_fd_ = -1;
  off_t offset_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t body_sent_ = 0;
  completion done_;
};

}  // namespace mpserve
