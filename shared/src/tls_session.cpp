#include "mp/tls_session.hpp"
#include "mp/tls_io.hpp"
#include "mp/kernel_tls.hpp"

#include <openssl/crypto.h>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <cstring>
#include <new>

namespace mp {

// The BIO under the SSL object: reads come from the session's input buffer (none left: the
// socket when receiving directly, else "retry", which SSL_read reports as WANT_READ), writes
// append to its output buffer and never block. One BIO serves both directions.
struct tls_buffer_bio {
  static tls_session* session_of(BIO* bio) { return static_cast<tls_session*>(BIO_get_data(bio)); }

  static int write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    if (size <= 0) return 0;
    auto* session = session_of(bio);
    if (session->kernel_sends_) {
      // OpenSSL's records would carry its own, now stale, record numbers (a key update
      // answered, an alert): the client could not decrypt them. The session fails instead.
      session->written_after_kernel_took_over_ = true;
      return -1;
    }
    if (session->kernel_send_fd_ >= 0) session->count_records(data, static_cast<std::size_t>(size));
    session->output_.append(data, static_cast<std::size_t>(size));
    return size;
  }

  static int read(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    auto* session = session_of(bio);
    const std::size_t available = session->input_end_ - session->input_begin_;
    if (available == 0) {
      if (session->fd_ >= 0) return receive(bio, session, data, size);
      BIO_set_retry_read(bio);
      return -1;
    }
    const std::size_t n = std::min(available, static_cast<std::size_t>(std::max(size, 0)));
    std::memcpy(data, session->input_.data() + session->input_begin_, n);
    session->input_begin_ += n;
    if (session->input_begin_ == session->input_end_) session->input_begin_ = session->input_end_ = 0;
    return static_cast<int>(n);
  }

  // Direct mode: straight from the socket into OpenSSL's buffer.
  static int receive(BIO* bio, tls_session* session, char* data, int size) {
    for (;;) {
      const ssize_t n = ::recv(session->fd_, data, static_cast<std::size_t>(std::max(size, 0)), MSG_DONTWAIT);
      if (n > 0) return static_cast<int>(n);
      if (n == 0) {
        session->socket_closed_ = true;
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_read(bio);
        return -1;
      }
      session->socket_errno_ = errno;
      return -1;
    }
  }

  static long control(BIO* bio, int command, long, void*) {
    switch (command) {
      case BIO_CTRL_FLUSH: return 1;  // written means handed over: nothing is held here
      case BIO_CTRL_PENDING: {
        auto* session = session_of(bio);
        return static_cast<long>(session->input_end_ - session->input_begin_);
      }
      case BIO_CTRL_WPENDING: return 0;
      default: return 0;  // no kTLS: OpenSSL must not take this for a socket BIO
    }
  }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static BIO_METHOD* method() {
    // Made once and kept for the life of the process; C++ makes the first call thread-safe.
    static BIO_METHOD* const made = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mp tls buffers");
      if (!m) return m;
      BIO_meth_set_write(m, write);
      BIO_meth_set_read(m, read);
      BIO_meth_set_ctrl(m, control);
      BIO_meth_set_create(m, create);
      return m;
    }();
    return made;
  }
};

tls_session::tls_session(SSL_CTX* context, role side) {
  BIO_METHOD* method = tls_buffer_bio::method();
  ssl_ = method ? SSL_new(context) : nullptr;
  if (!ssl_) throw std::bad_alloc();
  BIO* bio = BIO_new(method);
  if (!bio) {
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // the same BIO both ways: one reference, owned by ssl_
  SSL_set_app_data(ssl_, this);  // for the key log hook
  if (side == role::server)
    SSL_set_accept_state(ssl_);
  else
    SSL_set_connect_state(ssl_);
}

tls_session::~tls_session() {
  SSL_free(ssl_);
  OPENSSL_cleanse(traffic_secret_.data(), traffic_secret_.size());
}

std::span<char> tls_session::input_space(std::size_t at_least) {
  if (input_begin_ > 0 && input_.size() - input_end_ < at_least) {
    // Move the unread rest to the front before growing.
    std::memmove(input_.data(), input_.data() + input_begin_, input_end_ - input_begin_);
    input_end_ -= input_begin_;
    input_begin_ = 0;
  }
  if (input_.size() - input_end_ < at_least) input_.resize(input_end_ + at_least);
  return {input_.data() + input_end_, input_.size() - input_end_};
}

void tls_session::receive_directly_from(int fd) {
  fd_ = fd;
  // Let OpenSSL ask for as much as its record buffer holds, not one record header and body
  // at a time. The handshake has already sized that buffer to one record; a larger one
  // (SSL_set_default_read_buffer_len, then SSL_free_buffers) measured no gain.
  SSL_set_read_ahead(ssl_, 1);
}

void tls_session::consume_output(std::size_t n) noexcept {
  output_sent_ += n;
  if (output_sent_ >= output_.size()) {
    output_.clear();
    output_sent_ = 0;
  }
}

tls_status tls_session::fail(int ssl_error) {
  last_error_ = take_openssl_errors();
  if (written_after_kernel_took_over_)
    last_error_ = "OpenSSL had a record to send (a key update, an alert) after the kernel took over sending";
  if (last_error_.empty())
    last_error_ = ssl_error == SSL_ERROR_SYSCALL ? "unexpected end of the TLS stream"
                                                 : "TLS error " + std::to_string(ssl_error);
  return tls_status::failed;
}

tls_status tls_session::handshake() {
  ERR_clear_error();  // the queue is per thread: an old entry must not name this failure
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) return tls_status::ok;
  const int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ) return tls_status::want_input;
  return fail(error);
}

