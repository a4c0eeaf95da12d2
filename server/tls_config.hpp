#pragma once
// The server's TLS context from --tls-cert and --tls-key. Everything that can be wrong with
// them (a missing or unreadable file, no PEM inside, a key for another certificate, a
// certificate that expired or is not valid yet, a passphrase-protected key) is found here at
// start, as one line, instead of as a failed handshake for every client.
//
// Protocols and ciphers follow Mozilla's "intermediate" profile, which nginx's documentation
// also points to: TLS 1.2 and 1.3, forward-secret AEAD suites only. ALPN offers http/1.1;
// session tickets allow resumption without a server-side cache.

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace mpserve {

struct ssl_context_free {
  void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};
using tls_context_ptr = std::unique_ptr<SSL_CTX, ssl_context_free>;

// nullptr with `error` set (one line naming the file) when the pair cannot serve.
tls_context_ptr make_server_tls_context(const std::string& certificate_file, const std::string& key_file,
                                        std::string& error);

}  // namespace mpserve
