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

std::uint64_t resolve_flags(bool follow_symlinks) {
  return follow_symlinks ? RESOLVE_NO_MAGICLINKS : RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
}

long open_resolved(int root, const std::string& relative, std::uint64_t flags, bool follow_symlinks) {
  open_how how{};
  how.flags = flags;
  how.resolve = resolve_flags(follow_symlinks);
  const char* path = relative.empty() ? "." : relative.c_str();
  return ::syscall(SYS_openat2, root, path, &how, sizeof how);
}

served_file open_with(int root, const std::string& relative, bool follow_symlinks, std::error_code& ec) {
  served_file file;
  // O_NONBLOCK: a FIFO planted in the directory must not block the event loop on open.
  const long fd = open_resolved(root, relative, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, follow_symlinks);
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
  return open_with(root, relative, false, ec);
}

served_file open_following_symlinks(int root, const std::string& relative, std::error_code& ec) {
  return open_with(root, relative, true, ec);
}

bool stat_resolved(int root, const std::string& relative, bool follow_symlinks, struct stat& info) {
  const long fd = open_resolved(root, relative, O_PATH | O_CLOEXEC, follow_symlinks);
  if (fd < 0) return false;
  const unique_fd path_fd(static_cast<int>(fd));
  return ::fstat(path_fd.get(), &info) == 0;
}

}  // namespace mpserve
