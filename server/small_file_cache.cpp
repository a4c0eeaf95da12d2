#include "small_file_cache.hpp"

#include "served_file.hpp"

#include <fcntl.h>

#include <functional>

namespace mpserve {

namespace {

bool same_time(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// Whether `now` still describes the file whose bytes were read under `then`.
bool unchanged(const struct stat& then, const struct stat& now) {
  return then.st_dev == now.st_dev && then.st_ino == now.st_ino && then.st_mode == now.st_mode &&
         then.st_size == now.st_size && same_time(then.st_mtim, now.st_mtim) &&
         same_time(then.st_ctim, now.st_ctim);
}

// What `relative` names now, for comparison with an entry (a regular file). A name directly
// in the root has nothing to traverse: fstatat without following a final symlink sees the
// very file openat2 would open, or else a symlink, whose type differs from the entry's and
// so misses. One system call instead of three. Deeper names are resolved as the open does.
bool stat_now(int root, const std::string& relative, bool follow_symlinks, struct stat& info) {
  if (relative.find('/') == std::string::npos)
    return ::fstatat(root, relative.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0;
  return stat_resolved(root, relative, follow_symlinks, info);
}

std::chrono::nanoseconds since_epoch(const timespec& time) {
  return std::chrono::seconds(time.tv_sec) + std::chrono::nanoseconds(time.tv_nsec);
}

}  // namespace

small_file_cache::small_file_cache(std::size_t slots, std::size_t max_file_size,
                                   std::chrono::milliseconds settle_time)
    : slots_(slots == 0 ? 1 : slots), max_file_size_(max_file_size), settle_time_(settle_time) {}

small_file_cache::slot& small_file_cache::slot_for(const std::string& relative) {
  return slots_[std::hash<std::string>{}(relative) % slots_.size()];
}

const cached_file* small_file_cache::find(int root, const std::string& relative, bool follow_symlinks) {
  if (relative.empty()) return nullptr;  // the root itself is a directory
  slot& entry = slot_for(relative);
  if (!entry.used || entry.relative != relative) return nullptr;
  struct stat now {};
  if (!stat_now(root, relative, follow_symlinks, now) || !unchanged(entry.file.info, now)) {
    entry.used = false;
    entry.file.content = std::string();  // give the memory back now, not at the next store
    return nullptr;
  }
  entry.file.info = now;  // only st_atime can differ
  return &entry.file;
}

bool small_file_cache::store(const std::string& relative, const struct stat& info, std::string content,
                             std::chrono::system_clock::time_point now) {
  if (relative.empty() || !S_ISREG(info.st_mode) || content.size() > max_file_size_ ||
      content.size() != static_cast<std::size_t>(info.st_size))
    return false;
  // A ctime in the future (clock stepped back) is as unsettled as a recent one.
  if (now.time_since_epoch() - since_epoch(info.st_ctim) < settle_time_) return false;
  slot& entry = slot_for(relative);
  entry.used = true;
  entry.relative = relative;
  entry.file.info = info;
  entry.file.content = std::move(content);
  return true;
}

}  // namespace mpserve
