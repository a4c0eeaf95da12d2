#pragma once
// A throwaway certificate authority made at test time with OpenSSL's API: P-256 keys, a CA
// certificate, and leaf certificates it signs with chosen names and validity.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mp::test {

struct openssl_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, openssl_free>;
using cert_ptr = std::unique_ptr<X509, openssl_free>;

inline key_ptr make_key() {
  key_ptr key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

inline void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (!extension) throw std::runtime_error("bad extension " + value);
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

struct certificate_request {
  std::string common_name = "localhost";
  std::string subject_alt_names = "DNS:localhost,IP:127.0.0.1";  // empty: none
  long valid_from_seconds = -3600;  // relative to now
  long valid_for_seconds = 86400;   // from valid_from
  bool is_ca = false;
};

// Signed by `issuer` with `issuer_key`; self-signed when both are null.
inline cert_ptr make_certificate(EVP_PKEY* key, const certificate_request& request, X509* issuer = nullptr,
                                 EVP_PKEY* issuer_key = nullptr) {
  static long serial = 1;
  cert_ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), request.valid_from_seconds);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), request.valid_from_seconds + request.valid_for_seconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : cert.get();
  if (request.is_ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "CA:FALSE");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  }
  if (!request.subject_alt_names.empty())
    add_extension(cert.get(), signer, NID_subject_alt_name, request.subject_alt_names);
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()))
    throw std::runtime_error("X509_sign failed");
  return cert;
}

inline std::string to_pem(X509* cert) {
  std::unique_ptr<BIO, openssl_free> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

inline std::string to_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, openssl_free> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// A CA and one server certificate it signed, ready for SSL_CTX_use_* and X509_STORE_add_cert.
struct test_pki {
  key_ptr ca_key = make_key();
  cert_ptr ca = make_certificate(ca_key.get(), {"mp test CA", "", -3600, 86400, true});
  key_ptr server_key = make_key();
  cert_ptr server;

  explicit test_pki(const certificate_request& request = {})
      : server(make_certificate(server_key.get(), request, ca.get(), ca_key.get())) {}
};

}  // namespace mp::test
