#pragma once
// TLS in memory for tests: contexts for a test_pki's server and for clients that trust its
// CA, and a "network" that carries one session's output into the other's input.

#include "mp/tls_session.hpp"

#include "test_certificates.hpp"

#include <openssl/err.h>

#include <cstring>
#include <memory>
#include <string>

namespace mp::test {

struct ssl_ctx_free {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_free>;

inline ctx_ptr server_context(const test_pki& pki) {
  ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_use_certificate(ctx.get(), pki.server.get());
  SSL_CTX_use_PrivateKey(ctx.get(), pki.server_key.get());
  return ctx;
}

// Verifies the server's certificate; trusts the test CA unless told not to.
inline ctx_ptr client_context(const test_pki& pki, bool trust_ca = true) {
  ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
  if (trust_ca) X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), pki.ca.get());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

// Moves every byte of `from`'s output into `to`'s input, as a network would.
inline void carry(tls_session& from, tls_session& to) {
  const auto bytes = from.output();
  if (bytes.empty()) return;
  auto space = to.input_space(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  to.commit_input(bytes.size());
  from.consume_output(bytes.size());
}

// Runs both handshakes to their end; returns the client's outcome. After a success the client
// also reads what followed (TLS 1.3 session tickets), as a real client would.
inline tls_status handshake_in_memory(tls_session& client, tls_session& server) {
  tls_status client_status = tls_status::want_input, server_status = tls_status::want_input;
  for (int round = 0; round < 10; ++round) {
    if (client_status == tls_status::want_input) client_status = client.handshake();
    carry(client, server);
    if (server_status == tls_status::want_input) server_status = server.handshake();
    carry(server, client);
    if (client_status != tls_status::want_input && server_status != tls_status::want_input) break;
  }
  if (client_status == tls_status::ok) {
    char byte;
    std::size_t peeked = 0;
    SSL_peek_ex(client.native_handle(), &byte, 1, &peeked);  // processes records, keeps data
    ERR_clear_error();
  }
  return client_status;
}

// Plaintext until the session has no more.
inline std::string read_all(tls_session& session) {
  std::string text;
  char chunk[4096];
  tls_status status = tls_status::ok;
  while (status == tls_status::ok) {
    const auto n = session.read(chunk, sizeof chunk, status);
    text.append(chunk, n);
  }
  return text;
}

// A client and a server session over the given contexts.
struct session_pair {
  tls_session server, client;
  session_pair(SSL_CTX* server_ctx, SSL_CTX* client_ctx)
      : server(server_ctx, tls_session::role::server), client(client_ctx, tls_session::role::client) {}
};

}  // namespace mp::test
