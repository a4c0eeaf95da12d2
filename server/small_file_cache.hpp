#pragma once
// The bytes of small files (pages, icons, scripts: up to 16 KiB), kept per worker thread.
//
// Serving a small file from the page cache costs openat2, fstat, pread and close besides the
// socket's calls. A hit here costs no read and no copy: the path is resolved again by the
// very rules of the normal open (RESOLVE_BENEATH unless symlinks may be followed: an O_PATH
// descriptor, fstat, close; for a name directly in the served directory, where there is
// nothing to traverse, one fstatat that does not follow a final symlink), and the answer
// comes from memory only if it is still the file that was read (device, inode, type and mode, size, mtime, ctime). Any
// change to the file moves its ctime; a rename over it, a deletion, a symlink put in its place
// or in place of a directory above it changes what the path resolves to or makes it fail.
// Either way the request takes the normal path. (nginx's open_file_cache instead trusts an
// entry for open_file_cache_valid seconds; we check on every request.)
//
// Files changed less than `settle_time` ago are not stored: the kernel stamps ctime from a
// clock that advances once per tick (and FAT keeps times in 2 s steps), so a write soon
// after our read could leave ctime as it was and the cache holding bytes that are no longer
// the file's. (git's "racy git" rule, for the same reason.) Not seen either: writes through
// a shared mapping to pages already dirty (the kernel updates the times on the first fault
// only), and attributes a network filesystem's client caches (NFS: up to acregmax) — serve
// such directories with --small-file-cache 0.
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
                   std::chrono::milliseconds settle_time = std::chrono::seconds(2));

  // The entry for `relative` if that path, resolved beneath `root` as the normal open would
  // resolve it (`follow_symlinks`: --follow-symlinks), still names the unchanged file it was
  // read from; else nullptr (and the entry is dropped). Valid until the next store().
  const cached_file* find(int root, const std::string& relative, bool follow_symlinks);

  // Keeps `content`, the whole of the regular file `info` read through `relative`, if it is
  // small enough and settled at `now`. Returns whether it was kept.
  bool store(const std::string& relative, const struct stat& info, std::string content,
             std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

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
