// tls_session's handover of sending to the kernel (kTLS): the key log hook that catches the
// TLS 1.3 traffic secret, the record counting that gives the kernel its first record number
// (and TLS 1.2's last explicit nonce), and the handover itself. The derivations are in
// kernel_tls.cpp; why it is done by hand is in mp/kernel_tls.hpp.
#include "mp/tls_session.hpp"

#include "mp/kernel_tls.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <string_view>
#include <utility>

namespace mp {

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
  } else if (version == TLS1_2_VERSION && change_cipher_spec_written_) {
    if (explicit_nonce_have_ > 0 && explicit_nonce_have_ < 8) {
      kernel_send_refusal_ = "a record after ChangeCipherSpec was too short for an explicit nonce";
      return false;
    }
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
  } else {
    // Refused: the session stays in user space for good, so the BIO need not count the
    // response's records (a header per 16 KiB for the rest of the connection) any more.
    kernel_send_fd_ = -1;
  }
  // The secret is needed once: later key log lines (none are expected) would not be used.
  OPENSSL_cleanse(traffic_secret_.data(), traffic_secret_.size());
  traffic_secret_.clear();
  return kernel_sends_;
}

}  // namespace mp
