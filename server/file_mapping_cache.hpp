#pragma once
// Large files mapped into memory once and sent from there by every later request, so that a
// send copies each byte once (mapping -> socket) instead of twice (pread into a buffer, then
// buffer -> socket), and no page is faulted in again while the mapping lives. Measured on
// MPTCP (docs/transfer-methods.md): a kept mapping beats pread+send by about a tenth in rate
// and sender CPU; a fresh mapping is slower than pread (its pages fault in during the send:
// 0.47 against 0.44 s/GiB), so mappings are kept across requests, not made per response, and
// a file is mapped only when it is asked for a second time. A file fetched once is copied as
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
// mapping, so an entry dropped mid-transfer is unmapped only when the transfer ends.

#include "served_file.hpp"

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <system_error>

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
  file_mapping_cache(std::size_t max_entries, std::uint64_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // A mapping of the whole of the open regular file `fd`, whose fstat is `info`: the kept one
  // if it still covers info.st_size bytes, else a new one (kept in its place). nullptr with
  // `ec` clear when the file is not (yet) worth a mapping: its first request (it is noted as
  // seen, and takes an entry), not regular, empty, larger than max_bytes, or the cache is off;
  // with `ec` set when mmap or dup failed. Thread-safe.
  std::shared_ptr<const file_mapping> acquire(int fd, const struct stat& info, std::error_code& ec);

  // Forgets the entries whose file was deleted (no name links to it any more), so that the
  // space it held on disk is freed once no transfer uses it. Returns how many went.
  std::size_t drop_removed();

  std::size_t entries() const;  // files seen or mapped
  std::uint64_t mapped_bytes() const;

private:
  struct entry {
    dev_t device;
    ino_t inode;
    unique_fd file;  // kept open so drop_removed() can ask for the link count
    std::shared_ptr<const file_mapping> mapping;  // nullptr: seen once, not mapped
  };
  // With mutex_ held: make room for a new entry of `bytes` mapped; drop the last entry.
  void evict_for(std::uint64_t bytes);
  void drop_least_recent();

  const std::size_t max_entries_;
  const std::uint64_t max_bytes_;
  mutable std::mutex mutex_;
  std::list<entry> entries_;  // most recently used first
  std::uint64_t mapped_bytes_ = 0;
};

}  // namespace mpserve
