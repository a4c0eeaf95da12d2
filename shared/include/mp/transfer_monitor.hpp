#pragma once
// Watches one transfer on one connection: every interval it samples the kernel's per-subflow
// counters and logs a progress line plus one line per subflow; at the end it logs a summary.
// Measuring lives in progress_sampler; this class only schedules, samples and words the logs.

#include "mp/progress_sampler.hpp"
#include "mp/stall_tracker.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace mp {

struct transfer_summary {
  std::uint64_t bytes = 0;
  double seconds = 0;
  bool mptcp = false;
  bool fallback = false;
  std::uint32_t token = 0;
  std::vector<subflow_total> subflows;
};

// One interval's view, for a display that draws progress itself instead of logging it.
struct progress_report {
  std::uint64_t bytes = 0;   // done so far
  std::uint64_t total = 0;   // zero when unknown
  double elapsed_seconds = 0;
  const progress_interval* interval = nullptr;  // rates and shares of this interval
  const connection_stats* connection = nullptr;
};

class transfer_monitor : public std::enable_shared_from_this<transfer_monitor> {
public:
  struct options {
    std::string label;                    // "[#3 127.0.0.1:5000] GET /file", on every line
    transfer_direction direction = transfer_direction::send;
    std::chrono::milliseconds interval{1000};  // zero: no periodic lines, summary only
    std::uint64_t total_bytes = 0;        // zero when unknown
    // Small, quick transfers (a favicon, a listing) would drown the log in summaries: the
    // summary is logged only if the transfer lasted an interval or carried this much.
    std::uint64_t summary_min_bytes = 0;
    std::string note;  // appended to the summary, e.g. "sent by copy"
    // An MPTCP listener accepted the socket: plain TCP then means the client did not offer
    // MPTCP, a fallback, although the kernel hands the server a plain TCP socket.
    bool mptcp_expected = false;
    // When set, each interval goes here instead of into the log (a terminal progress bar).
    std::function<void(const progress_report&)> reporter;
    // Called before a line is logged while a reporter draws (to move the drawing out of the way).
    std::function<void()> before_log;
  };
  using byte_counter = std::function<std::uint64_t()>;

  static std::shared_ptr<transfer_monitor> create(boost::asio::any_io_executor executor, int fd,
                                                  options opts, byte_counter bytes_done);

  void start();
  // Takes a last sample, stops the timer, logs and returns the summary. Call once, while the
  // socket is still open.
  transfer_summary finish();
  void cancel();  // stop without a summary (the connection broke)

private:
  transfer_monitor(boost::asio::any_io_executor executor, int fd, options opts,
                   byte_counter bytes_done);
  void schedule();
  void sample_and_log();
  void log_changes(const std::vector<subflow_change>& changes);
  connection_stats sample(std::uint64_t& bytes_done);

  boost::asio::steady_timer timer_;
  int fd_;
  options options_;
  byte_counter bytes_done_;
  progress_sampler sampler_;
  stall_tracker stalls_;
  connection_stats latest_;
  bool running_ = false;
};

}  // namespace mp
