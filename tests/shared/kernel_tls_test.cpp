// The keys a TLS 1.3 session hands the kernel (kTLS), checked without the kernel: the test
// encrypts records as the kernel would with them, and the client session must read them.
// (The handover itself runs in a VM with a kernel that has kTLS: ktls_vm_test.sh.)
#include "mp/kernel_tls.hpp"
#include "mp/tls_session.hpp"

#include "tls_test_support.hpp"

#include <gtest/gtest.h>
#include <linux/tls.h>
#include <openssl/evp.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using mp::tls_session;
using mp::tls_status;
namespace ktls = mp::kernel_tls;

std::vector<unsigned char> from_hex(std::string_view text) {
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    if (text[i] == ' ') {
      --i;
      continue;
    }
    out.push_back(static_cast<unsigned char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(KernelTls, ExpandLabelGivesTheKeysOfRfc8448) {
  // RFC 8448, section 3: the server's application traffic secret and its write key and IV.
  const auto secret = from_hex("a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43");
  EXPECT_EQ(ktls::expand_label(EVP_sha256(), secret, "key", 16),
            from_hex("9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56"));
  EXPECT_EQ(ktls::expand_label(EVP_sha256(), secret, "iv", 12), from_hex("cf 78 2b 88 dd 83 54 9a ad f1 e9 84"));
  EXPECT_TRUE(ktls::expand_label(EVP_sha256(), secret, "key", 33).empty());  // more than one block
}

TEST(KernelTls, ASuiteTheKernelLacksIsRefused) {
  const std::vector<unsigned char> secret(32, 7);
  ktls::sending_keys keys;
  std::string error;
  EXPECT_FALSE(ktls::make_sending_keys(0x1304, secret, 0, keys, error));  // TLS_AES_128_CCM_SHA256
  EXPECT_EQ(error, "no kernel cipher for this suite");
}

// What the kernel would put on the wire: one TLS 1.3 application data record (RFC 8446 5.2)
// encrypted with `keys` as record number `sequence`.
std::string kernel_record(const ktls::sending_keys& keys, std::uint64_t sequence, const std::string& text) {
  tls_crypto_info header;
  std::memcpy(&header, keys.bytes, sizeof header);
  EXPECT_EQ(header.version, TLS_1_3_VERSION);
  std::vector<unsigned char> key, iv(12);
  const EVP_CIPHER* cipher = nullptr;
  if (header.cipher_type == TLS_CIPHER_AES_GCM_128 || header.cipher_type == TLS_CIPHER_AES_GCM_256) {
    auto read_gcm = [&](const auto& info) {
      std::memcpy(iv.data(), info.salt, 4);
      std::memcpy(iv.data() + 4, info.iv, 8);
      key.assign(info.key, info.key + sizeof info.key);
    };
    if (header.cipher_type == TLS_CIPHER_AES_GCM_128) {
      tls12_crypto_info_aes_gcm_128 info;
      std::memcpy(&info, keys.bytes, sizeof info);
      read_gcm(info);
      cipher = EVP_aes_128_gcm();
    } else {
      tls12_crypto_info_aes_gcm_256 info;
      std::memcpy(&info, keys.bytes, sizeof info);
      read_gcm(info);
      cipher = EVP_aes_256_gcm();
    }
  } else if (header.cipher_type == TLS_CIPHER_CHACHA20_POLY1305) {
    tls12_crypto_info_chacha20_poly1305 info;
    std::memcpy(&info, keys.bytes, sizeof info);
    std::memcpy(iv.data(), info.iv, 12);
    key.assign(info.key, info.key + sizeof info.key);
    cipher = EVP_chacha20_poly1305();
  } else {
    ADD_FAILURE() << "cipher type " << header.cipher_type;
    return {};
  }
  for (int i = 0; i < 8; ++i) iv[11 - i] ^= static_cast<unsigned char>(sequence >> (8 * i));
  std::string inner = text + '\x17';  // the real content type: application data
  const std::size_t length = inner.size() + 16;
  const unsigned char record_header[5] = {0x17, 0x03, 0x03, static_cast<unsigned char>(length >> 8),
                                          static_cast<unsigned char>(length)};
  std::string record(reinterpret_cast<const char*>(record_header), 5);
  record.resize(5 + length);
  auto* out = reinterpret_cast<unsigned char*>(record.data() + 5);
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  int n = 0, extra = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(context, cipher, nullptr, key.data(), iv.data()), 1);
  EXPECT_EQ(EVP_EncryptUpdate(context, nullptr, &n, record_header, 5), 1);
  EXPECT_EQ(EVP_EncryptUpdate(context, out, &n, reinterpret_cast<const unsigned char*>(inner.data()),
                              static_cast<int>(inner.size())), 1);
  EXPECT_EQ(EVP_EncryptFinal_ex(context, out + n, &extra), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, out + inner.size()), 1);
  EVP_CIPHER_CTX_free(context);
  return record;
}

