#pragma once
// Downloads a list of URLs one after the other, wget-style: redirects, retries with backoff,
// resume from the bytes on disk with Range + If-Range, checksum verification, and a file that
// gets its final name only when it is whole. One connection is reused while the origin stays
// the same. Decisions (redirects, retries, resume, names) live in pure units; this class
// sequences the I/O.

#include "checksum.hpp"
#include "http_connection.hpp"
#include "output_file.hpp"
#include "path_replugger.hpp"
#include "redirects.hpp"
#include "resume_plan.hpp"
#include "retry_policy.hpp"
#include "url_target.hpp"

#include "mp/transfer_monitor.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace mpfetch {

// wget's exit codes.
enum exit_code : int {
  exit_ok = 0,
  exit_generic = 1,
  exit_usage = 2,
  exit_file_io = 3,
  exit_network = 4,
  exit_tls = 5,
  exit_protocol = 7,
  exit_server_error = 8,
};

enum class progress_style { bar, lines, none };

struct download_options {
  mp::mptcp_mode mptcp = mp::mptcp_mode::automatic;
  std::chrono::milliseconds progress_interval{1000};
  progress_style progress = progress_style::lines;
  std::chrono::milliseconds connect_timeout{30'000};
  std::chrono::milliseconds read_timeout{900'000};  // wget's default
  int tries = 20;                                    // 0: unlimited
  std::chrono::milliseconds waitretry{10'000};
  int max_redirect = 20;
  bool continue_partial = false;  // -c
  bool print_headers = false;     // -S
  std::optional<std::string> sha256;  // lower-case hex
  std::string user_agent = "mpfetch/" MP_VERSION;
  std::vector<std::pair<std::string, std::string>> headers;  // --header
  tls_options tls;
  // Called once connected over MPTCP, with the connection's token (to pick its PM events).
  std::function<void(std::uint32_t token)> on_mptcp_token;
  // Draws the terminal progress (bar style); nullptr: log lines.
  std::function<void(const std::string& name, const mp::progress_report&)> draw_progress;
  std::function<void()> end_progress;  // leaves the progress area before a log line
  // --replug-stalled-paths (needs CAP_NET_ADMIN): see path_replugger.hpp.
  bool replug_stalled_paths = false;
};

struct download_job {
  url_target url;
  std::string output_path;  // "-": standard output
};

struct download_result {
  int code = exit_generic;
  std::string message;  // one line for the user when code != 0
  std::uint64_t bytes = 0;
  int retries = 0;
};

class downloader : public std::enable_shared_from_this<downloader> {
public:
  downloader(boost::asio::any_io_executor executor, download_options options);

  // Runs the jobs in order; `done` gets one result per job.
  void start(std::vector<download_job> jobs, std::function<void(std::vector<download_result>)> done);

private:
  using response_parser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

  void start_job();
  void prepare_output();
  void attempt();
  void send_request();
  void on_header(const boost::system::error_code& ec);
  void handle_response();
  void start_body(body_action action, std::uint64_t offset);
  void read_sized_body();
  void read_parsed_body();
  void on_parsed_body(const boost::system::error_code& ec);
  bool write_body(const char* data, std::size_t size);
  void body_broke(const boost::system::error_code& ec);
  void complete_body();
  void retry_or_fail(failure_kind kind, int code, std::string message,
                     std::optional<std::chrono::milliseconds> delay = std::nullopt);
  void stop_replugger();
  void finish_job(int code, std::string message);

  boost::asio::any_io_executor executor_;
  download_options options_;
  http_connection connection_;
  boost::asio::steady_timer retry_timer_;
  std::mt19937 random_{std::random_device{}()};

  std::vector<download_job> jobs_;
  std::size_t current_job_ = 0;
  std::vector<download_result> results_;
  std::function<void(std::vector<download_result>)> done_;

  // The job being run.
  url_target url_;                       // after redirects
  std::optional<redirect_tracker> redirects_;
  int attempts_ = 0;
  bool reused_connection_ = false;
  output_file file_;
  local_state local_;                    // what is on disk and its validators
  resume_request asked_;
  boost::beast::http::request<boost::beast::http::empty_body> request_;
  boost::beast::flat_buffer buffer_;
  std::optional<response_parser> parser_;
  std::vector<char> body_buffer_;         // the largest read's size, touched once at the start
  std::size_t body_read_size_ = 0;        // what one read asks for on this connection
  std::uint64_t bytes_written_ = 0;      // this attempt
  std::uint64_t remaining_ = 0;          // of a Content-Length body
  bool sized_body_ = false;              // read by Content-Length, past the parser
  std::uint64_t expected_total_ = 0;     // whole file, when known
  std::optional<sha256> hash_;
  std::shared_ptr<mp::transfer_monitor> monitor_;
  std::shared_ptr<path_replugger> replugger_;
};

}  // namespace mpfetch
