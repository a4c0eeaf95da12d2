// libFuzzer target: bytes as what a server sends mpfetch. Beast's response parser as the
// downloader sets it up (chunked bodies decoded), then everything mpfetch derives from the
// header: the resume decision (Content-Range, ETag, Last-Modified against a partial file),
// the redirect target (Location resolved against the URL, its output name), Retry-After.
// The raw bytes also go through the URL, Content-Range and file-name functions directly.
#include "output_name.hpp"
#include "redirects.hpp"
#include "reference_resolution.hpp"
#include "resume_plan.hpp"
#include "retry_policy.hpp"
#include "url_target.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <string>
#include <variant>

namespace {

namespace http = boost::beast::http;

std::optional<std::string> field(const http::fields& fields, http::field name) {
  const auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  return std::string(it->value());
}

const mpfetch::url_target& base_url() {
  static const auto base = std::get<mpfetch::url_target>(mpfetch::parse_url("https://example.test:8443/dir/file.iso?x=1"));
  return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);  // mpfetch streams bodies; here they are kept, so bounded
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  if (!ec) parser.put_eof(ec);  // a close-delimited body ends here
  if (parser.is_header_done()) {
    const auto& response = parser.get();
    mpfetch::response_head head;
    head.status = static_cast<int>(response.result_int());
    head.content_range = field(response, http::field::content_range);
    if (auto length = parser.content_length()) head.content_length = *length;
    head.etag = field(response, http::field::etag);
    head.last_modified = field(response, http::field::last_modified);
    for (const auto& local : {mpfetch::local_state{}, mpfetch::local_state{1000, "\"abc\"", std::nullopt},
                              mpfetch::local_state{1u << 31, std::nullopt, "Sun, 06 Nov 1994 08:49:37 GMT"}}) {
      (void)mpfetch::plan_body(mpfetch::plan_request(local), local, head);
      (void)mpfetch::validators_changed(local, head);
    }
    if (auto location = field(response, http::field::location)) {
      const auto target = mpfetch::resolve_redirect(base_url(), *location);
      if (const auto* url = std::get_if<mpfetch::url_target>(&target)) {
        (void)mpfetch::is_downgrade(base_url(), *url);
        (void)mpfetch::output_name_for(*url);
        (void)mpfetch::url_text(*url);
      }
    }
    if (auto retry_after = field(response, http::field::retry_after))
      (void)mpfetch::parse_retry_after(*retry_after, 784111777);
  }

  (void)mpfetch::parse_content_range(text);
  (void)mpfetch::resolve_reference("http://h/a/b/c?q", text);
  (void)mpfetch::safe_file_name(text);
  const auto parsed = mpfetch::parse_url(text);
  if (const auto* url = std::get_if<mpfetch::url_target>(&parsed)) (void)mpfetch::output_name_for(*url);
  return 0;
}
