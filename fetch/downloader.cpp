#include "downloader.hpp"

#include "mp/connection_info.hpp"
#include "mp/logging.hpp"
#include "mp/units.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace mpfetch {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// Large reads keep system calls few (docs/receive-methods.md); the buffer is per download.
// On TCP 1 MiB: data piles up while the file is written, and 256 KiB cost a third more CPU
// into fresh files. On MPTCP at most 256 KiB: 1 MiB reads that drained a backlog at once left
// the window update unheeded about once per GiB, and the server stalled on its 200 ms MPTCP
// retransmission timer (16 of 16 downloads clean with 256 KiB, 3 of 12 stalled with 512 KiB;
// docs/benchmarks.md). MPTCP reads come back ~100 KiB at a time anyway.
constexpr std::size_t tcp_body_buffer_size = 1 << 20;
constexpr std::size_t mptcp_body_buffer_size = 256 << 10;
constexpr std::size_t header_read_size = 64 * 1024;  // Beast reads at most this much at once

bool is_timeout(const error_code& ec) { return ec == beast::error::timeout; }

std::string header_value(const http::fields& fields, http::field name) {
  const auto it = fields.find(name);
  return it == fields.end() ? std::string() : std::string(it->value());
}

std::string describe_url(const url_target& url) {
  return url.scheme + "://" + url.host_header + url.target;
}

}  // namespace

downloader::downloader(boost::asio::any_io_executor executor, download_options options)
    : executor_(executor),
      options_(std::move(options)),
      connection_(executor, options_.mptcp, options_.connect_timeout),
      retry_timer_(executor),
      // Allocated and zero-filled here, once: done when the body started, the time it took
      // (and the page faults of a fresh buffer) let the first small receive window fill, and
      // over MPTCP the kernel then often announced the reopened window only with its
      // delayed-ACK (40 ms) or MPTCP retransmission (200 ms) timer (docs/benchmarks.md).
      body_buffer_(std::max(tcp_body_buffer_size, mptcp_body_buffer_size)) {
  connection_.on_mptcp_token = options_.on_mptcp_token;
}

void downloader::start(std::vector<download_job> jobs, std::function<void(std::vector<download_result>)> done) {
  jobs_ = std::move(jobs);
  done_ = std::move(done);
  current_job_ = 0;
  results_.clear();
  try {
    bool needs_tls = false;
    for (const auto& job : jobs_) needs_tls = needs_tls || job.url.scheme == "https";
    if (needs_tls) connection_.configure_tls(options_.tls);
  } catch (const std::exception& e) {
    for (std::size_t i = 0; i < jobs_.size(); ++i) results_.push_back({exit_tls, e.what(), 0, 0});
    auto finished = std::move(done_);
    return finished(results_);
  }
  start_job();
}

void downloader::start_job() {
  if (current_job_ >= jobs_.size()) {
    connection_.close();
    auto finished = std::move(done_);
    done_ = nullptr;
    if (finished) finished(results_);
    return;
  }
  const auto& job = jobs_[current_job_];
  url_ = job.url;
  redirects_.emplace(options_.max_redirect, url_);  // a redirect back to the start is a loop too
  attempts_ = 0;
  local_ = {};
  hash_.reset();
  results_.push_back({exit_ok, {}, 0, 0});
  prepare_output();
}

// What is on disk decides the first request: -c resumes NAME.part, or a shorter NAME left by
// an earlier run or another tool (it becomes NAME.part while it grows).
void downloader::prepare_output() {
  const auto& path = jobs_[current_job_].output_path;
  local_.part_bytes = 0;
  if (path == "-") return attempt();
  if (options_.continue_partial) {
    struct stat final_info {};
    if (output_file::part_size(path) == 0 && ::stat(path.c_str(), &final_info) == 0 &&
        S_ISREG(final_info.st_mode) && final_info.st_size > 0) {
      if (std::rename(path.c_str(), (path + ".part").c_str()) != 0)
        return finish_job(exit_file_io, fmt::format("cannot resume {}: {}", path, std::strerror(errno)));
    }
    local_.part_bytes = output_file::part_size(path);
    if (local_.part_bytes > 0) {
      std::string etag, last_modified;
      output_file::load_validators(path, etag, last_modified);
      if (!etag.empty()) local_.etag = etag;
      if (!last_modified.empty()) local_.last_modified = last_modified;
      spdlog::info("resuming {} from {}{}", path, mp::format_bytes(local_.part_bytes),
                   etag.empty() && last_modified.empty()
                       ? " (no validators kept: a changed file cannot be detected)"
                       : "");
    }
  } else if (output_file::part_size(path) > 0) {
    spdlog::warn("{}.part exists from an earlier run; starting over (-c resumes it)", path);
  }
  attempt();
}

