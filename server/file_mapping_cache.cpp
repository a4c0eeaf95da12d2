#include "file_mapping_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <vector>

namespace mpserve {

std::shared_ptr<const file_mapping> file_mapping::map(int fd, std::uint64_t length, std::error_code& ec) {
  void* address = ::mmap(nullptr, static_cast<std::size_t>(length), PROT_READ, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) {
    ec.assign(errno, std::system_category());
    return nullptr;
  }
  // No MADV_SEQUENTIAL: it would tell reclaim to take the pages of a file we mean to send
  // again sooner (and the mapping measured fast without it, bench/send_methods mmap:1M+keep).
  return std::shared_ptr<const file_mapping>(new file_mapping(static_cast<const char*>(address), length));
}

file_mapping::~file_mapping() { ::munmap(const_cast<char*>(data_), static_cast<std::size_t>(size_)); }

std::shared_ptr<const file_mapping> file_mapping_cache::acquire(int fd, const struct stat& info, std::error_code& ec) {
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if (max_entries_ == 0 || !S_ISREG(info.st_mode) || size == 0 || size > max_bytes_) return nullptr;
  const file_key key{info.st_dev, info.st_ino};
  // Mappings let go here are unmapped after the lock (munmap of a large one takes a while).
  std::vector<std::shared_ptr<const file_mapping>> released;
  const std::lock_guard lock(mutex_);
  auto mapped = std::find_if(entries_.begin(), entries_.end(), [&](const entry& e) { return e.key == key; });
  if (mapped != entries_.end()) {
    entries_.splice(entries_.begin(), entries_, mapped);  // now the most recently used
    if (entries_.front().mapping->size() >= size) return entries_.front().mapping;
    release_front_entry(released);  // the file grew: map it again, whole
  } else {
    auto sighting = std::find_if(seen_.begin(), seen_.end(), [&](const seen_file& f) { return f.key == key; });
    if (sighting == seen_.end()) {  // the first request: only note the file
      note_seen(key, {});
      return nullptr;
    }
    const auto failed_at = sighting->failed_at;
    if (failed_at != std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() - failed_at < retry_after)
      return nullptr;  // mapping it failed a moment ago: copied for now
    seen_.erase(sighting);
  }
  unique_fd kept(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  auto mapping = kept ? file_mapping::map(fd, size, ec) : nullptr;
  if (!kept) ec.assign(errno, std::system_category());
  if (!mapping) {
    note_seen(key, std::chrono::steady_clock::now());
    return nullptr;
  }
  while (!entries_.empty() && (entries_.size() >= max_entries_ || mapped_bytes_ + size > max_bytes_)) {
    entries_.splice(entries_.begin(), entries_, std::prev(entries_.end()));
    release_front_entry(released);
  }
  entries_.push_front(entry{key, std::move(kept), mapping});
  mapped_bytes_ += size;
  return mapping;
}

void file_mapping_cache::note_seen(const file_key& key, std::chrono::steady_clock::time_point failed_at) {
  seen_.push_front(seen_file{key, failed_at});
  if (seen_.size() > max_seen_) seen_.pop_back();
}

void file_mapping_cache::release_front_entry(std::vector<std::shared_ptr<const file_mapping>>& released) {
  mapped_bytes_ -= entries_.front().mapping->size();
  released.push_back(std::move(entries_.front().mapping));
  entries_.pop_front();
}

std::size_t file_mapping_cache::drop_removed() {
  std::vector<std::shared_ptr<const file_mapping>> released;
  const std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    struct stat now {};
    if (::fstat(it->file.get(), &now) == 0 && now.st_nlink > 0) {
      ++it;
      continue;
    }
    entries_.splice(entries_.begin(), entries_, it++);
    release_front_entry(released);
  }
  return released.size();
}

std::size_t file_mapping_cache::entries() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

std::uint64_t file_mapping_cache::mapped_bytes() const {
  const std::lock_guard lock(mutex_);
  return mapped_bytes_;
}

}  // namespace mpserve
