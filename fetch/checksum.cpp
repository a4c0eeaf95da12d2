#include "checksum.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <vector>

#include <unistd.h>

namespace mpfetch {

namespace {
constexpr std::size_t prefix_buffer_bytes = 256 * 1024;
}  // namespace

void sha256::context_deleter::operator()(evp_md_ctx_st* context) const noexcept {
  EVP_MD_CTX_free(context);
}

sha256::sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("cannot set up SHA-256 (OpenSSL)");
}

sha256::sha256(sha256&&) noexcept = default;
sha256& sha256::operator=(sha256&&) noexcept = default;
sha256::~sha256() = default;

void sha256::update(const void* data, std::size_t size) {
  // EVP_DigestUpdate only fails on a context that was never initialised.
  if (size > 0) EVP_DigestUpdate(context_.get(), data, size);
}

std::string sha256::hex_digest() const {
  // Finish a copy, so the running context can take more data.
  std::unique_ptr<evp_md_ctx_st, context_deleter> copy(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), context_.get()) != 1 ||
      EVP_DigestFinal_ex(copy.get(), digest, &size) != 1)
    throw std::runtime_error("cannot finish SHA-256 (OpenSSL)");
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  text.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    text += hex[digest[i] >> 4];
    text += hex[digest[i] & 0xf];
  }
  return text;
}

std::optional<std::string> normalize_sha256_hex(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  std::string normal(text);
  for (auto& c : normal) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return normal;
}

std::error_code hash_file_prefix(int fd, std::uint64_t length, sha256& hash) {
  std::vector<char> buffer(
      static_cast<std::size_t>(std::min<std::uint64_t>(length, prefix_buffer_bytes)));
  std::uint64_t done = 0;
  while (done < length) {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(length - done, buffer.size()));
    const ssize_t got = ::pread(fd, buffer.data(), want, static_cast<off_t>(done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return {errno, std::system_category()};
    }
    if (got == 0) return std::make_error_code(std::errc::io_error);
    hash.update(buffer.data(), static_cast<std::size_t>(got));
    done += static_cast<std::uint64_t>(got);
  }
  return {};
}

}  // namespace mpfetch