void downloader::attempt() {
  ++attempts_;
  bytes_written_ = 0;
  if (connection_.usable_for(url_)) {
    reused_connection_ = true;
    return send_request();
  }
  reused_connection_ = false;
  connection_.async_connect(url_, [self = shared_from_this()](const connect_outcome& outcome) {
    switch (outcome.failure) {
      case connect_failure::none: return self->send_request();
      case connect_failure::tls_verify: return self->finish_job(exit_tls, outcome.message);
      case connect_failure::tls_other: return self->retry_or_fail(failure_kind::tls, exit_tls, outcome.message);
      case connect_failure::mptcp_refused: return self->finish_job(exit_network, outcome.message);
      case connect_failure::resolve:
      case connect_failure::connect: return self->retry_or_fail(failure_kind::network, exit_network, outcome.message);
    }
  });
}

void downloader::send_request() {
  asked_ = plan_request(local_);
  request_ = {http::verb::get, url_.target, 11};
  request_.set(http::field::host, url_.host_header);
  request_.set(http::field::user_agent, options_.user_agent);
  request_.set(http::field::accept, "*/*");
  request_.set(http::field::accept_encoding, "identity");
  if (asked_.offset > 0) {
    request_.set(http::field::range, fmt::format("bytes={}-", asked_.offset));
    if (asked_.if_range) request_.set(http::field::if_range, *asked_.if_range);
  }
  for (const auto& [name, value] : options_.headers) request_.set(name, value);
  request_.keep_alive(true);

  connection_.plain().expires_after(options_.read_timeout);
  connection_.visit([&](auto& stream) {
    http::async_write(stream, request_, [self = shared_from_this()](const error_code& ec, std::size_t) {
      if (ec) {
        self->connection_.close();
        if (self->reused_connection_) {  // the server closed the idle connection: not a failure
          --self->attempts_;
          return self->attempt();
        }
        return self->retry_or_fail(failure_kind::network, exit_network, "sending the request failed: " + ec.message());
      }
      self->parser_.emplace();
      self->parser_->body_limit(boost::none);
      self->buffer_.clear();
      // Beast reads a header into an empty buffer 512 bytes at a time. Over MPTCP that first
      // tiny read, taken from a receive window the server's first burst has filled, left the
      // window update lost: the server waited for its 200 ms MPTCP retransmission timer, twice
      // per download (docs/benchmarks.md). One large first read takes the header and the
      // body bytes behind it at once.
      self->buffer_.reserve(header_read_size);
      self->connection_.plain().expires_after(self->options_.read_timeout);
      self->connection_.visit([&](auto& s) {
        http::async_read_header(s, self->buffer_, *self->parser_,
                                [self](const error_code& read_error, std::size_t) { self->on_header(read_error); });
      });
    });
  });
}

void downloader::on_header(const error_code& ec) {
  if (ec) {
    connection_.close();
    // A server that drops an idle keep-alive connection shows as one of these; over TLS also as a
    // stream cut without close_notify, or (OpenSSL reading the socket itself) as a broken pipe.
    const bool closed = ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
                        ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe ||
                        ec == boost::asio::error::connection_aborted || ec == mp::tls_error::truncated;
    if (closed && reused_connection_) {  // a stale keep-alive connection: try a fresh one
      --attempts_;
      return attempt();
    }
    if (is_timeout(ec))
      return retry_or_fail(failure_kind::timeout, exit_network, "no response header within the read timeout");
    if (closed)
      return retry_or_fail(failure_kind::network, exit_network, "the server closed the connection before answering");
    return retry_or_fail(failure_kind::protocol, exit_protocol, "malformed response header: " + ec.message());
  }
  handle_response();
}

