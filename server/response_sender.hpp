#pragma once
// Writes one response to a non-blocking socket as a list of pieces: bytes held in memory
// (headers, multipart boundaries, listings) and ranges of an open file. File ranges leave by
// sendfile(2) without passing through user space, by send straight from a kept mapping of the
// file (file_mapping_cache.hpp), or by pread+send through a small buffer (MPTCP: the copying
// paths are faster there, see docs/transfer-methods.md). Bytes go out with MSG_MORE while
// more pieces follow, so the header leaves in the same segment as the first body bytes.
// When the socket is full we wait for it to be writable: no thread blocks on a slow client.
//
// Over TLS every byte is encrypted first: file bytes are read 32 KiB at a time, encrypted
// into two records in the session's output, and sent together; a connection's first MiB goes
// one record per send instead (see response_sender.cpp). Where the kernel encrypts (kTLS, plain
// TCP only: docs/tls.md) the socket takes plaintext and the plain path runs, sendfile included.

#include "file_mapping_cache.hpp"

#include "mp/mptcp_protocol.hpp"
#include "mp/tls_session.hpp"

#include <boost/asio/steady_timer.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mpserve {

enum class body_method {
  sendfile,  // zero-copy on TCP
  copy,      // pread into a bounded buffer, then send
  mapped,    // send from a mapping of the whole file (file_mapping_cache.hpp)
};

std::string_view to_string(body_method method) noexcept;

struct response_piece {
  std::string bytes;          // sent first, if any
  std::uint64_t offset = 0;   // then `length` bytes of the file from `offset`
  std::uint64_t length = 0;
};

// Where a response's file ranges come from, and how they leave.
struct file_body {
  int fd = -1;
  body_method method = body_method::sendfile;
  std::shared_ptr<const file_mapping> mapping;  // body_method::mapped: covers every range
};

class response_sender {
public:
  using completion = std::function<void(const boost::system::error_code&)>;

  // `copy_buffer_size` bounds the memory a copying transfer holds per connection;
  // `send_timeout` is how long the client may accept no data before we give up (timed_out).
  explicit response_sender(std::size_t copy_buffer_size = 256 * 1024,
                           std::chrono::milliseconds send_timeout = std::chrono::seconds(60))
      : copy_buffer_size_(copy_buffer_size), send_timeout_(send_timeout) {}

  // Sends every piece; `done` runs once with the first error or none. `owner` (the session)
  // is held by every pending handler, so this object, the socket, `body.fd` and `tls`
  // outlive them. With `tls`, pieces are encrypted by it and `body.method` does not matter,
  // unless the kernel encrypts for it (tls->kernel_sends()). A file that shrank under a
  // mapped transfer ends it with boost::asio::error::fault.
  void start(mp::mptcp::socket& socket, std::vector<response_piece> pieces, file_body body,
             std::shared_ptr<void> owner, completion done, mp::tls_session* tls = nullptr);

  // Ends the transfer now (graceful stop ran out of time): `done` gets operation_aborted.
  void abort();

  // File bytes sent so far in this response (what progress counts).
  std::uint64_t file_bytes_sent() const noexcept { return file_sent_; }
  // Every byte sent so far in this response, headers included (what the access log counts).
  std::uint64_t bytes_sent() const noexcept { return total_sent_; }

private:
  void step();
  bool send_bytes(const std::string& bytes, bool more, boost::system::error_code& ec);
  // The file range of `piece` by body_.method; true when it is all sent, false with `ec`
  // clear for "wait for writable".
  bool send_file_piece(response_piece& piece, bool more, boost::system::error_code& ec);
  bool send_file_range(response_piece& piece, bool more, boost::system::error_code& ec);
  bool copy_file_range_out(response_piece& piece, bool more, boost::system::error_code& ec);
  bool send_mapped_range(response_piece& piece, bool more, boost::system::error_code& ec);
  void next_turn();  // yields the thread to other connections, then goes on
  void tls_step();
  bool encrypt_batch();
  bool send_encrypted(boost::system::error_code& ec);
  bool record_by_record() const noexcept;  // the connection's start: one TLS record per send
  void wait_writable();
  void complete(const boost::system::error_code& ec);

  std::size_t copy_buffer_size_;
  std::chrono::milliseconds send_timeout_;
  std::optional<boost::asio::steady_timer> stall_timer_;
  bool stalled_ = false;
  std::uint64_t wait_generation_ = 0;  // a stall timer from an earlier wait must not act
  // Weak: the session owns this sender, so a strong reference here would be a cycle that
  // outlives an io_context destroyed with the transfer pending. The pending handlers hold
  // strong ones.
  std::weak_ptr<void> owner_;
  mp::mptcp::socket* socket_ = nullptr;
  std::vector<response_piece> pieces_;
  std::size_t current_ = 0;
  std::size_t bytes_done_ = 0;  // of pieces_[current_].bytes
  file_body body_;
  std::unique_ptr<char[]> copy_buffer_;  // allocated on first use, freed at completion
  std::size_t copy_filled_ = 0, copy_sent_ = 0;
  std::uint64_t file_sent_ = 0;
  std::uint64_t total_sent_ = 0;
  std::uint64_t earlier_responses_sent_ = 0;  // by this connection, before this response
  completion done_;

  // TLS: the batch of records being sent, and how much of its plaintext has been credited
  // to the counters above (in proportion to the ciphertext sent, so progress stays smooth).
  mp::tls_session* tls_ = nullptr;
  std::size_t batch_wire_ = 0, batch_wire_sent_ = 0;
  std::uint64_t batch_plain_ = 0, batch_file_ = 0, credited_plain_ = 0, credited_file_ = 0;
};

}  // namespace mpserve
