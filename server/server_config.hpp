#pragma once
// Every limit and default of mpserve in one place; each is an option in main.cpp.

#include "response_sender.hpp"

#include "mp/mptcp_mode.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace mpserve {

struct server_config {
  std::string directory = ".";
  std::string bind_address;  // empty: every address, IPv6 and IPv4
  std::uint16_t port = 8000;
  mp::mptcp_mode mptcp = mp::mptcp_mode::automatic;
  unsigned threads = 0;  // 0: one per core
  std::chrono::milliseconds progress_interval{1000};  // zero: no periodic progress lines
  std::string access_log;  // empty: the console log; "-": standard output; else a file
  bool follow_symlinks = false;  // serve symlinks that lead outside the directory
  std::string tls_certificate, tls_key;  // PEM files; both set: HTTPS

  // How file bodies leave; nullopt: by connection type, as measured (docs/transfer-methods.md).
  std::optional<body_method> forced_body_method;
  // Measured (docs/transfer-methods.md): 1 MiB is the fastest copy buffer on MPTCP. It is held
  // only while a copying transfer runs; all of them together stay within copy_memory_limit,
  // and transfers beyond it use sendfile, which needs no buffer.
  std::size_t copy_buffer_size = 1 << 20;
  std::size_t copy_memory_limit = std::size_t{256} << 20;
  // Files of at least mapped_file_min_size sent by body_method::mapped stay mapped across
  // requests (file_mapping_cache.hpp): at most mapped_file_entries of them and this many
  // bytes in all (their page tables, up to 2 MiB per GiB, are the memory it costs; the pages
  // are the page cache's); 0: no mappings. A mapping of a deleted file is dropped within
  // mapped_file_check (it holds the file's disk space).
  std::uint64_t mapped_file_limit = std::uint64_t{16} << 30;
  static constexpr std::size_t mapped_file_entries = 64;
  static constexpr std::uint64_t mapped_file_min_size = 1 << 20;
  static constexpr std::chrono::seconds mapped_file_check{5};

  // Limits, nginx-like defaults.
  std::size_t header_limit = 16 * 1024;           // 431 beyond (request line alone: 414)
  std::size_t target_limit = 8 * 1024;            // 414 beyond
  std::uint64_t request_body_limit = 1 << 20;     // 413 beyond; GET/HEAD bodies are discarded
  std::chrono::seconds header_timeout{30};        // for the first request's header
  std::chrono::seconds keepalive_timeout{75};     // idle time allowed between requests
  std::chrono::seconds send_timeout{60};          // a client that accepts no data this long is dropped
  std::size_t max_connections = 4096;             // beyond: stop accepting until one closes
  std::chrono::milliseconds grace_period{10'000}; // SIGINT/SIGTERM: running transfers may finish
  std::size_t listing_limit = 50'000;           // entries shown in one directory listing
  // Small files kept in memory per worker thread, checked against the disk on every request
  // (small_file_cache.hpp); 0: none. Up to 16 KiB each: N x 16 KiB per thread at most.
  std::size_t small_file_cache_entries = 256;
  static constexpr std::size_t small_file_size_limit = 16 * 1024;
  int backlog = 1024;
};

}  // namespace mpserve
