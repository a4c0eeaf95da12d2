#include "http_connection.hpp"

#include "certificate_errors.hpp"

#include "mp/connection_info.hpp"
#include "mp/mptcp_socket.hpp"
#include "mp/resolve.hpp"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace mpfetch {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

// True when `dir` holds at least one c_rehash link ("1a2b3c4d.0"), which OpenSSL's directory
// lookup needs.
bool has_hashed_certificates(const char* dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() == 10 && name.compare(8, 2, ".0") == 0 &&
        name.find_first_not_of("0123456789abcdef") == 8)
      return true;
  }
  return false;
}

}  // namespace

http_connection::http_connection(boost::asio::any_io_executor executor, mp::mptcp_mode mode,
                                 std::chrono::milliseconds connect_timeout)
    : executor_(executor), mode_(mode), connect_timeout_(connect_timeout), resolver_(executor) {}

void http_connection::configure_tls(const tls_options& options) {
  tls_context_.emplace(ssl::context::tls_client);
  auto& context = *tls_context_;
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  // The system store as a hashed directory (certificates read when a chain needs them) where
  // there is one; the default bundle file otherwise. Parsing the whole bundle up front cost
  // ~15 ms of CPU per run (Debian's 140-odd certificates), more than a small download.
  // SSL_CERT_DIR and SSL_CERT_FILE are honoured as OpenSSL does.
  const char* env_dir = std::getenv(X509_get_default_cert_dir_env());
  const std::string dir = env_dir ? env_dir : X509_get_default_cert_dir();
  if (!std::getenv(X509_get_default_cert_file_env()) && dir.find(':') == std::string::npos &&
      has_hashed_certificates(dir.c_str()))
    SSL_CTX_load_verify_dir(context.native_handle(), dir.c_str());
  else
    context.set_default_verify_paths();
  if (!options.ca_certificate.empty()) {
    error_code ec;
    context.load_verify_file(options.ca_certificate, ec);
    if (ec)
      throw std::runtime_error("cannot load --ca-certificate " + options.ca_certificate + ": " + ec.message());
  }
  context.set_verify_mode(options.verify ? ssl::verify_peer : ssl::verify_none);
  verify_ = options.verify;
}

bool http_connection::usable_for(const url_target& origin) const {
  return connected_ && is_open() && origin.scheme == origin_.scheme && origin.host == origin_.host &&
         origin.port == origin_.port;
}

bool http_connection::is_open() const { return plain_ && plain_->socket().is_open(); }

void http_connection::close() {
  connected_ = false;
  mptcp_socket_ = mptcp_connection_ = false;
  error_code ignored;
  if (plain_) plain_->socket().close(ignored);
}

int http_connection::native_handle() { return plain().socket().native_handle(); }

void http_connection::async_connect(const url_target& origin,
                                    std::function<void(const connect_outcome&)> done) {
  close();
  origin_ = origin;
  done_ = std::move(done);
  if (origin.scheme == "https" && !tls_context_) configure_tls({});
  resolver_.async_resolve(origin.host, origin.port,
                          [this](const error_code& ec, boost::asio::ip::tcp::resolver::results_type results) {
                            if (ec)
                              return finish(connect_failure::resolve,
                                            fmt::format("cannot resolve {}: {}", origin_.host, ec.message()));
                            endpoints_ = mp::to_mptcp_endpoints(results);
                            next_endpoint_ = 0;
                            last_error_ = boost::asio::error::host_not_found;
                            connect_next();
                          });
}

