// mpfetch: download URLs over MPTCP, wget-style.
#include "checksum.hpp"
#include "downloader.hpp"
#include "output_name.hpp"
#include "progress_display.hpp"

#include "mp/logging.hpp"
#include "mp/pm_endpoints.hpp"
#include "mp/pm_event_filter.hpp"
#include "mp/pm_events.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>

namespace {

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "mpfetch: %s\n", message.c_str());
  return code;
}

// CAP_NET_ADMIN in the effective set: what changing the path manager's endpoints takes.
bool has_net_admin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32))) != 0;
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> url_texts;
  std::string output;
  std::string directory;
  std::string mode_text = "auto";
  std::string progress_text;
  std::string sha256_text;
  std::vector<std::string> header_texts;
  double progress_seconds = 1.0;
  double connect_timeout = 30, read_timeout = 900, timeout = -1, waitretry = 10;
  std::string log_level = "info";
  std::string json_log;
  bool quiet = false;
  mpfetch::download_options options;

  CLI::App app{"mpfetch: download over HTTP(S) on Multipath TCP, wget-style"};
  app.set_version_flag("--version", "mpfetch " MP_VERSION);
  app.add_option("URL", url_texts, "the URLs to download (http:// or https://)")->required();
  app.add_option("-O,--output-document", output, "write to FILE (- for standard output; default: named after the URL)");
  app.add_option("-P,--directory-prefix", directory, "save files in DIR");
  app.add_flag("-c,--continue", options.continue_partial, "resume a partial download left by an earlier run");
  app.add_option("-t,--tries", options.tries, "attempts per URL (default 20, 0: unlimited)")->check(CLI::Range(0, 1000000));
  app.add_option("--waitretry", waitretry, "longest wait between retries, seconds (default 10; backoff doubles up to it)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("-T,--timeout", timeout, "set both --connect-timeout and --read-timeout, seconds")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--connect-timeout", connect_timeout, "seconds to wait for a connection (default 30)")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--read-timeout", read_timeout, "seconds a read may stall (default 900)")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_flag("-q,--quiet", quiet, "print errors only");
  app.add_flag("-S,--server-response", options.print_headers, "print the response headers");
  app.add_option("--header", header_texts, "add a request header, 'Name: value' (repeatable)");
  app.add_option("-U,--user-agent", options.user_agent, "the User-Agent to send");
  app.add_option("--max-redirect", options.max_redirect, "redirects to follow (default 20)")->check(CLI::Range(0, 1000));
  app.add_option("--progress", progress_text, "bar (default on a terminal), dot (a line per interval), none")
      ->check(CLI::IsMember({"bar", "dot", "none"}));
  app.add_option("--progress-interval", progress_seconds, "seconds between progress updates (default 1)")
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--sha256", sha256_text, "expected SHA-256 (hex); a mismatch is an error and the file keeps its .part name");
  app.add_option("--mptcp", mode_text, "auto: MPTCP, TCP if the kernel refuses; on: MPTCP or fail; off: TCP")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  bool no_check_certificate = false;
  app.add_flag("--no-check-certificate", no_check_certificate, "do not verify the server's certificate");
  app.add_option("--ca-certificate", options.tls.ca_certificate, "trust the CA certificates in FILE (PEM) too");
  app.add_flag("--replug-stalled-paths", options.replug_stalled_paths,
               "when one MPTCP path goes silent and holds the download up, delete and re-add its "
               "endpoint so the server re-sends at once what was stuck on it (needs CAP_NET_ADMIN; "
               "changes the host's endpoints for a moment)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-json", json_log, "also write events as JSON lines to this file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(mpfetch::exit_usage, std::string(e.what()) + " (see mpfetch --help)");
  }

  // Everything the user typed is checked before anything touches the network.
  std::vector<mpfetch::download_job> jobs;
  for (const auto& text : url_texts) {
    auto parsed = mpfetch::parse_url(text);
    if (auto* error = std::get_if<std::string>(&parsed)) return fail(mpfetch::exit_usage, *error);
    jobs.push_back({std::get<mpfetch::url_target>(parsed), {}});
  }
  if (!output.empty() && jobs.size() > 1)
    return fail(mpfetch::exit_usage, "-O names one file; give one URL with it, or use -P DIR for several");
  if (!sha256_text.empty()) {
    options.sha256 = mpfetch::normalize_sha256_hex(sha256_text);
    if (!options.sha256) return fail(mpfetch::exit_usage, "--sha256 wants 64 hexadecimal digits, got '" + sha256_text + "'");
    if (jobs.size() > 1) return fail(mpfetch::exit_usage, "--sha256 checks one file; give one URL with it");
  }
  for (const auto& text : header_texts) {
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || text.find_first_of("\r\n") != std::string::npos)
      return fail(mpfetch::exit_usage, "--header wants 'Name: value', got '" + text + "'");
    std::string value = text.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    options.headers.emplace_back(text.substr(0, colon), value);
  }
  if (!directory.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) return fail(mpfetch::exit_file_io, "cannot create " + directory + ": " + ec.message());
  }
  for (auto& job : jobs) {
    if (!output.empty()) {
      job.output_path = output;
      continue;
    }
    // Never overwrite silently: wget's NAME.1 rule, except with -c, which continues NAME.
    job.output_path =
        options.continue_partial
            ? mpfetch::path_in_directory(directory, mpfetch::output_name_for(job.url))
            : mpfetch::choose_output_path(job.url, directory, [](const std::string& candidate) {
                std::error_code ec;
                return std::filesystem::exists(candidate, ec) ||
                       std::filesystem::exists(candidate + ".part", ec);
              });
  }
  const bool to_stdout = output == "-";
  if (to_stdout && options.continue_partial) return fail(mpfetch::exit_usage, "-c cannot resume standard output");

  options.mptcp = *mp::parse_mptcp_mode(mode_text);
  if (options.replug_stalled_paths) {
    if (options.mptcp == mp::mptcp_mode::off)
      return fail(mpfetch::exit_usage, "--replug-stalled-paths works on MPTCP paths; it cannot go with --mptcp off");
    if (!has_net_admin())
      return fail(mpfetch::exit_usage, "--replug-stalled-paths changes the MPTCP endpoints, which needs CAP_NET_ADMIN "
                                       "(run as root or grant it: setcap cap_net_admin+ep mpfetch)");
    mp::pm_endpoint_table endpoints;
    std::vector<mp::pm_endpoint> listed;
    std::error_code pm_error = endpoints.open();
    if (!pm_error) pm_error = endpoints.list(listed);
    if (pm_error)
      return fail(mpfetch::exit_generic, "--replug-stalled-paths: cannot read the kernel's MPTCP endpoints: " +
                                             pm_error.message());
  }
  options.progress_interval = seconds_to_ms(progress_seconds);
  options.waitretry = seconds_to_ms(waitretry);
  if (timeout > 0) connect_timeout = read_timeout = timeout;
  options.connect_timeout = seconds_to_ms(connect_timeout);
  options.read_timeout = seconds_to_ms(read_timeout);
  options.tls.verify = !no_check_certificate;
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  // As in wget, -q silences everything but errors, the headers of -S included.
  if (quiet) options.print_headers = false;
  if (quiet || progress_text == "none")
    options.progress = mpfetch::progress_style::none;
  else if (progress_text == "dot" || (progress_text.empty() && !terminal))
    options.progress = mpfetch::progress_style::lines;
  else
    options.progress = mpfetch::progress_style::bar;

  try {
    mp::init_logging({quiet ? spdlog::level::err : spdlog::level::from_str(log_level), json_log});
  } catch (const std::exception& e) {
    return fail(mpfetch::exit_file_io, e.what());
  }
  std::signal(SIGPIPE, SIG_IGN);

  mpfetch::progress_display display(STDERR_FILENO);
  if (options.progress == mpfetch::progress_style::bar) {
    options.draw_progress = [&display](const std::string& name, const mp::progress_report& report) {
      display.draw(name, report);
    };
    options.end_progress = [&display] { display.end(); };
  }

  boost::asio::io_context io;
  mp::pm_event_monitor events(io.get_executor());
  // The kernel reports every MPTCP connection of the namespace; ours is known by its token,
  // which we learn after connecting, when its first events have already arrived.
  mp::pm_event_filter own_events;
  auto log_pm = [&display](const mp::pm_event& event) {
    display.end();
    mp::log_event(spdlog::level::info, "pm_event", "[pm] " + mp::describe(event),
                  {{"type", std::string(mp::to_string(event.type))},
                   {"token", std::uint64_t{event.token}}});
  };
  options.on_mptcp_token = [&own_events, log_pm](std::uint32_t token) {
    for (const auto& earlier : own_events.watch_token(token)) log_pm(earlier);
  };
  if (options.mptcp != mp::mptcp_mode::off) {
    auto pm_error = events.start([&own_events, log_pm](const mp::pm_event& event) {
      for (const auto& ours : own_events.offer(event)) log_pm(ours);
    });
    if (pm_error) spdlog::debug("path-manager events unavailable: {}", pm_error.message());
  }

  std::vector<mpfetch::download_result> results;
  auto download = std::make_shared<mpfetch::downloader>(io.get_executor(), options);
  download->start(jobs, [&](std::vector<mpfetch::download_result> outcome) {
    results = std::move(outcome);
    events.stop();
  });
  io.run();
  display.end();

  int code = mpfetch::exit_ok;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& result = results[i];
    if (result.code != mpfetch::exit_ok) {
      std::fprintf(stderr, "mpfetch: %s\n", result.message.c_str());
      if (code == mpfetch::exit_ok) code = result.code;  // the first failure decides, as in wget
    } else if (!quiet && !to_stdout) {
      std::fprintf(stderr, "mpfetch: saved %s%s\n", jobs[i].output_path.c_str(),
                   result.retries == 0 ? ""
                   : result.retries == 1 ? " after 1 retry"
                                         : (" after " + std::to_string(result.retries) + " retries").c_str());
    }
  }
  return code;
}
