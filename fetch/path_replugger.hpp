#pragma once
// With --replug-stalled-paths: while a body downloads over MPTCP, samples the connection every
// 50 ms, and when stuck_path_detector finds a path holding the download up, deletes that path's
// endpoint from the kernel's in-kernel path manager and adds it back exactly as it was.
//
// Deleting makes the kernel send REMOVE_ADDR to the server over the paths that still work; the
// server closes its subflow on the dead path and re-sends at once what was queued and in flight
// there, instead of after the ~1 s of retransmission rounds it takes to call the subflow stale.
// Adding the endpoint back makes the path manager join from the address again: the join's SYN
// goes through as soon as the path works, and the path carries its share again. A join that has
// not come up within a few seconds (its SYN retransmissions slow down) is started afresh.
//
// Endpoints belong to the network namespace, so this needs CAP_NET_ADMIN, and every MPTCP
// connection of the host loses its subflow on that path for the moment and gets it back the
// same way (the path is dead for all of them).

#include "stuck_path_detector.hpp"

#include "mp/pm_endpoints.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/common.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace mpfetch {

class path_replugger : public std::enable_shared_from_this<path_replugger> {
public:
  // fd: the connected MPTCP socket; before_log: called before a line is logged (moves a
  // progress bar out of the way).
  static std::shared_ptr<path_replugger> create(boost::asio::any_io_executor executor, int fd,
                                                std::function<void()> before_log);
  void start();
  void stop();

private:
  path_replugger(boost::asio::any_io_executor executor, int fd, std::function<void()> before_log);
  void schedule();
  void tick();
  // Deletes and re-adds the endpoint of `local`; false when there is none or it failed.
  bool replug(const boost::asio::ip::address& local, bool first_time);
  void log(spdlog::level::level_enum level, std::string_view event, const std::string& text);

  boost::asio::steady_timer timer_;
  int fd_;
  std::function<void()> before_log_;
  stuck_path_detector detector_;
  mp::pm_endpoint_table endpoints_;
  // Re-plugged paths not joined again yet, by address.
  struct awaiting {
    mp::progress_clock::time_point replugged;  // last re-plugged
    std::uint16_t stuck_port = 0;  // the stuck subflow's, which may still show until it closes
  };
  std::map<std::string, awaiting> awaiting_join_;
  std::set<std::string> told_no_endpoint_;
  bool running_ = false;
};

}  // namespace mpfetch
