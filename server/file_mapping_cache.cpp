#include "file_mapping_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

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
  const std::lock_guard lock(mutex_);
  auto it = entries_.begin();
  while (it != entries_.end() && (it->device != info.st_dev || it->inode != info.st_ino)) ++it;
  if (it == entries_.end()) {  // the first request: only note the file
    evict_for(0);
    entries_.push_front(entry{info.st_dev, info.st_ino, unique_fd(), nullptr});
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, it);  // now the most recently used
  entry& found = entries_.front();
  if (found.mapping && found.mapping->size() >= size) return found.mapping;
  // Seen before, or mapped while it was shorter: map it (again), whole.
  unique_fd kept(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!kept) {
    ec.assign(errno, std::system_category());
    return nullptr;
  }
  auto mapping = file_mapping::map(fd, size, ec);
  if (!mapping) return nullptr;
  if (found.mapping) mapped_bytes_ -= found.mapping->size();
  found.mapping = nullptr;
  found.file = unique_fd();
  // Room for it without evicting the entry itself (the front, and no longer counted in bytes).
  while (entries_.size() > 1 && mapped_bytes_ + size > max_bytes_) drop_least_recent();
  found.file = std::move(kept);
  found.mapping = mapping;
  mapped_bytes_ += size;
  return mapping;
}

void file_mapping_cache::evict_for(std::uint64_t bytes) {
  while (!entries_.empty() && (entries_.size() >= max_entries_ || mapped_bytes_ + bytes > max_bytes_))
    drop_least_recent();
}

void file_mapping_cache::drop_least_recent() {
  if (entries_.back().mapping) mapped_bytes_ -= entries_.back().mapping->size();
  entries_.pop_back();
}

std::size_t file_mapping_cache::drop_removed() {
  const std::lock_guard lock(mutex_);
  std::size_t dropped = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    struct stat now {};
    // A file only seen holds nothing: its entry stays (an inode number reused by a new file
    // at worst maps that one a request early).
    if (!it->mapping || (::fstat(it->file.get(), &now) == 0 && now.st_nlink > 0)) {
      ++it;
      continue;
    }
    mapped_bytes_ -= it->mapping->size();
    it = entries_.erase(it);
    ++dropped;
  }
  return dropped;
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
