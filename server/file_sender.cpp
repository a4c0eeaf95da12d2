#include "file_sender.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace mpserve {

namespace {
// Large enough that one call fills any socket buffer; sendfile returns early when it is full.
constexpr std::uint64_t max_sendfile_chunk = 16u << 20;

boost::system::error_code errno_code() {
  return {errno, boost::system::system_category()};
}
}  // namespace

void file_sender::start(mp::mptcp::socket& socket, std::string header, int file_fd, off_t offset,
                        std::uint64_t length, completion done) {
  socket_ = &socket;
  header_ = std::move(header);
  header_sent_ = 0;
  file_fd_ = file_fd;
  offset_ = offset;
  remaining_ = length;
  body_sent_ = 0;
  done_ = std::move(done);
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) return complete(ec);
  step();
}

void file_sender::step() {
  const int fd = socket_->native_handle();
  while (header_sent_ < header_.size()) {
    const int flags = MSG_NOSIGNAL | (remaining_ > 0 ? MSG_MORE : 0);
    const ssize_t n = ::send(fd, header_.data() + header_sent_, header_.size() - header_sent_, flags);
    if (n >= 0) {
      header_sent_ += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return complete(errno_code());
    return wait_writable();
  }
  while (remaining_ > 0) {
    const ssize_t n =
        ::sendfile(fd, file_fd_, &offset_, static_cast<std::size_t>(std::min(remaining_, max_sendfile_chunk)));
    if (n > 0) {
      remaining_ -= static_cast<std::uint64_t>(n);
      body_sent_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0)  // the file shrank under us: end the response short rather than pad it
      return complete(boost::asio::error::eof);
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return complete(errno_code());
    return wait_writable();
  }
  complete({});
}

void file_sender::wait_writable() {
  socket_->async_wait(mp::mptcp::socket::wait_write, [this](const boost::system::error_code& ec) {
    if (ec) return complete(ec);
    step();
  });
}

void file_sender::complete(const boost::system::error_code& ec) {
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(ec);
}

}  // namespace mpserve
