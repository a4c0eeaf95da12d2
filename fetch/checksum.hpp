#pragma once
// SHA-256 for --sha256: fed as the body arrives, and over the bytes already on disk when a
// download resumes, so verifying never needs a second pass over a finished file.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace mpfetch {

class sha256 {
public:
  sha256();  // throws std::runtime_error when OpenSSL cannot set up the digest
  sha256(sha256&&) noexcept;  // a moved-from sha256 may only be assigned to or destroyed
  sha256& operator=(sha256&&) noexcept;
  ~sha256();

  void update(const void* data, std::size_t size);
  // The digest of everything so far, in lower-case hex; more updates may follow.
  std::string hex_digest() const;

private:
  struct context_deleter {
    void operator()(evp_md_ctx_st* context) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, context_deleter> context_;
};

// A user's --sha256 argument as 64 lower-case hex digits; nullopt unless it is exactly 64 hex
// digits (either case).
std::optional<std::string> normalize_sha256_hex(std::string_view text);

// Feeds the first `length` bytes of `fd` to `hash` with pread (the file offset is untouched),
// through a bounded buffer. EIO when the file ends before `length`.
std::error_code hash_file_prefix(int fd, std::uint64_t length, sha256& hash);

}  // namespace mpfetch
