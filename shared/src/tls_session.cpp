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

void tls_session::allow_kernel_send(SSL_CTX* context) { SSL_CTX_set_keylog_callback(context, key_log); }

void tls_session::offer_kernel_send(int fd) {
  kernel_send_fd_ = fd;
  kernel_send_refusal_ = "the handshake did not end";
}

void tls_session::key_log(const SSL* ssl, const char* line) {
  // "SERVER_TRAFFIC_SECRET_0 <client random, 64 hex digits> <secret in hex>", logged as
  // OpenSSL switches its sending to that secret: the records written before it are not
  // counted in the kernel's record number.
  auto* session = static_cast<tls_session*>(SSL_get_app_data(ssl));
  constexpr std::string_view label = "SERVER_TRAFFIC_SECRET_0 ";
  const std::string_view text(line);
  if (!session || session->kernel_send_fd_ < 0 || !text.starts_with(label)) return;
  const auto space = text.find(' ', label.size());
  if (space == std::string_view::npos) return;
  const std::string_view hex = text.substr(space + 1);
  std::vector<unsigned char> secret;
  secret.reserve(hex.size() / 2);  // no reallocation leaves a copy behind
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    const int high = OPENSSL_hexchar2int(static_cast<unsigned char>(hex[i]));
    const int low = OPENSSL_hexchar2int(static_cast<unsigned char>(hex[i + 1]));
    if (high < 0 || low < 0) return;
    secret.push_back(static_cast<unsigned char>(high * 16 + low));
  }
  OPENSSL_cleanse(session->traffic_secret_.data(), session->traffic_secret_.size());
  session->traffic_secret_ = std::move(secret);
  session->records_before_traffic_secret_ = session->records_written_;
}

void tls_session::count_records(const char* data, std::size_t size) noexcept {
  // Every record starts with a 5-byte header whose last two bytes are its length.
  while (size > 0) {
    if (record_body_left_ > 0) {
      // TLS 1.2 AES-GCM: the first 8 bytes of a record after our ChangeCipherSpec are its
      // explicit nonce; the kernel's nonces must continue after the last one OpenSSL used.
      while (capturing_explicit_nonce_ && explicit_nonce_have_ < 8 && size > 0 && record_body_left_ > 0) {
        last_explicit_nonce_ = last_explicit_nonce_ << 8 | static_cast<unsigned char>(*data++);
        ++explicit_nonce_have_;
        --size;
        --record_body_left_;
      }
      const std::size_t n = std::min(size, record_body_left_);
      record_body_left_ -= n;
      data += n;
      size -= n;
      continue;
    }
    record_header_[record_header_have_++] = static_cast<unsigned char>(*data++);
    --size;
    if (record_header_have_ == sizeof record_header_) {
      ++records_written_;
      if (record_header_[0] == 20) {  // ChangeCipherSpec: in TLS 1.2, encrypted records follow
        change_cipher_spec_written_ = true;
        records_to_change_cipher_spec_ = records_written_;
      }
      capturing_explicit_nonce_ = change_cipher_spec_written_ && record_header_[0] != 20;
      if (capturing_explicit_nonce_) explicit_nonce_have_ = 0, last_explicit_nonce_ = 0;
      record_body_left_ = std::size_t{record_header_[3]} << 8 | record_header_[4];
      record_header_have_ = 0;
    }
  }
}

bool tls_session::sending_keys_for_kernel(kernel_tls::sending_keys& keys) {
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  const kernel_tls::suite suite{cipher ? SSL_CIPHER_get_cipher_nid(cipher) : 0,
                                cipher ? SSL_CIPHER_get_handshake_digest(cipher) : nullptr};
  const int version = SSL_version(ssl_);
  if (kernel_send_fd_ < 0) {
    kernel_send_refusal_ = "not offered";
  } else if (!output().empty() || record_header_have_ > 0 || record_body_left_ > 0) {
    kernel_send_refusal_ = "handshake bytes were still unsent";
  } else if (SSL_SESSION_get_max_fragment_length(SSL_get_session(ssl_)) != TLSEXT_max_fragment_length_DISABLED) {
    // The kernel always fills records up to 16 KiB: the client could not take them.
    kernel_send_refusal_ = "the client asked for records under 16 KiB (max_fragment_length)";
  } else if (version == TLS1_3_VERSION) {
    if (!traffic_secret_.empty())
      return kernel_tls::make_tls13_sending_keys(suite, traffic_secret_, records_written_ - records_before_traffic_secret_,
                                                 keys, kernel_send_refusal_);
    kernel_send_refusal_ = "no traffic secret was logged";
  } else if (version == TLS1_2_VERSION && change_cipher_spec_written_ && explicit_nonce_have_ > 0 &&
             explicit_nonce_have_ < 8) {
    kernel_send_refusal_ = "a record after ChangeCipherSpec was too short for an explicit nonce";
  } else if (version == TLS1_2_VERSION && change_cipher_spec_written_) {
    kernel_send_refusal_ = "no TLS 1.2 secrets";  // unless the derivation says otherwise
    unsigned char master[SSL_MAX_MASTER_KEY_LENGTH], client_random[SSL3_RANDOM_SIZE], server_random[SSL3_RANDOM_SIZE];
    const std::size_t master_size = SSL_SESSION_get_master_key(SSL_get_session(ssl_), master, sizeof master);
    const bool made = master_size > 0 &&
                      SSL_get_client_random(ssl_, client_random, sizeof client_random) == sizeof client_random &&
                      SSL_get_server_random(ssl_, server_random, sizeof server_random) == sizeof server_random &&
                      kernel_tls::make_tls12_server_sending_keys(
                          suite, {master, master_size}, client_random, server_random,
                          records_written_ - records_to_change_cipher_spec_,
                          explicit_nonce_have_ == 8 ? last_explicit_nonce_ + 1 : 0, keys, kernel_send_refusal_);
    OPENSSL_cleanse(master, sizeof master);
    return made;
  } else {
    kernel_send_refusal_ = "not TLS 1.2 or 1.3 after a full handshake";
  }
  return false;
}

bool tls_session::hand_sending_to_kernel() {
  if (kernel_sends_) return true;
  kernel_tls::sending_keys keys;
  if (sending_keys_for_kernel(keys) && kernel_tls::start_sending(kernel_send_fd_, keys, kernel_send_refusal_)) {
    kernel_sends_ = true;
    kernel_send_refusal_.clear();
  }
  // The secret is needed once: later key log lines (none are expected) would not be used.
  OPENSSL_cleanse(traffic_secret_.data(), traffic_secret_.size());
  traffic_secret_.clear();
  return kernel_sends_;
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
  const bool read = SSL_read_ex(ssl_, data, size, &got) == 1;
  if (kernel_sends_ && SSL_get_key_update_type(ssl_) != SSL_KEY_UPDATE_NONE) {
    // The client updated its keys and asked for ours to follow before our next record; the
    // kernel cannot change them (and OpenSSL's answer would carry stale record numbers).
    last_error_ = "the client asked for a key update, which the kernel cannot make";
    status = tls_status::failed;
    return 0;
  }
  if (read) {
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
