#pragma once
// The kernel's TLS offload (kTLS) for sending, which tls_session hands a connection
// to once its handshake is over: the kernel then encrypts what the socket sends, so file
// bytes can leave by sendfile(2) without passing through user space.
//
// Why by hand: OpenSSL can do this itself (SSL_OP_ENABLE_KTLS, SSL_sendfile), but only when
// built with enable-ktls, and Debian 12's libssl3 is not. So the session derives the sending
// key and IV as the protocol defines them (TLS 1.3: from the application traffic secret that
// OpenSSL's key log callback gives; TLS 1.2: from the master secret and both randoms) and
// gives them to the socket with the number of records already sent under them. Plain TCP
// sockets only: MPTCP refuses upper-layer protocols (TCP_ULP), fallen back to TCP or not
// (docs/tls.md).

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace mp::kernel_tls {

// HKDF-Expand-Label of TLS 1.3 (RFC 8446, 7.1) with an empty context; `length` at most the
// digest's size. Empty if OpenSSL fails.
std::vector<unsigned char> expand_label(const EVP_MD* digest, std::span<const unsigned char> secret,
                                        std::string_view label, std::size_t length);

// The kernel's key structure for sending (struct tls12_crypto_info_aes_gcm_128 and its
// kin in <linux/tls.h>), as setsockopt(SOL_TLS, TLS_TX) takes it. Wiped when destroyed.
struct sending_keys {
  alignas(8) unsigned char bytes[64] = {};
  std::size_t size = 0;
  sending_keys() = default;
  sending_keys(const sending_keys&) = delete;
  sending_keys& operator=(const sending_keys&) = delete;
  ~sending_keys();
};

// A suite as OpenSSL describes it: SSL_CIPHER_get_cipher_nid (NID_aes_128_gcm,
// NID_aes_256_gcm, NID_chacha20_poly1305: the ciphers the kernel takes) and
// SSL_CIPHER_get_handshake_digest (the hash of its key derivation).
struct suite {
  int cipher_nid = 0;
  const EVP_MD* digest = nullptr;
};

// The keys of a TLS 1.3 connection's sending: from the application traffic secret of the
// sending side, with `records_sent` records already sent under it (the next record's number).
// False with `error` for a cipher the kernel lacks.
bool make_tls13_sending_keys(const suite& suite, std::span<const unsigned char> traffic_secret,
                             std::uint64_t records_sent, sending_keys& keys, std::string& error);

// The same for TLS 1.2, the server's side: the key block comes from the master secret and
// both randoms (RFC 5246 6.3). AES-GCM's explicit nonces (which the kernel counts up) start at
// `next_explicit_nonce`: one past the last that OpenSSL used under the same key, so that none
// repeats. (OpenSSL starts them at a random number.)
bool make_tls12_server_sending_keys(const suite& suite, std::span<const unsigned char> master_secret,
                                    std::span<const unsigned char> client_random,
                                    std::span<const unsigned char> server_random, std::uint64_t records_sent,
                                    std::uint64_t next_explicit_nonce, sending_keys& keys, std::string& error);

// Gives them to the socket. False with `error` when the kernel refuses: the socket then
// sends as before, and the connection goes on in user space.
bool start_sending(int fd, const sending_keys& keys, std::string& error);

// Sends one record of `type` (21: an alert) through a socket that the kernel encrypts for.
// Non-blocking; returns what sendmsg returns.
ssize_t send_record(int fd, unsigned char type, const void* data, std::size_t size);

// Whether this kernel offers the "tls" upper-layer protocol for TCP (asking may load the
// module). `why_not` says why not.
bool available(const char*& why_not);

}  // namespace mp::kernel_tls
