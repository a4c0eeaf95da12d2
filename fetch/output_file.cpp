#include "output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace mpfetch {

output_file::~output_file() {
  if (fd_ >= 0) ::close(fd_);  // an unfinished .part stays for a later -c
}

// Standard output and special files (/dev/null, a FIFO, a terminal) are written directly:
// renaming a .part over a device would replace the device with a regular file.
bool output_file::open_direct(const std::string& final_path, std::error_code& ec) {
  if (final_path == "-") {  // standard output: written as it comes, never renamed
    direct_ = true;
    part_path_ = "standard output";
    fd_ = ::dup(STDOUT_FILENO);
    if (fd_ < 0) ec.assign(errno, std::system_category());
    return true;
  }
  struct stat existing {};
  if (::stat(final_path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) {
    direct_ = true;
    part_path_ = final_path;
    fd_ = ::open(final_path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd_ < 0) ec.assign(errno, std::system_category());
    return true;
  }
  return false;
}

void output_file::open(const std::string& final_path, std::error_code& ec) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  final_path_ = final_path;
  direct_ = false;
  if (open_direct(final_path, ec)) return;
  part_path_ = final_path + ".part";
  fd_ = ::open(part_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) ec.assign(errno, std::system_category());
}

std::uint64_t output_file::open_to_append(const std::string& final_path, std::error_code& ec) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  final_path_ = final_path;
  direct_ = false;
  if (open_direct(final_path, ec)) return 0;  // nothing to append to on a device
  part_path_ = final_path + ".part";
  // Read too: a resumed download with --sha256 hashes what is already there.
  fd_ = ::open(part_path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    ec.assign(errno, std::system_category());
    return 0;
  }
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    ec.assign(errno, std::system_category());
    return 0;
  }
  return static_cast<std::uint64_t>(info.st_size);
}

void output_file::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void output_file::truncate_to(std::uint64_t size, std::error_code& ec) {
  if (direct_) return;  // a device or a pipe has nothing to take back
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) ec.assign(errno, std::system_category());
}

namespace {
constexpr const char* etag_attribute = "user.mpfetch.etag";
constexpr const char* last_modified_attribute = "user.mpfetch.last-modified";

std::string read_attribute(const std::string& path, const char* name) {
  char value[512];
  const ssize_t n = ::getxattr(path.c_str(), name, value, sizeof value);
  return n > 0 ? std::string(value, static_cast<std::size_t>(n)) : std::string();
}
}  // namespace

void output_file::store_validators(const std::string& etag, const std::string& last_modified) {
  if (direct_ || fd_ < 0) return;
  ::fremovexattr(fd_, etag_attribute);
  ::fremovexattr(fd_, last_modified_attribute);
  if (!etag.empty()) ::fsetxattr(fd_, etag_attribute, etag.data(), etag.size(), 0);
  if (!last_modified.empty())
    ::fsetxattr(fd_, last_modified_attribute, last_modified.data(), last_modified.size(), 0);
}

void output_file::load_validators(const std::string& final_path, std::string& etag, std::string& last_modified) {
  etag = read_attribute(final_path + ".part", etag_attribute);
  last_modified = read_attribute(final_path + ".part", last_modified_attribute);
}

std::uint64_t output_file::part_size(const std::string& final_path) {
  struct stat info {};
  if (::stat((final_path + ".part").c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return 0;
  return static_cast<std::uint64_t>(info.st_size);
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
