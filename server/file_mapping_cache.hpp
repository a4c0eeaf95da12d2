#pragma once
// Large files mapped into memory once and sent from there by every later request, so that a
// send copies each byte once (mapping -> socket) instead of twice (pread into a buffer, then
// buffer -> socket), and no page is faulted in again while the mapping lives. Measured on
// MPTCP (docs/transfer-methods.md): a kept mapping beats pread+send by about a tenth in rate
// and sender CPU; a fresh mapping is slower than pread (its pages fault in during the send:
// 0.47 against 0.44 s/GiB), so mappings are kept across requests, not made per response, and
// a file is mapped only when it is asked for a second time. A file requested once is copied as
// before; a popular one pays the faults once and is then sent from memory.
//
// The mapping is never read by our code, only by the kernel's copy inside send(2). If the
// file shrinks under a transfer, the copy of a page past the new end fails with EFAULT
// instead of the SIGBUS a read in user space would raise. (So TLS in user space, where
// OpenSSL reads the bytes, never uses a mapping.)
//
// A mapping follows the file's inode, not its name: MAP_SHARED shows the file's current
// bytes, an in-place rewrite included, and a file renamed over the name gets a new inode and
// so a new mapping. The entry keeps the file open (one descriptor each) so that drop_removed()
// can see a deleted file and let its disk space go. Bounded: at most `max_entries` files and
// `max_bytes` of them mapped; the least recently used entry goes first. A transfer holds its
// mapping, so an entry dropped mid-transfer is unmapped only when the transfer ends (so the
// limits bound what the cache keeps; mappings still held by running transfers come on top).

#include "served_file.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

namespace mpserve {

class file_mapping {
public:
  // Maps `length` bytes of the open regular file `fd` read-only and shared. No page is read.
  static std::shared_ptr<const file_mapping> map(int fd, std::uint64_t length, std::error_code& ec);
  ~file_mapping();
  file_mapping(const file_mapping&) = delete;
  file_mapping& operator=(const file_mapping&) = delete;

  // For the kernel's copy only (see above): reading it here could raise SIGBUS.
  const char* data() const noexcept { return data_; }
  std::uint64_t size() const noexcept { return size_; }

private:
  file_mapping(const char* data, std::uint64_t size) noexcept : data_(data), size_(size) {}
  const char* data_;
  std::uint64_t size_;
};

class file_mapping_cache {
public:
  file_mapping_cache(std::size_t max_entries, std::uint64_t max_bytes, std::size_t max_seen = 256)
      : max_entries_(max_entries), max_bytes_(max_bytes), max_seen_(max_seen) {}

  // A mapping of the whole of the open regular file `fd`, whose fstat is `info`: the kept one
  // if it still covers info.st_size bytes, else a new one (kept in its place). nullptr with
  // `ec` clear when the file is not (yet) worth a mapping: its first request (it is noted as
  // seen), not regular, empty, larger than max_bytes, the cache is off, or mapping it failed
  // within the last minute; with `ec` set when mmap or dup failed now. Thread-safe.
  std::shared_ptr<const file_mapping> acquire(int fd, const struct stat& info, std::error_code& ec);

  // Forgets the mapped files that were deleted (no name links to them any more), so that the
  // space they hold on disk is freed once no transfer uses them. Returns how many went.
  std::size_t drop_removed();

  std::size_t entries() const;  // files mapped
  std::uint64_t mapped_bytes() const;

private:
  struct file_key {
    dev_t device;
    ino_t inode;
    bool operator==(const file_key&) const = default;
  };
  struct entry {
    file_key key;
    unique_fd file;  // kept open so drop_removed() can ask for the link count
    std::shared_ptr<const file_mapping> mapping;
  };
  // Seen files are kept apart, so that many files requested once (a crawler) push out only each
  // other, never a mapping.
  struct seen_file {
    file_key key;
    // Mapping it failed then: not tried again for retry_after (the cause, EMFILE or ENOMEM
    // say, may pass); time_point{} if it did not fail.
    std::chrono::steady_clock::time_point failed_at;
  };
  // With mutex_ held: remembers `key` as seen, as the most recent (the oldest goes beyond max_seen_).
  void note_seen(const file_key& key, std::chrono::steady_clock::time_point failed_at);
  // With mutex_ held: drops entries_.front(), handing its mapping to `released` (unmapped by
  // the caller once the lock is let go).
  void release_front_entry(std::vector<std::shared_ptr<const file_mapping>>& released);

  const std::size_t max_entries_;
  const std::uint64_t max_bytes_;
  const std::size_t max_seen_;
  static constexpr std::chrono::seconds retry_after{60};
  mutable std::mutex mutex_;
  std::list<entry> entries_;   // most recently used first
  std::list<seen_file> seen_;  // most recently noted first
  std::uint64_t mapped_bytes_ = 0;
};

}  // namespace mpserve