void http_connection::connect_next() {
  if (next_endpoint_ >= endpoints_.size())
    return finish(connect_failure::connect, fmt::format("cannot connect to {} port {}: {}", origin_.host,
                                                        origin_.port, last_error_.message()));
  const auto endpoint = endpoints_[next_endpoint_++];
  // A fresh stream per attempt: a failed connect leaves a socket that cannot be reused.
  tls_stream_.reset();
  tls_.reset();
  plain_.emplace(executor_);
  error_code ec;
  const auto opened = mp::open_stream_socket(plain_->socket(),
                                             endpoint.address().is_v6() ? AF_INET6 : AF_INET, mode_, ec);
  if (ec) {
    if (!opened.fallback_reason.empty() && mode_ == mp::mptcp_mode::on)
      return finish(connect_failure::mptcp_refused, "--mptcp on: " + opened.fallback_reason);
    last_error_ = ec;
    return connect_next();
  }
  if (!opened.fallback_reason.empty() && !fallback_reported_) {
    spdlog::warn("MPTCP unavailable, using TCP: {}", opened.fallback_reason);
    fallback_reported_ = true;
  }
  spdlog::debug("connecting to {} port {}", endpoint.address().to_string(), endpoint.port());
  plain_->expires_after(connect_timeout_);
  plain_->async_connect(endpoint, [this](const error_code& connect_error) { on_tcp_connected(connect_error); });
}

void http_connection::on_tcp_connected(const error_code& ec) {
  if (ec) {
    last_error_ = ec == boost::beast::error::timeout ? boost::asio::error::timed_out : ec;
    return connect_next();
  }
  plain_->expires_never();
  std::error_code info_error;
  const auto stats = mp::query_connection(plain_->socket().native_handle(), info_error);
  mptcp_socket_ = stats.mptcp || stats.fallback;
  mptcp_connection_ = stats.mptcp;
  spdlog::info("connected to {} over {}", origin_.host_header,
               stats.mptcp     ? fmt::format("MPTCP (token {:08x})", stats.token)
               : stats.fallback ? std::string("TCP (the server does not speak MPTCP)")
                                : std::string("TCP"));
  if (stats.mptcp && on_mptcp_token) on_mptcp_token(stats.token);
  if (origin_.scheme != "https") {
    connected_ = true;
    return finish(connect_failure::none, {});
  }

  try {
    tls_ = std::make_unique<mp::tls_session>(tls_context_->native_handle(), mp::tls_session::role::client);
  } catch (const std::bad_alloc&) {
    return finish(connect_failure::tls_other, "no memory for a TLS session");
  }
  SSL* ssl = tls_->native_handle();
  error_code address_error;
  boost::asio::ip::make_address(origin_.host, address_error);
  // OpenSSL's own name check records why a name did not match, so the failure can say
  // "wrong host" instead of "unspecified error". SNI carries names, never address literals
  // (RFC 6066 §3).
  if (address_error) {
    if (!SSL_set_tlsext_host_name(ssl, origin_.host.c_str()))
      return finish(connect_failure::tls_other, "cannot set the TLS server name " + origin_.host);
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, origin_.host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), origin_.host.c_str());
  }
  static const unsigned char alpn[] = "\x08http/1.1";
  SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1);
  tls_stream_.emplace(*plain_, *tls_);
  plain_->expires_after(connect_timeout_);
  mp::async_tls_handshake(*plain_, *tls_, false, [this](const error_code& handshake_error) {
    plain_->expires_never();
    const long verify = SSL_get_verify_result(tls_->native_handle());
    if (handshake_error) {
      if (verify != X509_V_OK)
        return finish(connect_failure::tls_verify, describe_certificate_failure(verify, origin_.host));
      const std::string reason = handshake_error == mp::tls_error::handshake_failed ? tls_->last_error()
                                                                                      : handshake_error.message();
      return finish(connect_failure::tls_other, fmt::format("TLS handshake with {} failed: {}", origin_.host, reason));
    }
    if (!verify_ && verify != X509_V_OK)  // wget's warning: the check would have failed
      spdlog::warn("not checking {}'s certificate (--no-check-certificate): {}", origin_.host,
                   certificate_problem(verify, origin_.host));
    // From here on, over MPTCP, OpenSSL receives straight into its record buffer: as fast as
    // 32 KiB reads through the session's buffer, at 8 % less CPU. Over TCP, fallen-back MPTCP
    // included, direct reads were 3-16 % slower on loopback (docs/benchmarks.md, "through a buffer").
    if (mptcp_connection_) tls_->receive_directly_from(plain_->socket().native_handle());
    connected_ = true;
    finish(connect_failure::none, {});
  });
}

void http_connection::finish(connect_failure failure, std::string message) {
  if (failure != connect_failure::none) close();
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done({failure, std::move(message)});
}

}  // namespace mpfetch
