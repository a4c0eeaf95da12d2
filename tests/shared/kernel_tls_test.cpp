// The keys a TLS session hands the kernel (kTLS), checked without the kernel: the test
// encrypts records as the kernel would with them, and the client session must read them.
// (The handover itself runs in a VM with a kernel that has kTLS: ktls_vm_test.sh.)
#include "mp/kernel_tls.hpp"
#include "mp/tls_session.hpp"

#include "tls_test_support.hpp"

#include <gtest/gtest.h>
#include <linux/tls.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

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

TEST(KernelTls, ACipherTheKernelLacksIsRefused) {
  const std::vector<unsigned char> secret(32, 7);
  ktls::sending_keys keys;
  std::string error;
  EXPECT_FALSE(ktls::make_tls13_sending_keys({NID_aes_128_ccm, EVP_sha256()}, secret, 0, keys, error));
  EXPECT_EQ(error, "no kernel cipher for this suite");
}

// The kernel's keys, read back.
struct kernel_view {
  unsigned version = 0;
  const EVP_CIPHER* cipher = nullptr;
  std::vector<unsigned char> key, nonce;  // nonce: GCM's salt + "IV" (12 bytes), ChaCha20's IV
  std::uint64_t sequence = 0;             // of the next record
};

kernel_view read_keys(const ktls::sending_keys& keys) {
  kernel_view view;
  tls_crypto_info header;
  std::memcpy(&header, keys.bytes, sizeof header);
  view.version = header.version;
  auto take = [&](const auto& info, const EVP_CIPHER* cipher) {
    view.cipher = cipher;
    view.key.assign(info.key, info.key + sizeof info.key);
    if constexpr (requires { info.salt; }) view.nonce.assign(info.salt, info.salt + sizeof info.salt);
    view.nonce.insert(view.nonce.end(), info.iv, info.iv + sizeof info.iv);
    for (unsigned char byte : info.rec_seq) view.sequence = view.sequence << 8 | byte;
  };
  if (header.cipher_type == TLS_CIPHER_AES_GCM_128) {
    tls12_crypto_info_aes_gcm_128 info;
    std::memcpy(&info, keys.bytes, sizeof info);
    take(info, EVP_aes_128_gcm());
  } else if (header.cipher_type == TLS_CIPHER_AES_GCM_256) {
    tls12_crypto_info_aes_gcm_256 info;
    std::memcpy(&info, keys.bytes, sizeof info);
    take(info, EVP_aes_256_gcm());
  } else if (header.cipher_type == TLS_CIPHER_CHACHA20_POLY1305) {
    tls12_crypto_info_chacha20_poly1305 info;
    std::memcpy(&info, keys.bytes, sizeof info);
    take(info, EVP_chacha20_poly1305());
  } else {
    ADD_FAILURE() << "cipher type " << header.cipher_type;
  }
  return view;
}

