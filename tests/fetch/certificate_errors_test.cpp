#include "certificate_errors.hpp"

#include <gtest/gtest.h>
#include <openssl/x509.h>

namespace {

using mpfetch::describe_certificate_failure;

TEST(CertificateErrors, NameTheReasonInPlainWords) {
  const auto expired = describe_certificate_failure(X509_V_ERR_CERT_HAS_EXPIRED, "example.test");
  EXPECT_NE(expired.find("example.test's certificate: expired (certificate has expired)"), std::string::npos) << expired;
  const auto issuer = describe_certificate_failure(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "h");
  EXPECT_NE(issuer.find("unknown issuer (unable to get local issuer certificate)"), std::string::npos) << issuer;
  EXPECT_NE(issuer.find("--ca-certificate"), std::string::npos);
  EXPECT_NE(describe_certificate_failure(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "h").find("unknown issuer"),
            std::string::npos);
  const auto host = describe_certificate_failure(X509_V_ERR_HOSTNAME_MISMATCH, "www.example.test");
  EXPECT_NE(host.find("wrong host: it is not for www.example.test (hostname mismatch)"), std::string::npos) << host;
  const auto address = describe_certificate_failure(X509_V_ERR_IP_ADDRESS_MISMATCH, "192.0.2.7");
  EXPECT_NE(address.find("wrong host: it is not for 192.0.2.7 (IP address mismatch)"), std::string::npos) << address;
  EXPECT_EQ(mpfetch::certificate_problem(X509_V_ERR_CERT_HAS_EXPIRED, "h"), "expired (certificate has expired)");
  const auto other = describe_certificate_failure(X509_V_ERR_CERT_REVOKED, "h");
  EXPECT_NE(other.find("rejected (certificate revoked)"), std::string::npos) << other;
}

}  // namespace
