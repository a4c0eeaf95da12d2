#include "response_sender.hpp"

#include "mp/tls_io.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mpserve {

namespace {
// One call may fill any socket buffer; sendfile returns early when the buffer is full.
constexpr std::uint64_t max_sendfile_chunk = 16u << 20;
constexpr std::uint64_t mapped_send_size = 1u << 20;

// On a fast path a socket rarely fills, and one transfer would keep the thread to itself:
// after this many bytes in one go, the rest waits its turn behind the other connections
// (nginx's sendfile_max_chunk serves the same purpose).
constexpr std::uint64_t bytes_per_turn = 4u << 20;

// TLS sends. Two records per send (32 KiB): measured with bench/compare_tls.sh's setup
// (docs/tls.md), that beat 16 KiB to 1 MiB both on TCP (0.58 against 0.69 s/GiB for 1 MiB)
// and on MPTCP, where larger batches made every download stall on MPTCP-level
// retransmissions (1.24-1.30 s/GiB) and 32 KiB did so in under half of them.
constexpr std::size_t tls_batch_size = 32 * 1024;
// A connection's first MiB goes out one record per send and without MSG_MORE, as nginx
// sends: batched, TCP joined the records into 64 KiB segments that filled the client's first,
// small MPTCP receive window at once, and the client's kernel then often announced the
// reopened window only with the MPTCP retransmission timer (~250 ms; curl stalled in 10 of 20
// downloads of 64 MiB, 0 of 20 this way; docs/benchmarks.md). By the end of it the client's
// buffer has grown.
constexpr std::size_t tls_record_size = 16 * 1024;
constexpr std::uint64_t tls_record_by_record_bytes = 1u << 20;

boost::system::error_code errno_code() { return {errno, boost::system::system_category()}; }

// "Would block": wait for the socket, then continue where we stopped.
bool would_block() { return errno == EAGAIN || errno == EWOULDBLOCK; }
}  // namespace

std::string_view to_string(body_method method) noexcept {
  switch (method) {
    case body_method::sendfile: return "sendfile";
    case body_method::copy: return "copy";
    case body_method::mapped: return "mmap";
  }
  return "?";
}

void response_sender::start(mp::mptcp::socket& socket, std::vector<response_piece> pieces, file_body body,
                            std::shared_ptr<void> owner, completion done, mp::tls_session* tls) {
  owner_ = std::move(owner);
  socket_ = &socket;
  pieces_ = std::move(pieces);
  current_ = 0;
  bytes_done_ = 0;
  body_ = std::move(body);
  copy_filled_ = copy_sent_ = 0;
  file_sent_ = 0;
  earlier_responses_sent_ += total_sent_;
  total_sent_ = 0;
  done_ = std::move(done);
  tls_ = tls;
  batch_wire_ = batch_wire_sent_ = 0;
  batch_plain_ = batch_file_ = credited_plain_ = credited_file_ = 0;
  stalled_ = false;
  if (!stall_timer_) stall_timer_.emplace(socket.get_executor());
  boost::system::error_code ec;
  if (!socket.non_blocking()) socket.non_blocking(true, ec);  // once per connection, not per response
  if (ec) return complete(ec);
  step();
}

// Returns true when the bytes are all sent; false with `ec` clear means "wait for writable".
bool response_sender::send_bytes(const std::string& bytes, bool more, boost::system::error_code& ec) {
  while (bytes_done_ < bytes.size()) {
    const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
    const ssize_t n = ::send(socket_->native_handle(), bytes.data() + bytes_done_,
                             bytes.size() - bytes_done_, flags);
    if (n >= 0) {
      bytes_done_ += static_cast<std::size_t>(n);
      total_sent_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (!would_block()) ec = errno_code();
    return false;
  }
  return true;
}

bool response_sender::send_file_range(response_piece& piece, bool more, boost::system::error_code& ec) {
  (void)more;  // sendfile sets MSG_MORE itself between its internal chunks
  while (piece.length > 0) {
    off_t offset = static_cast<off_t>(piece.offset);
    const ssize_t n = ::sendfile(socket_->native_handle(), body_.fd, &offset,
                                 static_cast<std::size_t>(std::min(piece.length, max_sendfile_chunk)));
    if (n > 0) {
      piece.offset += static_cast<std::uint64_t>(n);
      piece.length -= static_cast<std::uint64_t>(n);
      file_sent_ += static_cast<std::uint64_t>(n);
      total_sent_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0) {  // the file shrank under us: end the response short rather than pad it
      ec = boost::asio::error::eof;
      return false;
    }
    if (errno == EINTR) continue;
    if (!would_block()) ec = errno_code();
    return false;
  }
  return true;
}

bool response_sender::copy_file_range_out(response_piece& piece, bool more, boost::system::error_code& ec) {
  // Not make_unique: that would zero the buffer on every transfer.
  if (!copy_buffer_) copy_buffer_.reset(new char[copy_buffer_size_]);
  while (piece.length > 0 || copy_sent_ < copy_filled_) {
    if (copy_sent_ == copy_filled_) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(piece.length, copy_buffer_size_));
      const ssize_t got = ::pread(body_.fd, copy_buffer_.get(), want, static_cast<off_t>(piece.offset));
      if (got < 0) {
        if (errno == EINTR) continue;
        ec = errno_code();
        return false;
      }
      if (got == 0) {
        ec = boost::asio::error::eof;
        return false;
      }
      piece.offset += static_cast<std::uint64_t>(got);
      piece.length -= static_cast<std::uint64_t>(got);
      copy_filled_ = static_cast<std::size_t>(got);
      copy_sent_ = 0;
    }
    const bool more_after = more || piece.length > 0;
    const ssize_t n = ::send(socket_->native_handle(), copy_buffer_.get() + copy_sent_,
                             copy_filled_ - copy_sent_, MSG_NOSIGNAL | (more_after ? MSG_MORE : 0));
    if (n >= 0) {
      copy_sent_ += static_cast<std::size_t>(n);
      file_sent_ += static_cast<std::uint64_t>(n);
      total_sent_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (!would_block()) ec = errno_code();
    return false;
  }
  copy_filled_ = copy_sent_ = 0;
  return true;
}