bool tls_session::handshake_done() const noexcept { return SSL_is_init_finished(ssl_) == 1; }

std::size_t tls_session::read(void* data, std::size_t size, tls_status& status) {
  ERR_clear_error();
  std::size_t got = 0;
  const bool succeeded = SSL_read_ex(ssl_, data, size, &got) == 1;
  if (kernel_sends_ && SSL_get_key_update_type(ssl_) != SSL_KEY_UPDATE_NONE) {
    // The client updated its keys and asked for ours to follow before our next record; the
    // kernel cannot change them (and OpenSSL's answer would carry stale record numbers).
    last_error_ = "the client asked for a key update, which the kernel cannot make";
    status = tls_status::failed;
    return 0;
  }
  if (succeeded) {
    status = tls_status::ok;
    return got;
  }
  const int error = SSL_get_error(ssl_, 0);
  if (error == SSL_ERROR_WANT_READ)
    status = tls_status::want_input;
  else if (error == SSL_ERROR_ZERO_RETURN)
    status = tls_status::closed;
  else
    status = fail(error);
  return 0;
}

bool tls_session::write(const void* data, std::size_t size) {
  if (kernel_sends_) {  // the socket takes plaintext now: callers send it themselves
    last_error_ = "write() after the kernel took over sending";
    return false;
  }
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ERR_clear_error();
    std::size_t written = 0;
    if (SSL_write_ex(ssl_, bytes, size, &written) != 1) {
      fail(SSL_get_error(ssl_, 0));
      return false;
    }
    bytes += written;
    size -= written;
  }
  return true;
}

void tls_session::close() {
  if (kernel_sends_) {
    // close_notify: a warning-level alert record, which the kernel encrypts with its numbers.
    static constexpr unsigned char close_notify[2] = {1, 0};
    kernel_tls::send_record(kernel_send_fd_, 21, close_notify, sizeof close_notify);
    SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_SENT_SHUTDOWN);
    return;
  }
  ERR_clear_error();
  if (handshake_done()) SSL_shutdown(ssl_);
  ERR_clear_error();
}

void tls_session::release_buffers() {
  if (output_.empty()) std::string().swap(output_);  // (consume_output empties it when all is sent)
  if (input_begin_ == input_end_) {
    std::vector<char>().swap(input_);
    input_begin_ = input_end_ = 0;
  }
}

bool looks_like_plain_http(std::string_view first_bytes) noexcept {
  // Every method token is upper-case letters (GET, HEAD, POST, OPTIONS, PRI for HTTP/2's
  // preface); a TLS record starts with 0x16 and SSLv2-style hellos with a byte >= 0x80.
  return !first_bytes.empty() && first_bytes.front() >= 'A' && first_bytes.front() <= 'Z';
}

std::string take_openssl_errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char line[256];
    const char* reason = ERR_reason_error_string(code);
    if (!reason) {
      ERR_error_string_n(code, line, sizeof line);
      reason = line;
    }
    if (!text.empty()) text += "; ";
    text += reason;
  }
  return text;
}

namespace {
class tls_error_category : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int value) const override {
    switch (static_cast<tls_error>(value)) {
      case tls_error::handshake_failed: return "TLS handshake failed";
      case tls_error::plain_http: return "plain HTTP sent to the HTTPS port";
      case tls_error::protocol: return "TLS protocol error";
      case tls_error::truncated: return "the TLS stream ended without close_notify (possibly cut short)";
    }
    return "unknown TLS error";
  }
};
}  // namespace

const boost::system::error_category& tls_category() noexcept {
  static const tls_error_category category;
  return category;
}

}  // namespace mp
