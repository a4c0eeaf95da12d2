// mpserve: a static file server over MPTCP, a drop-in for `python -m http.server`.
#include "listener.hpp"
#include "pm_event_log.hpp"
#include "tls_config.hpp"

#include "mp/kernel_tls.hpp"
#include "mp/logging.hpp"
#include "mp/resolve.hpp"
#include "mp/tls_session.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

namespace {

namespace asio = boost::asio;
using mpserve::server_config;

int fail(const std::string& message) {
  std::fprintf(stderr, "mpserve: %s\n", message.c_str());
  return 1;
}

std::string url_host(const asio::ip::address& address) {
  return address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
}

// Every connection holds a descriptor, and the usual soft limit (1024) is far below what a
// server meets: take the hard limit, as servers commonly do at start (nginx has
// worker_rlimit_nofile for it), and say so when even that is below --max-connections.
void raise_descriptor_limit(std::size_t max_connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  // listener, log files, netlink, files being sent, and the files kept mapped
  constexpr rlim_t reserve = 64 + mpserve::server_config::mapped_file_entries;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < max_connections + reserve)
    spdlog::warn("descriptor limit {} is below --max-connections {} + {}: past about {} connections, "
                 "accepting pauses until one closes (raise it with ulimit -n)",
                 limit.rlim_cur, max_connections, reserve, limit.rlim_cur > reserve ? limit.rlim_cur - reserve : 0);
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace

int main(int argc, char** argv) {
  server_config config;
  std::string mode_text = "auto";
  std::string body_method_text = "auto";
  std::string ktls_text = "auto";
  double progress_seconds = 1.0;
  double grace_seconds = 10.0;
  long keepalive_seconds = 75;
  long header_seconds = 30;
  long send_seconds = 60;
  std::string log_level = "info";
  std::string json_log;
  int port_option = -1;
  int port_positional = -1;
  unsigned threads = 0;
  double mapped_gib = 16;

  CLI::App app{"mpserve: serve a directory over HTTP on Multipath TCP"};
  app.set_version_flag("--version", "mpserve " MP_VERSION);
  app.add_option("port", port_positional, "port to listen on (like python -m http.server)")
      ->check(CLI::Range(0, 65535));
  app.add_option("-p,--port", port_option, "port to listen on (default 8000; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("-b,--bind", config.bind_address, "address to bind (default: all, IPv6 and IPv4)");
  app.add_option("-d,--directory", config.directory, "directory to serve (default: current)");
  app.add_option("--mptcp", mode_text, "auto: MPTCP, TCP if the kernel refuses; on: MPTCP or fail; off: TCP")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--threads", threads, "worker threads (default: one per core)")->check(CLI::Range(1u, 256u));
  app.add_option("--progress-interval", progress_seconds,
                 "seconds between per-subflow progress lines (0: off)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--access-log", config.access_log,
                 "combined-format access log: FILE, - for standard output, off (default: the console log)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-json", json_log, "also write events as JSON lines to this file");
  app.add_flag("--follow-symlinks", config.follow_symlinks,
               "serve symlinks that lead outside the directory (default: 403)");
  app.add_option("--tls-cert", config.tls_certificate,
                 "serve HTTPS with this PEM certificate (the chain after it); needs --tls-key");
  app.add_option("--tls-key", config.tls_key, "the PEM private key of --tls-cert (no passphrase)");
  app.add_option("--ktls", ktls_text,
                 "HTTPS over plain TCP: auto (the kernel encrypts where it offers kTLS), off")
      ->check(CLI::IsMember({"auto", "off"}));
  app.add_option("--body-method", body_method_text,
                 "how file bodies are sent: auto (TCP: sendfile; MPTCP: copy, and mmap for a file of 1 MiB "
                 "or more from its second request on), sendfile, copy, mmap (still copy for a file's first "
                 "request, files under 1 MiB and HTTPS encrypted in user space)")
      ->check(CLI::IsMember({"auto", "sendfile", "copy", "mmap"}));
  app.add_option("--mapped-files", mapped_gib,
                 "GiB of large files kept mapped across requests to be sent from memory (default 16; "
                 "0: off, they are copied)")
      ->check(CLI::Range(0.0, 1024.0));
  app.add_option("--small-file-cache", config.small_file_cache_entries,
                 "files up to 16 KiB kept in memory per thread (at most N x 16 KiB), checked "
                 "against the disk on every request (default 256; 0: off; at most 4096)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{4096}));
  app.add_option("--max-connections", config.max_connections, "connections open at once (default 4096)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--keepalive-timeout", keepalive_seconds, "seconds an idle connection stays open (default 75)")
      ->check(CLI::Range(1L, 86400L));
  app.add_option("--header-timeout", header_seconds,
                 "seconds a new connection may take to send its first request header (default 30)")
      ->check(CLI::Range(1L, 86400L));
  app.add_option("--send-timeout", send_seconds,
                 "seconds a client may accept no data before it is dropped (default 60)")
      ->check(CLI::Range(1L, 86400L));
  app.add_option("--grace-period", grace_seconds,
                 "on SIGINT/SIGTERM, seconds running transfers may take to finish (default 10)")
      ->check(CLI::Range(0.0, 86400.0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "mpserve: %s (see mpserve --help)\n", e.what());
    return 2;
  }

  if (port_option >= 0 && port_positional >= 0 && port_option != port_positional)
    return fail("two different ports given (" + std::to_string(port_positional) + " and --port " +
                std::to_string(port_option) + ")");
  if (port_option >= 0) config.port = static_cast<std::uint16_t>(port_option);
  if (port_positional >= 0) config.port = static_cast<std::uint16_t>(port_positional);
  config.mptcp = *mp::parse_mptcp_mode(mode_text);
  config.progress_interval = seconds_to_ms(progress_seconds);
  config.grace_period = seconds_to_ms(grace_seconds);
  config.keepalive_timeout = std::chrono::seconds(keepalive_seconds);
  config.header_timeout = std::chrono::seconds(header_seconds);
  config.send_timeout = std::chrono::seconds(send_seconds);
  if (body_method_text == "sendfile") config.forced_body_method = mpserve::body_method::sendfile;
  if (body_method_text == "copy") config.forced_body_method = mpserve::body_method::copy;
  if (body_method_text == "mmap") config.forced_body_method = mpserve::body_method::mapped;
  config.mapped_file_limit = static_cast<std::uint64_t>(mapped_gib * double(std::uint64_t{1} << 30));
  config.threads = threads ? threads : std::max(1u, std::thread::hardware_concurrency());

  if (config.tls_certificate.empty() != config.tls_key.empty())
    return fail(config.tls_key.empty() ? "--tls-cert needs --tls-key" : "--tls-key needs --tls-cert");
  mpserve::tls_context_ptr tls_context;
  if (!config.tls_certificate.empty()) {
    std::string tls_error;
    tls_context = mpserve::make_server_tls_context(config.tls_certificate, config.tls_key, tls_error);
    if (!tls_context) return fail(tls_error);
  }

  std::unique_ptr<mpserve::access_log> access;
  try {
    mp::init_logging({spdlog::level::from_str(log_level), json_log});
    access = std::make_unique<mpserve::access_log>(config.access_log);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::signal(SIGPIPE, SIG_IGN);

  std::error_code root_error;
  auto root = mpserve::open_root(config.directory, root_error);
  if (root_error) return fail("cannot serve " + config.directory + ": " + root_error.message());
  if (::access(config.directory.c_str(), R_OK | X_OK) != 0)
    return fail("cannot serve " + config.directory + ": " + std::strerror(errno));
  mpserve::server_state server(config, std::move(root), std::move(access));
  server.tls_context = tls_context.get();

  raise_descriptor_limit(config.max_connections);
  asio::io_context io;  // accepting, signals, path-manager events
  std::vector<std::unique_ptr<asio::io_context>> workers;
  std::vector<asio::io_context*> worker_pointers;
  for (unsigned i = 0; i < config.threads; ++i) {
    workers.push_back(std::make_unique<asio::io_context>(1));
    worker_pointers.push_back(workers.back().get());
  }

  boost::system::error_code ec;
  mp::mptcp::endpoint where;
  if (config.bind_address.empty()) {
    where = mp::mptcp::endpoint(asio::ip::address_v6::any(), config.port);
  } else {
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = mp::resolve(resolver, config.bind_address, std::to_string(config.port), ec);
    if (ec || endpoints.empty())
      return fail("cannot resolve bind address " + config.bind_address + ": " + ec.message());
    where = endpoints.front();
  }

  auto server_listener = std::make_shared<mpserve::listener>(io, server, worker_pointers);
  auto opened = server_listener->open(where, ec);
  if (ec && config.bind_address.empty() && ec == asio::error::address_family_not_supported) {
    where = mp::mptcp::endpoint(asio::ip::address_v4::any(), config.port);  // no IPv6 here
    ec.clear();
    opened = server_listener->open(where, ec);
  }
  if (ec) {
    if (!opened.fallback_reason.empty() && config.mptcp == mp::mptcp_mode::on)
      return fail("--mptcp on: " + opened.fallback_reason);
    return fail("cannot listen on " + url_host(where.address()) + " port " +
                std::to_string(config.port) + ": " + ec.message());
  }
  const auto bound = server_listener->local_endpoint();
  const char* scheme = tls_context ? "https" : "http";
  std::printf("Serving %s on %s port %u (%s://%s:%u/) ...\n", tls_context ? "HTTPS" : "HTTP",
              bound.address().to_string().c_str(), bound.port(), scheme, url_host(bound.address()).c_str(),
              bound.port());
  server.listener_is_mptcp = opened.mptcp;
  if (opened.mptcp) {
    std::printf("Listening socket is MPTCP\n");
  } else if (!opened.fallback_reason.empty()) {
    std::printf("Listening socket fell back to TCP: %s\n", opened.fallback_reason.c_str());
    spdlog::warn("MPTCP unavailable, serving over TCP: {}", opened.fallback_reason);
  } else {
    std::printf("Listening socket is TCP (--mptcp off)\n");
  }
  if (tls_context) {
    // Where the kernel takes over encryption, file bodies leave by sendfile with no copy
    // through user space. Only plain TCP sockets take it: an MPTCP socket refuses the
    // kernel's TLS layer even when the connection fell back to TCP (docs/tls.md).
    const char* why_not = "--ktls off";
    if (ktls_text == "auto" && !opened.mptcp && mp::kernel_tls::available(why_not)) {
      server.kernel_tls = true;
      mp::tls_session::allow_kernel_send(tls_context.get());
      std::printf("TLS is encrypted by the kernel (kTLS)%s\n",
                  config.forced_body_method && config.forced_body_method != mpserve::body_method::sendfile
                      ? "" : ": file bodies leave by sendfile");
    } else {
      if (opened.mptcp && ktls_text == "auto") why_not = "MPTCP sockets cannot use the kernel's TLS (kTLS); --mptcp off can";
      std::printf("TLS is encrypted in user space: %s\n", why_not);
    }
  }
  std::fflush(stdout);

  mpserve::pm_event_log events(io.get_executor(), server, bound.port());
  if (opened.mptcp) {
    if (auto pm_error = events.start())
      spdlog::warn("path-manager events unavailable ({}); subflow joins and closes are not logged",
                   pm_error.message());
  }

  using work_guard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<work_guard> guards;
  for (auto& worker : workers) guards.push_back(asio::make_work_guard(*worker));
  auto stop_everything = [&] {
    for (auto& guard : guards) guard.reset();
    for (auto& worker : workers) worker->stop();
    io.stop();
  };

  // First signal: stop accepting, close idle connections, let transfers finish within the
  // grace period. A second signal, or the end of the grace period, ends everything.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer drain_timer(io);
  bool forced = false;
  const auto stop_requested_at = std::make_shared<std::chrono::steady_clock::time_point>();
  std::function<void()> check_drained = [&] {
    drain_timer.expires_after(std::chrono::milliseconds(50));
    drain_timer.async_wait([&](const boost::system::error_code& wait_error) {
      if (wait_error) return;
      if (server.connections() == 0) return stop_everything();
      const auto waited = std::chrono::steady_clock::now() - *stop_requested_at;
      if (waited >= config.grace_period + std::chrono::seconds(2)) return stop_everything();
      if (waited >= config.grace_period && !forced) {
        // End the transfers still running, so each is logged and closed, then wait briefly.
        forced = true;
        spdlog::info("grace period over: closing {} connection(s)", server.connections());
        server.begin_stop([](const std::shared_ptr<mpserve::http_session>& session) {
          asio::post(session->get_executor(), [session] { session->force_close(); });
        });
      }
      check_drained();
    });
  };
  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& signal_error, int signal_number) {
      if (signal_error) return;
      if (server.stopping()) {
        spdlog::info("signal {} again: stopping now", signal_number);
        return stop_everything();
      }
      spdlog::info("signal {}: no longer accepting; {} connection(s) open", signal_number,
                   server.connections());
      *stop_requested_at = std::chrono::steady_clock::now();
      server_listener->stop();
      events.stop();
      server.begin_stop([](const std::shared_ptr<mpserve::http_session>& session) {
        asio::post(session->get_executor(), [session] { session->stop_when_idle(); });
      });
      check_drained();
      wait_for_signal();
    });
  };
  wait_for_signal();

  // A mapping kept of a deleted file holds the file's disk space: look for such files now
  // and then, also while no request comes (the requests' own lookups never meet them again).
  asio::steady_timer mapping_check(io);
  std::function<void()> check_mappings = [&] {
    mapping_check.expires_after(mpserve::server_config::mapped_file_check);
    mapping_check.async_wait([&](const boost::system::error_code& wait_error) {
      if (wait_error) return;
      if (const auto dropped = server.mappings.drop_removed())
        spdlog::debug("dropped the mappings of {} deleted file(s)", dropped);
      check_mappings();
    });
  };
  if (config.mapped_file_limit > 0) check_mappings();

  server_listener->run();
  std::vector<std::thread> threads_running;
  for (auto& worker : workers)
    threads_running.emplace_back([&worker] {
      // An exception from one request (std::bad_alloc, say) must not end the server.
      for (;;) {
        try {
          worker->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("a connection failed: {}", e.what());
        }
      }
    });
  io.run();
  for (auto& thread : threads_running) thread.join();
  return 0;
}
