// mpfetch: download a URL over MPTCP, wget-style.
#include "downloader.hpp"

#include "mp/logging.hpp"
#include "mp/pm_event_filter.hpp"
#include "mp/pm_events.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>

namespace {

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "mpfetch: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url_text;
  std::string output;
  std::string mode_text = "auto";
  double progress_seconds = 1.0;
  double connect_timeout = 30, read_timeout = 900, timeout = -1;
  std::string log_level = "info";
  std::string json_log;
  bool quiet = false;

  CLI::App app{"mpfetch: download over HTTP on Multipath TCP"};
  app.set_version_flag("--version", "mpfetch " MP_VERSION);
  app.add_option("URL", url_text, "the URL to download (http://)")->required();
  app.add_option("-O,--output-document", output, "write to FILE (default: named after the URL)");
  app.add_option("--mptcp", mode_text, "auto: MPTCP, TCP if the kernel refuses; on: MPTCP or fail; off: TCP")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--progress-interval", progress_seconds, "seconds between per-subflow progress lines (0: off)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("-T,--timeout", timeout, "set both --connect-timeout and --read-timeout, seconds")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--connect-timeout", connect_timeout, "seconds to wait for a connection (default 30)")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--read-timeout", read_timeout, "seconds a read may stall (default 900)")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_flag("-q,--quiet", quiet, "print errors only");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-json", json_log, "also write events as JSON lines to this file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int printed = app.exit(e);
    return printed == 0 ? 0 : mpfetch::exit_usage;  // --help and --version exit 0
  }

  auto parsed = mpfetch::parse_url(url_text);
  if (auto* error = std::get_if<std::string>(&parsed)) return fail(mpfetch::exit_usage, *error);

  mpfetch::download_options options;
  options.url = std::get<mpfetch::url_target>(parsed);
  options.mptcp = *mp::parse_mptcp_mode(mode_text);
  options.progress_interval = std::chrono::milliseconds(static_cast<long>(progress_seconds * 1000));
  if (timeout > 0) connect_timeout = read_timeout = timeout;
  options.connect_timeout = std::chrono::milliseconds(static_cast<long>(connect_timeout * 1000));
  options.read_timeout = std::chrono::milliseconds(static_cast<long>(read_timeout * 1000));
  options.output_path = !output.empty()
                            ? output
                            : mpfetch::unused_name(mpfetch::output_name_for(options.url),
                                                   [](const std::string& name) {
                                                     std::error_code ec;
                                                     return std::filesystem::exists(name, ec);
                                                   });
  try {
    mp::init_logging({quiet ? spdlog::level::err : spdlog::level::from_str(log_level), json_log});
  } catch (const std::exception& e) {
    return fail(mpfetch::exit_file_io, e.what());
  }
  std::signal(SIGPIPE, SIG_IGN);

  boost::asio::io_context io;
  mp::pm_event_monitor events(io.get_executor());
  // The kernel reports every MPTCP connection of the namespace; ours is known by its token,
  // which we learn after connecting, when its first events have already arrived.
  mp::pm_event_filter own_events;
  auto log_pm = [](const mp::pm_event& event) {
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

  mpfetch::download_result result;
  auto download = std::make_shared<mpfetch::downloader>(io.get_executor(), options);
  download->start([&](const mpfetch::download_result& outcome) {
    result = outcome;
    events.stop();
  });
  io.run();
  if (result.code != mpfetch::exit_ok) return fail(result.code, result.message);
  if (!quiet) std::fprintf(stderr, "mpfetch: saved %s\n", options.output_path.c_str());
  return 0;
}