bool response_sender::send_mapped_range(response_piece& piece, bool more, boost::system::error_code& ec) {
  // A mapping reads as zeros past the file's end up to the end of its last page, and faults
  // (EFAULT) only beyond it: so each send is cut to the file's size as it is now, and a file
  // that shrank below the range ends the transfer (`fault`), never padded. The last check
  // comes after the last send. What stays: a truncation within the microseconds between a
  // check and the kernel's copy; the check after the send then resets the connection.
  for (;;) {
    struct stat now {};
    const std::uint64_t file_size = ::fstat(body_.fd, &now) == 0 ? static_cast<std::uint64_t>(now.st_size) : 0;
    // Before a send, some of the range must still be in the file; after the last, all it sent.
    const bool shrank = piece.length > 0 ? file_size <= piece.offset : file_size < piece.offset;
    if (shrank) {
      ec = boost::asio::error::fault;
      return false;
    }
    if (piece.length == 0) return true;
    // 1 MiB per send, as the copy's buffer: larger sends measured slower (mmap:4M).
    const std::size_t want = static_cast<std::size_t>(
        std::min({piece.length, mapped_send_size, file_size - piece.offset}));
    const bool more_after = more || piece.length > want;
    const ssize_t n = ::send(socket_->native_handle(), body_.mapping->data() + piece.offset, want,
                             MSG_NOSIGNAL | (more_after ? MSG_MORE : 0));
    if (n >= 0) {
      piece.offset += static_cast<std::uint64_t>(n);
      piece.length -= static_cast<std::uint64_t>(n);
      file_sent_ += static_cast<std::uint64_t>(n);
      total_sent_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    // EFAULT: the kernel's copy met a page it could not read, past a new end of the file or
    // one the disk would not give (EIO shows so too).
    if (errno == EFAULT) ec = boost::asio::error::fault;
    else if (!would_block()) ec = errno_code();
    return false;
  }
}

bool response_sender::send_file_piece(response_piece& piece, bool more, boost::system::error_code& ec) {
  switch (body_.method) {
    case body_method::sendfile: return send_file_range(piece, more, ec);
    case body_method::mapped: return send_mapped_range(piece, more, ec);
    case body_method::copy: break;
  }
  return copy_file_range_out(piece, more, ec);
}

void response_sender::step() {
  // Encrypted by the kernel (kTLS), the socket takes plaintext: the plain path below, whose
  // sendfile then leaves the file bytes to the kernel to encrypt.
  if (tls_ && !tls_->kernel_sends()) return tls_step();
  boost::system::error_code ec;
  const std::uint64_t sent_before = total_sent_;
  while (current_ < pieces_.size()) {
    if (total_sent_ - sent_before >= bytes_per_turn) return next_turn();
    auto& piece = pieces_[current_];
    const bool last = current_ + 1 == pieces_.size();
    const bool more_bytes_follow = piece.length > 0 || !last;
    if (!send_bytes(piece.bytes, more_bytes_follow, ec)) return ec ? complete(ec) : wait_writable();
    // A copy may have file bytes still buffered after the file range itself is all read.
    if (piece.length > 0 || copy_sent_ < copy_filled_) {
      if (!send_file_piece(piece, !last, ec)) return ec ? complete(ec) : wait_writable();
    }
    ++current_;
    bytes_done_ = 0;
  }
  complete({});
}

void response_sender::next_turn() {
  boost::asio::post(socket_->get_executor(), [this, owner = owner_.lock()] {
    if (done_) step();
  });
}

void response_sender::tls_step() {
  boost::system::error_code ec;
  const std::uint64_t sent_before = total_sent_;
  for (;;) {
    if (!tls_->output().empty()) {
      if (!send_encrypted(ec)) return ec ? complete(ec) : wait_writable();
      continue;
    }
    if (current_ >= pieces_.size()) return complete({});
    if (total_sent_ - sent_before >= bytes_per_turn) return next_turn();
    if (!encrypt_batch()) return complete(mp::make_error_code(mp::tls_error::protocol));
    if (current_ < pieces_.size() && pieces_[current_].length > 0 && tls_->output().empty())
      return complete(boost::asio::error::eof);  // the file ended early: nothing was read
  }
}

// Encrypts pieces until the batch is full; false when encryption fails. A file that ends
// early leaves its piece unfinished with nothing encrypted (the caller reports it).
bool response_sender::encrypt_batch() {
  // The plaintext is read in pieces of the batch's size, so both buffers stay in the CPU's cache.
  const std::size_t batch = record_by_record() ? tls_record_size : tls_batch_size;
  const std::size_t chunk = std::min(batch, copy_buffer_size_);
  batch_plain_ = batch_file_ = credited_plain_ = credited_file_ = 0;
  while (current_ < pieces_.size() && tls_->output().size() < batch) {
    auto& piece = pieces_[current_];
    if (bytes_done_ < piece.bytes.size()) {
      const std::size_t n = piece.bytes.size() - bytes_done_;
      if (!tls_->write(piece.bytes.data() + bytes_done_, n)) return false;
      bytes_done_ += n;
      batch_plain_ += n;
    }
    if (piece.length > 0) {
      if (!copy_buffer_) copy_buffer_.reset(new char[std::min(tls_batch_size, copy_buffer_size_)]);
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(piece.length, chunk));
      const ssize_t got = ::pread(body_.fd, copy_buffer_.get(), want, static_cast<off_t>(piece.offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;  // read error or a file that shrank: the response ends short
      if (!tls_->write(copy_buffer_.get(), static_cast<std::size_t>(got))) return false;
      piece.offset += static_cast<std::uint64_t>(got);
      piece.length -= static_cast<std::uint64_t>(got);
      batch_plain_ += static_cast<std::uint64_t>(got);
      batch_file_ += static_cast<std::uint64_t>(got);
      continue;
    }
    ++current_;
    bytes_done_ = 0;
  }
  batch_wire_ = tls_->output().size();
  batch_wire_sent_ = 0;
  return true;
}

// Returns true when the batch is all sent; false with `ec` clear means "wait for writable".
bool response_sender::send_encrypted(boost::system::error_code& ec) {
  // More batches follow: let the kernel fill segments across the boundary.
  const bool more = current_ < pieces_.size() && !record_by_record();
  while (!tls_->output().empty()) {
    const auto pending = tls_->output();
    const ssize_t n = ::send(socket_->native_handle(), pending.data(), pending.size(),
                             MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!would_block()) ec = errno_code();
      return false;
    }
    tls_->consume_output(static_cast<std::size_t>(n));
    batch_wire_sent_ += static_cast<std::size_t>(n);
    if (batch_wire_ > 0) {
      const std::uint64_t plain = batch_plain_ * batch_wire_sent_ / batch_wire_;
      const std::uint64_t file = batch_file_ * batch_wire_sent_ / batch_wire_;
      total_sent_ += plain - credited_plain_;
      file_sent_ += file - credited_file_;
      credited_plain_ = plain;
      credited_file_ = file;
    }
  }
  return true;
}

bool response_sender::record_by_record() const noexcept {
  return earlier_responses_sent_ + total_sent_ < tls_record_by_record_bytes;
}

void response_sender::wait_writable() {
  // A client that stops reading must not hold the connection forever (nginx's send_timeout).
  const std::uint64_t generation = ++wait_generation_;
  stall_timer_->expires_after(send_timeout_);
  stall_timer_->async_wait([this, owner = owner_.lock(), generation](const boost::system::error_code& ec) {
    // Cancelled, or fired in the same turn as the wait completed: not a stall of this wait.
    if (ec || generation != wait_generation_ || !done_) return;
    stalled_ = true;
    boost::system::error_code ignored;
    socket_->cancel(ignored);
  });
  socket_->async_wait(mp::mptcp::socket::wait_write,
                      [this, owner = owner_.lock()](const boost::system::error_code& ec) {
                        ++wait_generation_;
                        stall_timer_->cancel();
                        if (!done_) return;  // aborted meanwhile
                        if (stalled_) return complete(boost::asio::error::timed_out);
                        if (ec) return complete(ec);
                        step();
                      });
}

void response_sender::abort() {
  if (!done_) return;
  ++wait_generation_;
  if (stall_timer_) stall_timer_->cancel();
  boost::system::error_code ignored;
  socket_->cancel(ignored);
  complete(boost::asio::error::operation_aborted);
}

void response_sender::complete(const boost::system::error_code& ec) {
  copy_buffer_.reset();  // an idle keep-alive connection holds no transfer buffer
  body_.mapping.reset();  // nor a mapping: the cache decides how long that lives
  if (tls_) tls_->release_buffers();
  pieces_.clear();
  auto done = std::move(done_);
  done_ = nullptr;
  // Held until `done` returns, which may drop the last other owner.
  auto owner = owner_.lock();
  owner_.reset();
  if (done) done(ec);
}

}  // namespace mpserve
