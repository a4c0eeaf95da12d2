#include "output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace mpfetch {

output_file::~output_file() {
  if (fd_ >= 0) ::close(fd_);  // an unfinished .part stays for a later -c
}

void output_file::open(const std::string& final_path, std::error_code& ec) {
  final_path_ = final_path;
  struct stat existing {};
  if (::stat(final_path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) {
    direct_ = true;
    part_path_ = final_path;
    fd_ = ::open(final_path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd_ < 0) ec.assign(errno, std::system_category());
    return;
  }
  part_path_ = final_path + ".part";
  fd_ = ::open(part_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) ec.assign(errno, std::system_category());
}

void output_file::write(const char* data, std::size_t size, std::error_code& ec) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      ec.assign(errno, std::system_category());
      return;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void output_file::commit(std::error_code& ec) {
  if (direct_) {
    if (::close(fd_) != 0) ec.assign(errno, std::system_category());
    fd_ = -1;
    return;
  }
  int error = ::fsync(fd_) == 0 ? 0 : errno;
  if (::close(fd_) != 0 && error == 0) error = errno;
  fd_ = -1;
  if (error != 0) {
    ec.assign(error, std::system_category());
    return;
  }
  if (std::rename(part_path_.c_str(), final_path_.c_str()) != 0)
    ec.assign(errno, std::system_category());
}

}  // namespace mpfetch
