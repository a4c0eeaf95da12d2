#pragma once
// The line mpfetch prints when a server's certificate fails verification: what is wrong in
// plain words first (expired, unknown issuer, wrong host), then OpenSSL's own words, then
// what the user can do about it.

#include <string>

namespace mpfetch {

// `verify_result` is SSL_get_verify_result's X509_V_ERR_* code; `host` the name or address
// the URL asked for.
std::string describe_certificate_failure(long verify_result, const std::string& host);
// Just what is wrong: "expired (certificate has expired)".
std::string certificate_problem(long verify_result, const std::string& host);

}  // namespace mpfetch