void downloader::handle_response() {
  const auto& response = parser_->get();
  const unsigned status = response.result_int();
  if (options_.print_headers) {
    if (options_.end_progress) options_.end_progress();
    std::ostringstream head;
    head << response.base();
    std::fprintf(stderr, "%s", head.str().c_str());
  }
  spdlog::info("HTTP {} {}", status, std::string(response.reason()));
  if (!response.keep_alive()) spdlog::debug("the server will close the connection after this response");

  if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
    const std::string location = header_value(response, http::field::location);
    if (location.empty()) return finish_job(exit_protocol, fmt::format("redirect {} without a Location", status));
    auto next = resolve_redirect(url_, location);
    if (auto* error = std::get_if<std::string>(&next)) return finish_job(exit_protocol, *error);
    auto& target = std::get<url_target>(next);
    if (auto error = redirects_->follow(target)) return finish_job(exit_protocol, *error);
    if (is_downgrade(url_, target)) spdlog::warn("redirected from https to plain http: {}", describe_url(target));
    spdlog::info("redirected to {}", describe_url(target));
    // The redirect's own body is not wanted: a connection with bytes left unread is closed.
    if (!(parser_->content_length() && *parser_->content_length() == 0 && response.keep_alive()))
      connection_.close();
    url_ = std::move(target);
    --attempts_;  // a redirect is not a failed try
    return attempt();
  }

  const auto server_said = fmt::format("server answered {} {}", status, std::string(response.reason()));
  if (status == 429 || status == 503 || status == 504) {
    connection_.close();
    const auto retry_after = parse_retry_after(header_value(response, http::field::retry_after), std::time(nullptr));
    std::optional<std::chrono::milliseconds> delay;
    if (retry_after) delay = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
    return retry_or_fail(failure_kind::server_busy, exit_server_error, server_said, delay);
  }

  response_head head;
  head.status = static_cast<int>(status);
  auto optional_header = [&](http::field name) -> std::optional<std::string> {
    auto value = header_value(response, name);
    if (value.empty()) return std::nullopt;
    return value;
  };
  head.content_range = optional_header(http::field::content_range);
  if (auto length = parser_->content_length()) head.content_length = *length;
  head.etag = optional_header(http::field::etag);
  head.last_modified = optional_header(http::field::last_modified);
  if (status >= 300 || (status < 200)) {
    if (status != 416) {
      connection_.close();
      const auto kind = classify_status(static_cast<int>(status));
      return retry_or_fail(kind, exit_server_error, server_said);
    }
  }
  const auto decision = plan_body(asked_, local_, head);
  if (decision.action == body_action::fail) {
    connection_.close();
    return retry_or_fail(failure_kind::protocol, exit_protocol, decision.message);
  }
  if (!decision.message.empty()) spdlog::warn("{}", decision.message);
  if (decision.action == body_action::restart_without_range) {
    // This answer is not the file (a 416 that does not match what we have): start over.
    connection_.close();
    local_ = {};
    --attempts_;
    return attempt();
  }
  expected_total_ = decision.total_size.value_or(0);
  // Validators for the next resume: those of the representation we are now writing.
  if (decision.action == body_action::restart || local_.part_bytes == 0) {
    local_.etag = head.etag;
    local_.last_modified = head.last_modified;
  }
  if (decision.action == body_action::already_complete) {
    connection_.close();
    const auto& path = jobs_[current_job_].output_path;
    std::error_code ec;
    file_.open_to_append(path, ec);
    if (ec) return finish_job(exit_file_io, fmt::format("cannot open {}.part: {}", path, ec.message()));
    spdlog::info("{} is already complete ({})", path, mp::format_bytes(local_.part_bytes));
    return complete_body();
  }
  start_body(decision.action, decision.offset);
}

