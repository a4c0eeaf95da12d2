#pragma once
// Opening a file beneath the served directory, with the kernel refusing every escape:
// openat2(RESOLVE_BENEATH) rejects '..' above the root and symlinks that leave it.

#include <sys/stat.h>

#include <string>
#include <system_error>

namespace mpserve {

class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd();
  int get() const noexcept { return fd_; }
  int release() noexcept;
  explicit operator bool() const noexcept { return fd_ >= 0; }

private:
  int fd_ = -1;
};

struct served_file {
  unique_fd fd;
  struct stat info {};
};

// Opens the served directory itself (O_PATH | O_DIRECTORY).
unique_fd open_root(const std::string& directory, std::error_code& ec);

// Opens `relative` (from resolve_target) beneath `root`. Errors: ENOENT/ENOTDIR (404),
// EXDEV/ELOOP/EACCES (403: escape attempt or no permission).
served_file open_beneath(int root, const std::string& relative, std::error_code& ec);

// As open_beneath, but symlinks may lead anywhere (--follow-symlinks). '..' in the request
// is still refused by resolve_target before this is called.
served_file open_following_symlinks(int root, const std::string& relative, std::error_code& ec);

// What open_beneath (or, with `follow_symlinks`, open_following_symlinks) would open at
// `relative`, resolved by the same rules, without opening it for reading: an O_PATH descriptor,
// fstat, close. False where the open would fail.
bool stat_resolved(int root, const std::string& relative, bool follow_symlinks, struct stat& info);

}  // namespace mpserve
