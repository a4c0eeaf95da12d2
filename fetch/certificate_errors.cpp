#include "certificate_errors.hpp"

#include <openssl/x509.h>

namespace mpfetch {

namespace {

struct failure_words {
  std::string what;
  std::string advice = "use --ca-certificate FILE, or --no-check-certificate to skip the check";
};

failure_words words_for(long verify_result, const std::string& host) {
  failure_words words;
  switch (verify_result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      words.what = "expired";
      words.advice = "the server must renew it; --no-check-certificate skips the check";
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      words.what = "not valid yet (is this machine's clock right?)";
      words.advice = "--no-check-certificate skips the check";
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      words.what = "unknown issuer";
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      words.what = "wrong host: it is not for " + host;
      words.advice = "use the name the certificate was issued for, or --no-check-certificate to skip the check";
      break;
    default:
      words.what = "rejected";
      break;
  }
  words.what += std::string(" (") + X509_verify_cert_error_string(verify_result) + ")";
  return words;
}

}  // namespace

std::string certificate_problem(long verify_result, const std::string& host) {
  return words_for(verify_result, host).what;
}

std::string describe_certificate_failure(long verify_result, const std::string& host) {
  const auto words = words_for(verify_result, host);
  return "cannot verify " + host + "'s certificate: " + words.what + "; " + words.advice;
}

}  // namespace mpfetch