struct socket_pair {
  int fds[2] = {-1, -1};
  socket_pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }
  ~socket_pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

class KernelSendKeys : public ::testing::TestWithParam<const char*> {
protected:
  KernelSendKeys() {
    SSL_CTX_set_ciphersuites(server_ctx_.get(), GetParam());
    tls_session::allow_kernel_send(server_ctx_.get());
    // Any socket: only the handover uses it, and it is not plain TCP, so the kernel refuses.
    pair_.server.offer_kernel_send(sockets_.fds[0]);
  }
  mp::test::test_pki pki_;
  mp::test::ctx_ptr server_ctx_ = mp::test::server_context(pki_);
  mp::test::ctx_ptr client_ctx_ = mp::test::client_context(pki_);
  mp::test::session_pair pair_{server_ctx_.get(), client_ctx_.get()};
  socket_pair sockets_;
  tls_session& server = pair_.server;
  tls_session& client = pair_.client;
};

TEST_P(KernelSendKeys, RecordsEncryptedWithThemReachTheClient) {
  ASSERT_EQ(mp::test::handshake_in_memory(client, server), tls_status::ok) << client.last_error();
  ASSERT_STREQ(SSL_get_cipher_name(server.native_handle()), GetParam());

  // The session tickets were sent under the same keys: the kernel's numbers start after them.
  ktls::sending_keys keys;
  ASSERT_TRUE(server.sending_keys_for_kernel(keys)) << server.kernel_send_refusal();
  const std::uint64_t first = [&] {
    std::uint64_t sequence = 0;
    for (std::size_t i = keys.size - 8; i < keys.size; ++i) sequence = sequence << 8 | keys.bytes[i];
    return sequence;
  }();
  EXPECT_EQ(first, 2u) << "OpenSSL sends two tickets by default";

  const std::string records = kernel_record(keys, first, "HTTP/1.1 200 OK\r\n") + kernel_record(keys, first + 1, "body");
  auto space = client.input_space(records.size());
  std::memcpy(space.data(), records.data(), records.size());
  client.commit_input(records.size());
  EXPECT_EQ(mp::test::read_all(client), "HTTP/1.1 200 OK\r\nbody");
}

TEST_P(KernelSendKeys, WhenTheKernelRefusesTheSessionGoesOnInUserSpace) {
  ASSERT_EQ(mp::test::handshake_in_memory(client, server), tls_status::ok) << client.last_error();
  EXPECT_FALSE(server.hand_sending_to_kernel());
  EXPECT_FALSE(server.kernel_sends());
  EXPECT_NE(server.kernel_send_refusal().find("the kernel refused its TLS layer"), std::string::npos)
      << server.kernel_send_refusal();
  ASSERT_TRUE(server.write("still here", 10));
  mp::test::carry(server, client);
  EXPECT_EQ(mp::test::read_all(client), "still here");
}

INSTANTIATE_TEST_SUITE_P(Tls13Suites, KernelSendKeys,
                         ::testing::Values("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"));

TEST(KernelSendKeysTls12, AreNotMadeForTls12) {
  mp::test::test_pki pki;
  auto server_ctx = mp::test::server_context(pki);
  auto client_ctx = mp::test::client_context(pki);
  SSL_CTX_set_max_proto_version(server_ctx.get(), TLS1_2_VERSION);
  tls_session::allow_kernel_send(server_ctx.get());
  mp::test::session_pair pair(server_ctx.get(), client_ctx.get());
  socket_pair sockets;
  pair.server.offer_kernel_send(sockets.fds[0]);
  ASSERT_EQ(mp::test::handshake_in_memory(pair.client, pair.server), tls_status::ok);
  ktls::sending_keys keys;
  EXPECT_FALSE(pair.server.sending_keys_for_kernel(keys));
  EXPECT_EQ(pair.server.kernel_send_refusal(), "TLS 1.2 is encrypted in user space");
}

}  // namespace
