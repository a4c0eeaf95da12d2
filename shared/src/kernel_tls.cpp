#include "mp/kernel_tls.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

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

// What the kernel needs to know of a cipher.
struct kernel_cipher {
  unsigned type;
  std::size_t key_size;
  std::size_t tls12_fixed_iv_size;  // from the key block: GCM's salt, ChaCha20's whole IV
};

// The kernel's cipher for the suite; false with `error` when it has none.
bool find_cipher(const suite& suite, kernel_cipher& out, std::string& error) {
  switch (suite.digest ? suite.cipher_nid : 0) {
    case NID_aes_128_gcm: out = {TLS_CIPHER_AES_GCM_128, 16, 4}; return true;
    case NID_aes_256_gcm: out = {TLS_CIPHER_AES_GCM_256, 32, 4}; return true;
    case NID_chacha20_poly1305: out = {TLS_CIPHER_CHACHA20_POLY1305, 32, 12}; return true;
    default: error = "no kernel cipher for this suite"; return false;
  }
}

// 8 bytes, big-endian: record numbers and GCM's explicit nonces.
void put_sequence(unsigned char* out, std::uint64_t sequence) {
  for (int i = 7; i >= 0; --i, sequence >>= 8) out[i] = static_cast<unsigned char>(sequence);
}

// Writes the kernel's structure `Info` for the cipher. `nonce` is 12 bytes: for GCM a 4-byte
// salt and the 8 bytes the kernel calls its IV (TLS 1.3: the rest of the IV; TLS 1.2: the
// first explicit nonce, which the kernel counts up); ChaCha20 takes all 12 as its IV.
template <class Info>
void fill_info(sending_keys& keys, unsigned version, unsigned type, const unsigned char* key,
               const unsigned char* nonce, std::uint64_t sequence) {
  auto& info = *new (keys.bytes) Info{};
  info.info.version = static_cast<__u16>(version);
  info.info.cipher_type = static_cast<__u16>(type);
  std::size_t salt_size = 0;
  if constexpr (requires { info.salt; }) {
    salt_size = sizeof info.salt;
    std::memcpy(info.salt, nonce, salt_size);
  }
  std::memcpy(info.iv, nonce + salt_size, sizeof info.iv);
  std::memcpy(info.key, key, sizeof info.key);
  put_sequence(info.rec_seq, sequence);
  keys.size = sizeof info;
}

void fill(sending_keys& keys, unsigned version, const kernel_cipher& cipher, const unsigned char* key,
          const unsigned char* nonce, std::uint64_t sequence) {
  if (cipher.type == TLS_CIPHER_AES_GCM_128)
    fill_info<tls12_crypto_info_aes_gcm_128>(keys, version, cipher.type, key, nonce, sequence);
  else if (cipher.type == TLS_CIPHER_AES_GCM_256)
    fill_info<tls12_crypto_info_aes_gcm_256>(keys, version, cipher.type, key, nonce, sequence);
  else
    fill_info<tls12_crypto_info_chacha20_poly1305>(keys, version, cipher.type, key, nonce, sequence);
}

// TLS 1.2's PRF (RFC 5246 5) through OpenSSL's TLS1-PRF.
bool tls12_prf(const EVP_MD* digest, std::span<const unsigned char> secret, const std::string& seed,
               unsigned char* out, std::size_t size) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
  EVP_KDF_CTX* context = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (!context) return false;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(digest)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, const_cast<unsigned char*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, const_cast<char*>(seed.data()), seed.size()),
      OSSL_PARAM_construct_end()};
  const bool done = EVP_KDF_derive(context, out, size, params) == 1;
  EVP_KDF_CTX_free(context);
  return done;
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

bool make_tls13_sending_keys(const suite& suite, std::span<const unsigned char> traffic_secret,
                             std::uint64_t records_sent, sending_keys& keys, std::string& error) {
  kernel_cipher cipher;
  if (!find_cipher(suite, cipher, error)) return false;
  auto key = expand_label(suite.digest, traffic_secret, "key", cipher.key_size);
  auto iv = expand_label(suite.digest, traffic_secret, "iv", 12);
  const bool made = key.size() == cipher.key_size && iv.size() == 12;
  if (made)
    fill(keys, TLS_1_3_VERSION, cipher, key.data(), iv.data(), records_sent);
  else
    error = "cannot derive the traffic keys";
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(iv.data(), iv.size());
  return made;
}

bool make_tls12_server_sending_keys(const suite& suite, std::span<const unsigned char> master_secret,
                                    std::span<const unsigned char> client_random,
                                    std::span<const unsigned char> server_random, std::uint64_t records_sent,
                                    std::uint64_t next_explicit_nonce, sending_keys& keys, std::string& error) {
  kernel_cipher cipher;
  if (!find_cipher(suite, cipher, error)) return false;
  // key_block = client key, server key, client IV, server IV (AEAD suites have no MAC keys).
  std::string seed = "key expansion";
  seed.append(reinterpret_cast<const char*>(server_random.data()), server_random.size());
  seed.append(reinterpret_cast<const char*>(client_random.data()), client_random.size());
  unsigned char block[2 * 32 + 2 * 12];
  const std::size_t block_size = 2 * cipher.key_size + 2 * cipher.tls12_fixed_iv_size;
  unsigned char nonce[12];
  const bool made = tls12_prf(suite.digest, master_secret, seed, block, block_size);
  if (made) {
    std::memcpy(nonce, block + 2 * cipher.key_size + cipher.tls12_fixed_iv_size, cipher.tls12_fixed_iv_size);
    if (cipher.tls12_fixed_iv_size == 4) put_sequence(nonce + 4, next_explicit_nonce);  // GCM: salt, first nonce
    fill(keys, TLS_1_2_VERSION, cipher, block + cipher.key_size, nonce, records_sent);
  } else {
    error = "cannot derive the traffic keys";
  }
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(nonce, sizeof nonce);
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
