#pragma once
// The bytes of small files (pages, icons, scripts: up to 16 KiB), kept per worker thread.
//
// Serving a small file from the page cache costs four system calls besides the socket's:
// openat2, fstat, pread and close. A hit here costs one: fstatat on the same path, which must
// still name the very file that was read (device, inode, type and mode, size, mtime, ctime).
// Any change to the file moves its ctime; a rename over it, a deletion or a symlink put in its
// place changes the inode or makes the lookup fail. Either way the request takes the normal
// path, which opens the file beneath the root again. nginx's open_file_cache instead trusts an
// entry for open_file_cache_valid seconds; we check on every request.
//
// Files changed less than `settle_time` ago are not stored: the kernel stamps ctime from a
// clock that advances once per tick, so a write in the same tick as our read could leave
// ctime as it was and the cache holding bytes that are no longer the file's. (git's "racy
// git" rule, for the same reason.)
//
// Memory: at most `slots` entries of at most `max_file_size` bytes each. A slot is chosen by
// the path's hash; a new path simply replaces the one there.

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace mpserve {

struct cached_file {
  struct stat info {};
  std::string content;
};

class small_file_cache {
public:
  small_file_cache(std::size_t slots, std::size_t max_file_size,
                   std::chrono::milliseconds settle_time = std::chrono::seconds(1));

  // The entry for `relative` (beneath the directory `root`) if that path still names the
  // unchanged file it was read from, else nullptr (and the entry is dropped). The pointer is
  // valid until the next call of store().
  const cached_file* find(int root, const std::string& relative);

  // Keeps `content`, the whole of the regular file `info` read through `relative`, if it is
  // small enough and settled. Returns whether it was kept.
  bool store(const std::string& relative, const struct stat& info, std::string content);

  std::size_t max_file_size() const noexcept { return max_file_size_; }

private:
  struct slot {
    bool used = false;
    std::string relative;
    cached_file file;
  };
  slot& slot_for(const std::string& relative);

  std::vector<slot> slots_;
  std::size_t max_file_size_;
  std::chrono::milliseconds settle_time_;
};

}  // namespace mpserve