void downloader::start_body(body_action action, std::uint64_t offset) {
  const auto& path = jobs_[current_job_].output_path;
  std::error_code ec;
  if (action == body_action::append && path != "-") {
    // Keep exactly the bytes the server is continuing from; a fresh 200 appends at 0.
    file_.open_to_append(path, ec);
    if (!ec) file_.truncate_to(offset, ec);
    local_.part_bytes = offset;
  } else {
    file_.open(path, ec);
    local_.part_bytes = 0;
  }
  if (!ec) file_.store_validators(local_.etag.value_or(""), local_.last_modified.value_or(""));
  if (ec) {
    connection_.close();
    return finish_job(exit_file_io, fmt::format("cannot write {}: {}", file_.part_path(), ec.message()));
  }
  if (options_.sha256) {
    hash_.emplace();
    if (local_.part_bytes > 0) {
      std::error_code read_error = hash_file_prefix(file_.fd(), local_.part_bytes, *hash_);
      if (read_error) {
        connection_.close();
        return finish_job(exit_file_io, fmt::format("cannot read {}: {}", file_.part_path(), read_error.message()));
      }
    }
  }

  mp::transfer_monitor::options monitor_options;
  monitor_options.label = "[" + (path == "-" ? std::string("stdout") : path) + "]";
  monitor_options.direction = mp::transfer_direction::receive;
  monitor_options.interval = options_.progress == progress_style::none ? std::chrono::milliseconds(0)
                                                                      : options_.progress_interval;
  if (auto length = parser_->content_length()) monitor_options.total_bytes = *length;
  monitor_options.summary_min_bytes = 1 << 20;  // a small file needs no per-subflow summary
  if (options_.draw_progress) {
    const std::string name = path;
    const std::uint64_t before = local_.part_bytes;
    const std::uint64_t total = expected_total_;
    monitor_options.reporter = [draw = options_.draw_progress, name, before, total](const mp::progress_report& report) {
      mp::progress_report whole = report;
      whole.bytes += before;  // the bar shows the file, resumed bytes included
      whole.total = total;
      draw(name, whole);
    };
    monitor_options.before_log = options_.end_progress;
  }
  monitor_ = mp::transfer_monitor::create(executor_, connection_.native_handle(), monitor_options,
                                          [this] { return bytes_written_; });
  monitor_->start();
  if (options_.replug_stalled_paths && connection_.is_mptcp_socket()) {
    replugger_ = path_replugger::create(executor_, connection_.native_handle(), options_.end_progress);
    replugger_->start();
  }
  body_read_size_ = connection_.is_mptcp_socket() ? mptcp_body_buffer_size : tcp_body_buffer_size;

  const auto length = parser_->content_length();
  if (length && !parser_->chunked()) {
    // A Content-Length body needs no parsing: take what came with the header, then read the
    // socket straight into the large buffer (through the parser each read would be sized by
    // the small header buffer, ~1 KiB, and over MPTCP that made downloads 10-30x slower).
    remaining_ = *length;
    sized_body_ = true;
    const auto early = buffer_.data();
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(early.size(), remaining_));
    if (take > 0 && !write_body(static_cast<const char*>(early.data()), take)) return;
    remaining_ -= take;
    buffer_.consume(buffer_.size());
    return read_sized_body();
  }
  buffer_.reserve(body_read_size_);  // chunked or close-delimited: the parser reads large too
  sized_body_ = false;
  read_parsed_body();
}

bool downloader::write_body(const char* data, std::size_t size) {
  std::error_code file_error;
  file_.write(data, size, file_error);
  if (file_error) {
    monitor_->cancel();
    stop_replugger();
    connection_.close();
    // Nothing already on disk is lost: the .part keeps what was written before.
    finish_job(exit_file_io, fmt::format("cannot write {}: {}", file_.part_path(), file_error.message()));
    return false;
  }
  if (hash_) hash_->update(data, size);
  bytes_written_ += size;
  return true;
}

void downloader::read_sized_body() {
  if (remaining_ == 0) return complete_body();
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, body_read_size_));
  connection_.plain().expires_after(options_.read_timeout);
  connection_.visit([&](auto& stream) {
    stream.async_read_some(boost::asio::buffer(body_buffer_.data(), want),
                           [self = shared_from_this()](const error_code& ec, std::size_t got) {
                             if (got > 0) {
                               if (!self->write_body(self->body_buffer_.data(), got)) return;
                               self->remaining_ -= got;
                             }
                             if (ec && self->remaining_ > 0) return self->body_broke(ec);
                             self->read_sized_body();
                           });
  });
}

