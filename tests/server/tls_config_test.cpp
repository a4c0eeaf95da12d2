#include "tls_config.hpp"

#include "mp/tls_session.hpp"

#include "../shared/tls_test_support.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace {

using mp::tls_session;
using mp::tls_status;
using mp::test::carry;
using mp::test::session_pair;
using mpserve::make_server_tls_context;

class TlsConfig : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/mpserve-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The certificate and the CA after it (a chain file), and the key.
  std::pair<std::string, std::string> write_pair(const mp::test::test_pki& pki) {
    return {write_file("cert.pem", mp::test::to_pem(pki.server.get()) + mp::test::to_pem(pki.ca.get())),
            write_file("key.pem", mp::test::to_pem(pki.server_key.get()))};
  }

  std::string error_for(const std::string& cert, const std::string& key) {
    std::string error;
    auto context = make_server_tls_context(cert, key, error);
    EXPECT_EQ(context, nullptr);
    return error;
  }

  // A context made from a good certificate and key of pki_.
  mpserve::tls_context_ptr good_context() {
    const auto [cert, key] = write_pair(pki_);
    std::string error;
    auto context = make_server_tls_context(cert, key, error);
    EXPECT_NE(context, nullptr) << error;
    return context;
  }

  std::string dir_;
  mp::test::test_pki pki_;
};

TEST_F(TlsConfig, AGoodPairServesTls12And13WithAlpnHttp11) {
  auto server_ctx = good_context();
  ASSERT_NE(server_ctx, nullptr);
  auto client_ctx = mp::test::client_context(pki_);

  session_pair sessions(server_ctx.get(), client_ctx.get());
  auto& [server, client] = sessions;
  static const unsigned char offer[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(client.native_handle(), offer, sizeof offer - 1);
  ASSERT_EQ(mp::test::handshake_in_memory(client, server), tls_status::ok) << client.last_error();
  const unsigned char* chosen = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(client.native_handle(), &chosen, &length);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(chosen), length), "http/1.1");
  EXPECT_EQ(SSL_version(client.native_handle()), TLS1_3_VERSION);

  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    session_pair sessions2(server_ctx.get(), client_ctx.get());
    auto& [server2, client2] = sessions2;
    SSL_set_min_proto_version(client2.native_handle(), version);
    SSL_set_max_proto_version(client2.native_handle(), version);
    EXPECT_EQ(mp::test::handshake_in_memory(client2, server2), tls_status::ok) << version << " " << client2.last_error();
  }
}

TEST_F(TlsConfig, OldProtocolsAndForeignAlpnAreRefused) {
  auto server_ctx = good_context();
  ASSERT_NE(server_ctx, nullptr);
  auto client_ctx = mp::test::client_context(pki_);
  {
    session_pair sessions(server_ctx.get(), client_ctx.get());
    auto& [server, client] = sessions;
    SSL_set_security_level(client.native_handle(), 0);  // let this client offer TLS 1.1 at all
    SSL_set_min_proto_version(client.native_handle(), TLS1_1_VERSION);
    SSL_set_max_proto_version(client.native_handle(), TLS1_1_VERSION);
    EXPECT_EQ(mp::test::handshake_in_memory(client, server), tls_status::failed);
  }
  {
    session_pair sessions(server_ctx.get(), client_ctx.get());
    auto& [server, client] = sessions;
    static const unsigned char h2_only[] = "\x02h2";
    SSL_set_alpn_protos(client.native_handle(), h2_only, sizeof h2_only - 1);
    EXPECT_EQ(mp::test::handshake_in_memory(client, server), tls_status::failed);
    EXPECT_NE(client.last_error().find("no application protocol"), std::string::npos) << client.last_error();
  }
}

TEST_F(TlsConfig, SessionsResumeByTicket) {
  auto server_ctx = good_context();
  ASSERT_NE(server_ctx, nullptr);
  auto client_ctx = mp::test::client_context(pki_);
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SSL_SESSION* saved = nullptr;
    {
      session_pair sessions(server_ctx.get(), client_ctx.get());
      auto& [server, client] = sessions;
      SSL_set_max_proto_version(client.native_handle(), version);
      ASSERT_EQ(mp::test::handshake_in_memory(client, server), tls_status::ok);
      EXPECT_FALSE(SSL_session_reused(client.native_handle()));
      saved = SSL_get1_session(client.native_handle());
      ASSERT_NE(saved, nullptr);
      // OpenSSL forgets the session of a connection that ends without close_notify.
      client.close();
      carry(client, server);
      server.close();
    }
    session_pair sessions(server_ctx.get(), client_ctx.get());
    auto& [server, client] = sessions;
    SSL_set_max_proto_version(client.native_handle(), version);
    SSL_set_session(client.native_handle(), saved);
    SSL_SESSION_free(saved);
    ASSERT_EQ(mp::test::handshake_in_memory(client, server), tls_status::ok);
    EXPECT_TRUE(SSL_session_reused(client.native_handle())) << "TLS version " << version;
  }
}

TEST_F(TlsConfig, MissingOrUnreadableFilesAreNamed) {
  mp::test::test_pki pki;
  const auto [cert, key] = write_pair(pki);
  auto error = error_for(dir_ + "/none.pem", key);
  EXPECT_NE(error.find("cannot read --tls-cert " + dir_ + "/none.pem: No such file or directory"), std::string::npos)
      << error;
  error = error_for(cert, dir_ + "/none.pem");
  EXPECT_NE(error.find("cannot read --tls-key"), std::string::npos) << error;
  if (::geteuid() != 0) {  // root reads any file regardless of its mode
    ::chmod(key.c_str(), 0);
    error = error_for(cert, key);
    EXPECT_NE(error.find("Permission denied"), std::string::npos) << error;
  }
}

TEST_F(TlsConfig, WrongContentIsExplained) {
  mp::test::test_pki pki;
  const auto [cert, key] = write_pair(pki);
  const auto junk = write_file("junk.pem", "not a certificate\n");
  EXPECT_NE(error_for(junk, key).find("holds no usable PEM certificate"), std::string::npos);
  EXPECT_NE(error_for(cert, junk).find("holds no usable PEM private key"), std::string::npos);

  mp::test::test_pki other;  // a key of another certificate
  const auto other_key = write_file("other-key.pem", mp::test::to_pem(other.server_key.get()));
  EXPECT_NE(error_for(cert, other_key).find("is not the key of the certificate in " + cert), std::string::npos);

  // A passphrase-protected key is refused, not prompted for.
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pki.server_key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                           const_cast<char*>("secret"));
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const auto locked = write_file("locked.pem", std::string(data, static_cast<std::size_t>(size)));
  BIO_free(bio);
  EXPECT_NE(error_for(cert, locked).find("passphrase"), std::string::npos);
}

TEST_F(TlsConfig, ExpiredAndNotYetValidCertificatesAreRefused) {
  mp::test::test_pki expired({"localhost", "DNS:localhost", -10 * 86400, 86400});
  auto [cert, key] = write_pair(expired);
  auto error = error_for(cert, key);
  EXPECT_NE(error.find("expired on"), std::string::npos) << error;
  mp::test::test_pki future({"localhost", "DNS:localhost", 86400, 86400});
  std::tie(cert, key) = write_pair(future);
  error = error_for(cert, key);
  EXPECT_NE(error.find("is not valid before"), std::string::npos) << error;
}

}  // namespace