// What the kernel puts on the wire for the `index`-th record after it took over: one
// application data record (TLS 1.3: RFC 8446 5.2; TLS 1.2: RFC 5246 6.2.3.3 with AES-GCM's
// explicit nonce, RFC 7905 for ChaCha20), encrypted with the keys read back.
std::string kernel_record(const kernel_view& view, std::uint64_t index, const std::string& text) {
  const std::uint64_t sequence = view.sequence + index;
  const bool tls13 = view.version == TLS_1_3_VERSION;
  const bool explicit_nonce = !tls13 && view.cipher != EVP_chacha20_poly1305();
  std::vector<unsigned char> nonce = view.nonce;
  if (explicit_nonce) {
    for (std::uint64_t carry = index, i = 11; carry > 0 && i >= 4; --i) {  // the kernel counts it up
      carry += nonce[i];
      nonce[i] = static_cast<unsigned char>(carry);
      carry >>= 8;
    }
  } else {
    for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<unsigned char>(sequence >> (8 * i));
  }
  const std::string plain = tls13 ? text + '\x17' : text;  // TLS 1.3 hides the type inside
  const std::size_t length = (explicit_nonce ? 8 : 0) + plain.size() + 16;
  const unsigned char header[5] = {0x17, 0x03, 0x03, static_cast<unsigned char>(length >> 8),
                                   static_cast<unsigned char>(length)};
  std::vector<unsigned char> aad(header, header + 5);
  if (!tls13) {  // sequence, type, version, plaintext length
    aad.assign(8, 0);
    for (int i = 0; i < 8; ++i) aad[7 - i] = static_cast<unsigned char>(sequence >> (8 * i));
    aad.insert(aad.end(), {0x17, 0x03, 0x03, static_cast<unsigned char>(plain.size() >> 8),
                           static_cast<unsigned char>(plain.size())});
  }
  std::string record(reinterpret_cast<const char*>(header), 5);
  if (explicit_nonce) record.append(reinterpret_cast<const char*>(nonce.data() + 4), 8);
  const std::size_t body_at = record.size();
  record.resize(5 + length);
  auto* out = reinterpret_cast<unsigned char*>(record.data() + body_at);
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  int n = 0, extra = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(context, view.cipher, nullptr, view.key.data(), nonce.data()), 1);
  EXPECT_EQ(EVP_EncryptUpdate(context, nullptr, &n, aad.data(), static_cast<int>(aad.size())), 1);
  EXPECT_EQ(EVP_EncryptUpdate(context, out, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                              static_cast<int>(plain.size())), 1);
  EXPECT_EQ(EVP_EncryptFinal_ex(context, out + n, &extra), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, out + plain.size()), 1);
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

struct suite_case {
  const char* name;         // the suite the server allows (TLS 1.2: a cipher list)
  int version;              // TLS1_2_VERSION or TLS1_3_VERSION
  std::uint64_t first;      // records the handshake sent under the keys: tickets, or Finished
};

class KernelSendKeys : public ::testing::TestWithParam<suite_case> {
protected:
  KernelSendKeys() {
    SSL* ssl = pair_.server.native_handle();  // (made already: the context's settings are copied)
    if (GetParam().version == TLS1_3_VERSION) {
      SSL_set_ciphersuites(ssl, GetParam().name);
    } else {
      SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
      SSL_set_cipher_list(ssl, GetParam().name);
    }
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
  ASSERT_EQ(SSL_version(server.native_handle()), GetParam().version);
  ASSERT_STREQ(SSL_get_cipher_name(server.native_handle()), GetParam().name);

  ktls::sending_keys keys;
  ASSERT_TRUE(server.sending_keys_for_kernel(keys)) << server.kernel_send_refusal();
  const kernel_view view = read_keys(keys);
  EXPECT_EQ(view.version, GetParam().version == TLS1_3_VERSION ? TLS_1_3_VERSION : TLS_1_2_VERSION);
  EXPECT_EQ(view.sequence, GetParam().first);

  const std::string records = kernel_record(view, 0, "HTTP/1.1 200 OK\r\n") + kernel_record(view, 1, "body");
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

// TLS 1.3 sends two session tickets after the handshake under the new keys; TLS 1.2 its
// Finished (the ticket goes before ChangeCipherSpec). The test certificate is ECDSA.
INSTANTIATE_TEST_SUITE_P(
    EverySuiteTheKernelTakes, KernelSendKeys,
    ::testing::Values(suite_case{"TLS_AES_128_GCM_SHA256", TLS1_3_VERSION, 2},
                      suite_case{"TLS_AES_256_GCM_SHA384", TLS1_3_VERSION, 2},
                      suite_case{"TLS_CHACHA20_POLY1305_SHA256", TLS1_3_VERSION, 2},
                      suite_case{"ECDHE-ECDSA-AES128-GCM-SHA256", TLS1_2_VERSION, 1},
                      suite_case{"ECDHE-ECDSA-AES256-GCM-SHA384", TLS1_2_VERSION, 1},
                      suite_case{"ECDHE-ECDSA-CHACHA20-POLY1305", TLS1_2_VERSION, 1}),
    [](const auto& info) {
      std::string name = info.param.name;
      for (char& c : name)
        if (c == '-') c = '_';
      return name;
    });

}  // namespace
