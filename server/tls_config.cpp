#include "tls_config.hpp"

#include "mp/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mpserve {

namespace {

// Mozilla's intermediate TLS 1.2 suites (TLS 1.3 keeps OpenSSL's defaults, all AEAD).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

constexpr unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::string readable_error(const std::string& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return std::strerror(errno);
  std::fclose(f);
  return {};
}

std::string time_text(const ASN1_TIME* time) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "?";
  ASN1_TIME_print(bio, time);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

// A passphrase-protected key would make OpenSSL prompt on the terminal of a server that may
// have none: refuse instead.
int no_passphrase(char*, int, int, void*) { return -1; }

// ALPN: we speak HTTP/1.1 only. A client that offers ALPN without it (h2 only) gets the
// no_application_protocol alert rather than a protocol it did not ask for (RFC 7301 §3.2).
int select_http11(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                  unsigned int offered_length, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, alpn_http11, sizeof alpn_http11, offered, offered_length) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

tls_context_ptr make_server_tls_context(const std::string& certificate_file, const std::string& key_file,
                                        std::string& error) {
  ERR_clear_error();
  if (auto why = readable_error(certificate_file); !why.empty()) {
    error = "cannot read --tls-cert " + certificate_file + ": " + why;
    return nullptr;
  }
  if (auto why = readable_error(key_file); !why.empty()) {
    error = "cannot read --tls-key " + key_file + ": " + why;
    return nullptr;
  }
  tls_context_ptr context(SSL_CTX_new(TLS_server_method()));
  if (!context) {
    error = "cannot create a TLS context: " + mp::take_openssl_errors();
    return nullptr;
  }
  SSL_CTX* ctx = context.get();
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate_file.c_str()) != 1) {
    error = "--tls-cert " + certificate_file + " holds no usable PEM certificate (" + mp::take_openssl_errors() + ")";
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL compares the key with the certificate as it loads it.
    const unsigned long last = ERR_peek_last_error();
    const bool mismatch = ERR_GET_LIB(last) == ERR_LIB_X509 && ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH;
    const std::string reasons = mp::take_openssl_errors();
    error = mismatch ? "--tls-key " + key_file + " is not the key of the certificate in " + certificate_file
                     : "--tls-key " + key_file + " holds no usable PEM private key, or one protected by a passphrase (" +
                           reasons + ")";
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    error = "--tls-key " + key_file + " is not the key of the certificate in " + certificate_file;
    return nullptr;
  }
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
    error = "the certificate in " + certificate_file + " expired on " + time_text(X509_get0_notAfter(leaf));
    return nullptr;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
    error = "the certificate in " + certificate_file + " is not valid before " + time_text(X509_get0_notBefore(leaf));
    return nullptr;
  }

  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx, tls12_ciphers);
  // No renegotiation (a client-triggered CPU sink, and absent from TLS 1.3); an idle
  // keep-alive connection gives its record buffers back.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(ctx, select_http11, nullptr);
  // Resumption: TLS 1.3 tickets are stateless; TLS 1.2 session IDs use OpenSSL's cache,
  // which needs a context id.
  static const unsigned char session_context[] = "mpserve";
  SSL_CTX_set_session_id_context(ctx, session_context, sizeof session_context - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  return context;
}

}  // namespace mpserve
