#include "mp/kernel_tls.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

namespace mp::kernel_tls {

namespace {
constexpr char ulp_name[] = "tls";

// What the kernel needs of one suite: its structure, and the digest its secrets come from.
struct suite {
  unsigned kernel_cipher;
  const EVP_MD* (*digest)();
  std::size_t key_size;
};

bool find_suite(std::uint16_t id, suite& out) {
  switch (id) {
    case 0x1301: out = {TLS_CIPHER_AES_GCM_128, EVP_sha256, 16}; return true;
    case 0x1302: out = {TLS_CIPHER_AES_GCM_256, EVP_sha384, 32}; return true;
    case 0x1303: out = {TLS_CIPHER_CHACHA20_POLY1305, EVP_sha256, 32}; return true;
    default: return false;
  }
}

void put_sequence(unsigned char (&out)[8], std::uint64_t sequence) {
  for (int i = 7; i >= 0; --i, sequence >>= 8) out[i] = static_cast<unsigned char>(sequence);
}

// Fills the kernel's structure for the suite. GCM splits the 12-byte IV into a 4-byte salt
// and 8 bytes the kernel calls the IV; ChaCha20 takes all 12 as its IV.
template <class Info>
void fill_gcm(Info& info, unsigned cipher, const std::vector<unsigned char>& key,
              const std::vector<unsigned char>& iv, std::uint64_t sequence) {
  info.info.version = TLS_1_3_VERSION;
  info.info.cipher_type = static_cast<__u16>(cipher);
  std::memcpy(info.salt, iv.data(), sizeof info.salt);
  std::memcpy(info.iv, iv.data() + sizeof info.salt, sizeof info.iv);
  std::memcpy(info.key, key.data(), sizeof info.key);
  put_sequence(info.rec_seq, sequence);
}
}  // namespace

std::vector<unsigned char> expand_label(const EVP_MD* digest, std::span<const unsigned char> secret,
                                        std::string_view label, std::size_t length) {
  const std::size_t digest_size = static_cast<std::size_t>(EVP_MD_get_size(digest));
  if (length == 0 || length > digest_size) return {};
  // HkdfLabel: uint16 length, opaque label<7..255> = "tls13 " + label, opaque context<0..255>
  // (empty); HKDF-Expand of at most one block is T(1) = HMAC(secret, info || 0x01).
  const std::string full_label = "tls13 " + std::string(label);
  std::vector<unsigned char> info;
  info.push_back(static_cast<unsigned char>(length >> 8));
  info.push_back(static_cast<unsigned char>(length));
  info.push_back(static_cast<unsigned char>(full_label.size()));
  info.insert(info.end(), full_label.begin(), full_label.end());
  info.push_back(0);  // the context's length
  info.push_back(1);  // the block counter
  unsigned char block[EVP_MAX_MD_SIZE];
  unsigned int block_size = 0;
  if (!HMAC(digest, secret.data(), static_cast<int>(secret.size()), info.data(), info.size(), block, &block_size))
    return {};
  std::vector<unsigned char> out(block, block + length);
  OPENSSL_cleanse(block, sizeof block);
  return out;
}

static_assert(sizeof(tls12_crypto_info_aes_gcm_256) <= sizeof(sending_keys::bytes) &&
              sizeof(tls12_crypto_info_chacha20_poly1305) <= sizeof(sending_keys::bytes));

sending_keys::~sending_keys() { OPENSSL_cleanse(bytes, sizeof bytes); }

bool make_sending_keys(std::uint16_t cipher_suite, std::span<const unsigned char> traffic_secret,
                       std::uint64_t records_sent, sending_keys& keys, std::string& error) {
  suite chosen;
  if (!find_suite(cipher_suite, chosen)) {
    error = "no kernel cipher for this suite";
    return false;
  }
  auto key = expand_label(chosen.digest(), traffic_secret, "key", chosen.key_size);
  auto iv = expand_label(chosen.digest(), traffic_secret, "iv", 12);
  bool made = key.size() == chosen.key_size && iv.size() == 12;
  if (!made) {
    error = "cannot derive the traffic keys";
  } else if (chosen.kernel_cipher == TLS_CIPHER_AES_GCM_128) {
    auto& info = *new (keys.bytes) tls12_crypto_info_aes_gcm_128{};
    fill_gcm(info, chosen.kernel_cipher, key, iv, records_sent);
    keys.size = sizeof info;
  } else if (chosen.kernel_cipher == TLS_CIPHER_AES_GCM_256) {
    auto& info = *new (keys.bytes) tls12_crypto_info_aes_gcm_256{};
    fill_gcm(info, chosen.kernel_cipher, key, iv, records_sent);
    keys.size = sizeof info;
  } else {
    auto& info = *new (keys.bytes) tls12_crypto_info_chacha20_poly1305{};
    info.info.version = TLS_1_3_VERSION;
    info.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
    std::memcpy(info.iv, iv.data(), sizeof info.iv);
    std::memcpy(info.key, key.data(), sizeof info.key);
    put_sequence(info.rec_seq, records_sent);
    keys.size = sizeof info;
  }
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(iv.data(), iv.size());
  return made;
}

bool start_sending(int fd, const sending_keys& keys, std::string& error) {
  if (::setsockopt(fd, SOL_TCP, TCP_ULP, ulp_name, sizeof ulp_name) != 0 && errno != EEXIST) {
    error = std::string("the kernel refused its TLS layer: ") + std::strerror(errno);
    return false;
  }
  if (::setsockopt(fd, SOL_TLS, TLS_TX, keys.bytes, static_cast<socklen_t>(keys.size)) != 0) {
    error = std::string("the kernel refused the keys: ") + std::strerror(errno);
    return false;
  }
  return true;
}

ssize_t send_record(int fd, unsigned char type, const void* data, std::size_t size) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof type)] = {};
  iovec piece{const_cast<void*>(data), size};
  msghdr message{};
  message.msg_iov = &piece;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_TLS;
  header->cmsg_type = TLS_SET_RECORD_TYPE;
  header->cmsg_len = CMSG_LEN(sizeof type);
  std::memcpy(CMSG_DATA(header), &type, sizeof type);
  for (;;) {
    const ssize_t n = ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0 || errno != EINTR) return n;
  }
}

bool available(const char*& why_not) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    why_not = "no TCP socket to ask with";
    return false;
  }
  // On a socket that is not connected the kernel looks the ULP up first (loading the module
  // if it can), then refuses with ENOTCONN.
  const int result = ::setsockopt(fd, SOL_TCP, TCP_ULP, ulp_name, sizeof ulp_name);
  const int error = errno;
  ::close(fd);
  if (result == 0 || error == ENOTCONN || error == EEXIST) return true;
  why_not = error == ENOENT ? "this kernel has no \"tls\" module (CONFIG_TLS)" : "the kernel refused its TLS layer";
  return false;
}

}  // namespace mp::kernel_tls
