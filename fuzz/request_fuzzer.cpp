// libFuzzer target: bytes as what a client sends mpserve. Beast's request parser with the
// server's limits; then, as the session does, admission and the whole static responder
// (target decoding, path resolution under a small directory, conditionals, ranges, multipart
// planning, listings) against files made once per process, once without and once with the
// small-file cache, which must not change the status or the length. Headers and targets also go
// through the pure evaluators directly, with sizes that straddle 4 GiB.
#include "byte_ranges.hpp"
#include "conditional_request.hpp"
#include "path_resolver.hpp"
#include "request_admission.hpp"
#include "server_config.hpp"
#include "small_file_cache.hpp"
#include "static_responder.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/empty_body.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

namespace http = boost::beast::http;

// A served directory with a file, a subdirectory with an index, an empty file, a name that
// needs escaping, and a symlink that leaves the root.
int served_root() {
  static const int root = [] {
    char pattern[] = "/tmp/mpserve-fuzz-XXXXXX";
    const std::string dir = ::mkdtemp(pattern);
    std::ofstream(dir + "/a.txt") << "0123456789abcdefghijklmnopqrstuvwxyz";
    ::mkdir((dir + "/sub").c_str(), 0755);
    std::ofstream(dir + "/sub/index.html") << "<p>index</p>";
    std::ofstream(dir + "/empty.bin");
    std::ofstream(dir + "/<b>&\"q\".txt") << "x";
    [[maybe_unused]] const int linked = ::symlink("/etc", (dir + "/out").c_str());
    return ::open(dir.c_str(), O_PATH | O_DIRECTORY);
  }();
  return root;
}

// A plan's body as it would go on the wire: bytes in memory, then ranges of its file.
std::string body_bytes(const mpserve::response_plan& plan) {
  std::string out;
  for (const auto& piece : plan.body) {
    out += piece.bytes;
    if (piece.length == 0) continue;
    std::string range(static_cast<std::size_t>(piece.length), '\0');
    const ssize_t got = ::pread(plan.file.fd.get(), range.data(), range.size(), static_cast<off_t>(piece.offset));
    out.append(range, 0, got > 0 ? static_cast<std::size_t>(got) : 0);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mpserve::server_config config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(config.header_limit));
  parser.body_limit(config.request_body_limit);
  parser.eager(false);  // the header is what the server acts on
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  if (parser.is_header_done()) {
    const auto& request = parser.get();
    if (!mpserve::refuse_request(request.base(), parser.chunked(), config.target_limit)) {
      mpserve::admitted_request admitted;
      mpserve::admit_request(request.base(), admitted);
      auto plan = mpserve::plan_static_response(admitted.view, served_root(), config);
      // The small-file cache must never change the answer: same status, same length, and
      // the same body bytes (multipart aside: its boundary is random).
      static mpserve::small_file_cache cache(8, mpserve::server_config::small_file_size_limit,
                                             std::chrono::milliseconds(0));
      const auto cached = mpserve::plan_static_response(admitted.view, served_root(), config, &cache);
      const auto type = plan.header[http::field::content_type];
      if (plan.header.result() != cached.header.result() ||
          plan.header[http::field::content_length] != cached.header[http::field::content_length] ||
          (!type.starts_with("multipart/") && body_bytes(plan) != body_bytes(cached)))
        __builtin_trap();
      for (const std::uint64_t file_size : {std::uint64_t{0}, std::uint64_t{36}, std::uint64_t{5} << 30}) {
        const auto ranges = mpserve::evaluate_range(admitted.view.range, file_size);
        if (ranges.ranges.size() > 1)
          (void)mpserve::plan_multipart(ranges.ranges, file_size, "text/plain", "00000000000000000001");
      }
    }
  }

  // The raw bytes as a target and as header values, without the parser's filtering.
  (void)mpserve::resolve_target(text);
  (void)mpserve::evaluate_range(text, 1000);
  const mpserve::representation_validators validators{"\"abc-1-2\"", 1'000'000'000};
  (void)mpserve::if_range_permits_ranges(text, validators);
  mpserve::request_conditions conditions;
  conditions.if_match = text;
  conditions.if_none_match = text;
  conditions.if_modified_since = text;
  conditions.if_unmodified_since = text;
  (void)mpserve::evaluate_preconditions(true, conditions, validators);
  return 0;
}
