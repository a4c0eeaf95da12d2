#pragma once
// One TLS connection's protocol state with no I/O of its own: ciphertext from the peer is fed
// in, ciphertext to send is taken out. The caller decides when and how the socket is read and
// written, so a sender can encrypt a megabyte into many records and hand them to the kernel in
// one send (Asio's ssl::stream writes every 16 KiB record with a system call of its own), and
// the whole exchange can be tested in memory. OpenSSL does the protocol; this class only moves
// bytes between it and two buffers.
//
// One exception, for bulk downloads: receive_directly_from(fd) lets OpenSSL, once the input
// buffer is empty, receive from the (non-blocking) socket straight into its own record buffer
// (one record's worth per read): the bytes are not copied through the input buffer first.
//
// And one for servers on plain TCP: a connection's sending may be handed to the
// kernel (kTLS, mp/kernel_tls.hpp) when the handshake is over. From then on the socket takes
// plaintext, the kernel encrypts it, and this session only decrypts what arrives.

#include "mp/kernel_tls.hpp"

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mp {

enum class tls_status {
  ok,          // done: the handshake is complete, or bytes were read
  want_input,  // more ciphertext from the peer is needed first
  closed,      // the peer sent close_notify
  failed,      // a protocol or verification error: see last_error()
};

class tls_session {
public:
  enum class role { client, server };

  // Throws std::bad_alloc when OpenSSL cannot allocate the connection.
  tls_session(SSL_CTX* context, role side);
  ~tls_session();
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  SSL* native_handle() const noexcept { return ssl_; }

  // Ciphertext from the peer: receive into input_space(n) (at least n bytes), then commit.
  std::span<char> input_space(std::size_t at_least);
  void commit_input(std::size_t n) noexcept { input_end_ += n; }
  // What has arrived and OpenSSL has not consumed yet.
  std::string_view input() const noexcept {
    return {input_.data() + input_begin_, input_end_ - input_begin_};
  }

  // Ciphertext waiting to be sent, and how much of it has left.
  std::string_view output() const noexcept {
    return std::string_view(output_).substr(output_sent_);
  }
  void consume_output(std::size_t n) noexcept;

  tls_status handshake();
  bool handshake_done() const noexcept;

  // Up to `size` bytes of plaintext; 0 with `status` saying why there are none.
  std::size_t read(void* data, std::size_t size, tls_status& status);
  // Encrypts all of `data` into output(); false (see last_error()) if the session has failed.
  bool write(const void* data, std::size_t size);
  // Queues close_notify.
  void close();

  // Direct receiving (see above). Reads stop with want_input when the socket is empty; the
  // caller waits for it (a small read through input_space does) and reads again.
  void receive_directly_from(int fd);
  bool receives_directly() const noexcept { return fd_ >= 0; }
  // In direct mode: the socket's own end (the peer closed it) or error, once met.
  bool socket_closed() const noexcept { return socket_closed_; }
  int socket_error() const noexcept { return socket_errno_; }

  // Kernel sending (see above). A context whose sessions may offer it needs the key log
  // hook, set once when the context is made (it replaces any other key log callback).
  static void allow_kernel_send(SSL_CTX* context);
  // Before the handshake: `fd` is the connection's plain TCP socket.
  void offer_kernel_send(int fd);
  bool kernel_send_offered() const noexcept { return kernel_send_fd_ >= 0; }  // and not refused
  // After the handshake (TLS 1.3 or 1.2), with output() all sent: hands the sending keys to
  // the kernel. True when it took them. Otherwise kernel_send_refusal() says why, and the
  // session goes on in user space (the socket may keep the kernel's TLS layer, which then
  // passes bytes through untouched).
  bool hand_sending_to_kernel();
  // What it hands over: the kernel's keys for the next record. False as above.
  bool sending_keys_for_kernel(kernel_tls::sending_keys& keys);
  bool kernel_sends() const noexcept { return kernel_sends_; }
  const std::string& kernel_send_refusal() const noexcept { return kernel_send_refusal_; }

  // Gives the buffers' memory back once they are empty, so an idle connection holds little.
  void release_buffers();

  // The reason for the last `failed`, as one line ("certificate verify failed", ...).
  const std::string& last_error() const noexcept { return last_error_; }

private:
  friend struct tls_buffer_bio;
  tls_status fail(int ssl_error);
  void count_records(const char* data, std::size_t size) noexcept;
  static void key_log(const SSL* ssl, const char* line);

  SSL* ssl_ = nullptr;
  std::vector<char> input_;
  std::size_t input_begin_ = 0, input_end_ = 0;
  std::string output_;
  std::size_t output_sent_ = 0;
  int fd_ = -1;
  // Kernel sending: the server's TLS 1.3 application traffic secret (from the key log), and
  // the records written, counted from their headers in the output: how many came before that
  // secret (TLS 1.3) or up to our ChangeCipherSpec (TLS 1.2) tells the next record's number.
  int kernel_send_fd_ = -1;
  bool kernel_sends_ = false;
  bool written_after_kernel_took_over_ = false;
  std::string kernel_send_refusal_;
  std::vector<unsigned char> traffic_secret_;
  std::uint64_t records_written_ = 0, records_before_traffic_secret_ = 0;
  std::uint64_t records_to_change_cipher_spec_ = 0;
  bool change_cipher_spec_written_ = false;
  bool capturing_explicit_nonce_ = false;  // TLS 1.2: of the last record after ChangeCipherSpec
  unsigned explicit_nonce_have_ = 0;
  std::uint64_t last_explicit_nonce_ = 0;
  unsigned char record_header_[5] = {};
  std::size_t record_header_have_ = 0, record_body_left_ = 0;
  bool socket_closed_ = false;
  int socket_errno_ = 0;
  std::string last_error_;
};

// A TLS connection starts with a handshake record (content type 22); an HTTP request starts
// with a method name. True when the first bytes are the latter: plain HTTP sent to a TLS port.
bool looks_like_plain_http(std::string_view first_bytes) noexcept;

// The OpenSSL error queue of this thread as one line, and emptied.
std::string take_openssl_errors();

}  // namespace mp
