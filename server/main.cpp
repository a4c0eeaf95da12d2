// mpserve: a static file server over MPTCP.
#include "listener.hpp"

#include "mp/logging.hpp"
#include "mp/pm_event_filter.hpp"
#include "mp/pm_events.hpp"
#include "mp/resolve.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

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

}  // namespace

int main(int argc, char** argv) {
  server_config config;
  std::string mode_text = "auto";
  double progress_seconds = 1.0;
  std::string log_level = "info";
  std::string json_log;
  int port_option = -1;
  int port_positional = -1;

  CLI::App app{"mpserve: serve a directory over HTTP on Multipath TCP"};
  app.set_version_flag("--version", "mpserve " MP_VERSION);
  app.add_option("port", port_positional, "port to listen on (like python -m http.server)")
      ->check(CLI::Range(0, 65535));
  app.add_option("-p,--port", port_option, "port to listen on (default 8000)")
      ->check(CLI::Range(0, 65535));
  app.add_option("-b,--bind", config.bind_address, "address to bind (default: all, IPv6 and IPv4)");
  app.add_option("-d,--directory", config.directory, "directory to serve (default: current)");
  app.add_option("--mptcp", mode_text, "auto: MPTCP, TCP if the kernel refuses; on: MPTCP or fail; off: TCP")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--progress-interval", progress_seconds,
                 "seconds between per-subflow progress lines (0: off)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-json", json_log, "also write events as JSON lines to this file");
  CLI11_PARSE(app, argc, argv);

  if (port_option >= 0 && port_positional >= 0 && port_option != port_positional)
    return fail("two different ports given (" + std::to_string(port_positional) + " and --port " +
                std::to_string(port_option) + ")");
  if (port_option >= 0) config.port = static_cast<std::uint16_t>(port_option);
  if (port_positional >= 0) config.port = static_cast<std::uint16_t>(port_positional);
  config.mptcp = *mp::parse_mptcp_mode(mode_text);
  config.progress_interval = std::chrono::milliseconds(static_cast<long>(progress_seconds * 1000));

  try {
    mp::init_logging({spdlog::level::from_str(log_level), json_log});
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::signal(SIGPIPE, SIG_IGN);

  mpserve::server_context context{config, {}};
  std::error_code root_error;
  context.root = mpserve::open_root(config.directory, root_error);
  if (root_error) return fail("cannot serve " + config.directory + ": " + root_error.message());

  asio::io_context io;
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

  auto server = std::make_shared<mpserve::listener>(io, context);
  auto opened = server->open(where, ec);
  if (ec && config.bind_address.empty() && ec == asio::error::address_family_not_supported) {
    where = mp::mptcp::endpoint(asio::ip::address_v4::any(), config.port);  // no IPv6 here
    ec.clear();
    opened = server->open(where, ec);
  }
  if (ec) {
    if (!opened.fallback_reason.empty() && config.mptcp == mp::mptcp_mode::on)
      return fail("--mptcp on: " + opened.fallback_reason);
    return fail("cannot listen on " + url_host(where.address()) + ":" +
                std::to_string(config.port) + ": " + ec.message());
  }
  const auto bound = server->local_endpoint();
  std::printf("Serving HTTP on %s port %u (http://%s:%u/) ...\n", bound.address().to_string().c_str(),
              bound.port(), url_host(bound.address()).c_str(), bound.port());
  if (opened.mptcp) {
    std::printf("Listening socket is MPTCP\n");
  } else if (!opened.fallback_reason.empty()) {
    std::printf("Listening socket fell back to TCP: %s\n", opened.fallback_reason.c_str());
    spdlog::warn("MPTCP unavailable, serving over TCP: {}", opened.fallback_reason);
  }
  else
    std::printf("Listening socket is TCP (--mptcp off)\n");
  std::fflush(stdout);

  mp::pm_event_monitor events(io.get_executor());
  mp::pm_event_filter own_events;  // the kernel reports every connection; log only ours
  own_events.watch_listener_port(bound.port());
  if (opened.mptcp) {
    auto pm_error = events.start([&own_events](const mp::pm_event& event) {
      for (const auto& ours : own_events.offer(event))
        mp::log_event(spdlog::level::info, "pm_event", "[pm] " + mp::describe(ours),
                      {{"type", std::string(mp::to_string(ours.type))},
                       {"token", std::uint64_t{ours.token}}});
    });
    if (pm_error)
      spdlog::warn("path-manager events unavailable ({}); subflow joins and closes are not logged",
                   pm_error.message());
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal_number) {
    spdlog::info("signal {}: shutting down", signal_number);
    server->stop();
    events.stop();
    io.stop();
  });
  server->run();
  io.run();
  return 0;
}
