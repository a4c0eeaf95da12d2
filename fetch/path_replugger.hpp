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
// not come up is started afresh after 5 s, then 10, 20, up to every 60 s.
//
// Endpoints belong to the network namespace, so this needs CAP_NET_ADMIN, and every MPTCP
// connection of the host loses its subflows from that address for the moment and gets them
// back the same way. So an address is left alone when it still carries a subflow that works
// (the path to one of the server's addresses failed, not this address's own path), when its
// endpoint opens no subflows, and on kernels older than 6.5 (no MPTCP_FULL_INFO, and no
// connection-level byte counter to tell data waiting out of order).

#include "stuck_path_detector.hpp"

#include "mp/pm_endpoints.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/common.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace mpfetch {

class path_replugger : public std::enable_shared_from_this<path_replugger> {
public:
  // fd: the connected MPTCP socket; before_log: called before a line is logged (moves a
  // progress bar out of the way).
  static std::shared_ptr<path_replugger> create(boost::asio::any_io_executor executor, int fd,
                                                std::function<void()> before_log);
  void start();
  void stop();  // also adds back an endpoint whose re-adding has failed so far

private:
  path_replugger(boost::asio::any_io_executor executor, int fd, std::function<void()> before_log);
  void schedule();
  void tick();
  void act_on(const stuck_path_detector::stuck_subflow& stuck, mp::progress_clock::time_point now);
  void watch_joins(const mp::connection_stats& stats, mp::progress_clock::time_point now);
  // Deletes and re-adds the endpoint of `local`; false when there is none or it failed.
  bool replug(const boost::asio::ip::address& local, bool first_time);
  void restore_lost_endpoints();
  void log(spdlog::level::level_enum level, std::string_view event, const std::string& text);
  void log_once(const std::string& key, const std::string& text);

  boost::asio::steady_timer timer_;
  int fd_;
  std::function<void()> before_log_;
  stuck_path_detector detector_;
  mp::pm_endpoint_table endpoints_;
  // Re-plugged paths not joined again yet, by address.
  struct awaiting {
    mp::progress_clock::time_point next_try;     // when to re-plug again if still not joined
    mp::progress_clock::duration wait;           // doubles after each try, up to a minute
    std::uint16_t stuck_port = 0;  // the stuck subflow's, which may still show until it closes
  };
  std::map<boost::asio::ip::address, awaiting> awaiting_join_;
  std::map<boost::asio::ip::address, mp::progress_clock::time_point> last_replugged_;
  std::vector<mp::pm_endpoint> lost_;  // deleted, and adding them back has failed so far
  std::set<std::string> told_;         // what log_once has said
  bool running_ = false;
};

}  // namespace mpfetch