void downloader::read_parsed_body() {
  if (parser_->is_done()) return complete_body();
  auto& body = parser_->get().body();
  body.data = body_buffer_.data();
  body.size = body_read_size_;
  connection_.plain().expires_after(options_.read_timeout);
  connection_.visit([&](auto& stream) {
    http::async_read(stream, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_parsed_body(ec); });
  });
}

void downloader::on_parsed_body(const error_code& ec) {
  const std::size_t got = body_read_size_ - parser_->get().body().size;
  if (got > 0 && !write_body(body_buffer_.data(), got)) return;
  if (ec && ec != http::error::need_buffer) return body_broke(ec);
  read_parsed_body();
}

// The body stopped before its end: what is on disk stays, and the next try resumes after it.
void downloader::body_broke(const error_code& ec) {
  monitor_->cancel();
  stop_replugger();
  connection_.close();
  local_.part_bytes += bytes_written_;
  const auto where = fmt::format("after {} of the body", mp::format_bytes(bytes_written_));
  if (is_timeout(ec)) return retry_or_fail(failure_kind::timeout, exit_network, "read timed out " + where);
  retry_or_fail(failure_kind::network, exit_network, "the connection broke " + where + ": " + ec.message());
}

void downloader::complete_body() {
  if (monitor_) {
    monitor_->finish();  // draws the last frame when there is a display
    stop_replugger();
    monitor_.reset();
    if (options_.end_progress) options_.end_progress();
  }
  // The connection serves the next URL only if this response ended cleanly where it said.
  const bool body_ended = sized_body_ ? remaining_ == 0 : parser_->is_done();
  if (!parser_->keep_alive() || !body_ended) connection_.close();
  const auto& path = jobs_[current_job_].output_path;
  const std::uint64_t on_disk = local_.part_bytes + bytes_written_;
  results_.back().bytes = on_disk;
  if (expected_total_ > 0 && on_disk != expected_total_ && path != "-")
    return finish_job(exit_protocol, fmt::format("{} has {} of {}; the server sent a short body", file_.part_path(),
                                                 on_disk, expected_total_));
  if (hash_) {
    const std::string actual = hash_->hex_digest();
    if (actual != *options_.sha256) {
      // Not renamed: the bytes stay in NAME.part for a look, never under the final name.
      file_.close();
      return finish_job(exit_generic, fmt::format("SHA-256 mismatch for {}: expected {}, got {}; the download stays in {}",
                                                  path, *options_.sha256, actual, file_.part_path()));
    }
    spdlog::info("SHA-256 verified: {}", actual);
  }
  std::error_code ec;
  file_.commit(ec);
  if (ec) return finish_job(exit_file_io, fmt::format("cannot finish {}: {}", file_.final_path(), ec.message()));
  finish_job(exit_ok, {});
}

void downloader::retry_or_fail(failure_kind kind, int code, std::string message,
                               std::optional<std::chrono::milliseconds> delay) {
  if (!is_retryable(kind) || !should_retry(attempts_, options_.tries)) {
    if (is_retryable(kind) && attempts_ > 1) message += fmt::format(" (gave up after {} tries)", attempts_);
    return finish_job(code, std::move(message));
  }
  const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  const auto wait = delay ? std::min<std::chrono::milliseconds>(*delay, default_max_retry_after)
                          : backoff_delay(attempts_, options_.waitretry, jitter);
  if (options_.end_progress) options_.end_progress();
  spdlog::warn("{}; retrying in {} (try {} of {})", message, mp::format_duration(wait.count() / 1000.0),
               attempts_ + 1, options_.tries == 0 ? std::string("unlimited") : std::to_string(options_.tries));
  results_.back().retries++;
  retry_timer_.expires_after(wait);
  retry_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->attempt();
  });
}

void downloader::stop_replugger() {
  if (!replugger_) return;
  replugger_->stop();
  replugger_.reset();
}

void downloader::finish_job(int code, std::string message) {
  if (monitor_) {
    monitor_->cancel();
    stop_replugger();
    monitor_.reset();
  }
  if (options_.end_progress) options_.end_progress();
  auto& result = results_.back();
  result.code = code;
  result.message = std::move(message);
  ++current_job_;
  // Let the stack unwind before the next job starts.
  boost::asio::post(executor_, [self = shared_from_this()] { self->start_job(); });
}

}  // namespace mpfetch
