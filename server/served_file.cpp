#include "served_file.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace mpserve {

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

unique_fd::~unique_fd() {
  if (fd_ >= 0) ::close(fd_);
}

int unique_fd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

unique_fd open_root(const std::string& directory, std::error_code& ec) {
  const int fd = ::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ec.assign(errno, std::system_category());
  return unique_fd(fd);
}

namespace {

served_file open_with(int root, const std::string& relative, std::uint64_t resolve_flags,
                      std::error_code& ec) {
  served_file file;
  open_how how{};
  // O_NONBLOCK: a FIFO planted in the directory must not block the event loop on open.
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = resolve_flags;
  const char* path = relative.empty() ? "." : relative.c_str();
  const long fd = ::syscall(SYS_openat2, root, path, &how, sizeof how);
  if (fd < 0) {
    ec.assign(errno, std::system_category());
    return file;
  }
  file.fd = unique_fd(static_cast<int>(fd));
  if (::fstat(file.fd.get(), &file.info) != 0) {
    ec.assign(errno, std::system_category());
    file.fd = unique_fd();
  }
  return file;
}

}  // namespace

served_file open_beneath(int root, const std::string& relative, std::error_code& ec) {
  return open_with(root, relative, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, ec);
}

served_file open_following_symlinks(int root, const std::string& relative, std::error_code& ec) {
  return open_with(root, relative, RESOLVE_NO_MAGICLINKS, ec);
}

}  // namespace mpserve
