#include "mp/transfer_monitor.hpp"

#include "mp/logging.hpp"
#include "mp/units.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace mp {

std::shared_ptr<transfer_monitor> transfer_monitor::create(boost::asio::any_io_executor executor,
                                                           int fd, options opts,
                                                           byte_counter bytes_done) {
  return std::shared_ptr<transfer_monitor>(
      new transfer_monitor(std::move(executor), fd, std::move(opts), std::move(bytes_done)));
}

transfer_monitor::transfer_monitor(boost::asio::any_io_executor executor, int fd, options opts,
                                   byte_counter bytes_done)
    : timer_(std::move(executor)), fd_(fd), options_(std::move(opts)),
      bytes_done_(std::move(bytes_done)),
      // A whole interval without data, and at least a second (a few samples): a path that
      // merely paused between two samples is not a stall.
      stalls_(std::max<progress_clock::duration>(options_.interval, std::chrono::seconds(1))) {}

connection_stats transfer_monitor::sample(std::uint64_t& bytes_done) {
  std::error_code ec;
  connection_stats stats = query_connection(fd_, ec);
  bytes_done = bytes_done_();
  if (ec) return latest_;  // keep the last good view; the transfer itself reports the error
  if (options_.mptcp_expected && !stats.mptcp) stats.fallback = true;
  latest_ = stats;
  return stats;
}

void transfer_monitor::start() {
  running_ = true;
  std::uint64_t bytes = 0;
  auto stats = sample(bytes);
  const auto snapshot = make_snapshot(progress_clock::now(), bytes, stats, options_.direction);
  sampler_.add(snapshot);
  stalls_.add(snapshot);
  if (options_.interval.count() > 0) schedule();
}

void transfer_monitor::schedule() {
  timer_.expires_after(options_.interval);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || !self->running_) return;
    self->sample_and_log();
    self->schedule();
  });
}

namespace {

std::string connection_kind(const connection_stats& stats) {
  if (stats.mptcp) return fmt::format("MPTCP token {:08x}", stats.token);
  return stats.fallback ? "TCP (MPTCP fell back)" : "TCP";
}

}  // namespace

void transfer_monitor::sample_and_log() {
  std::uint64_t bytes = 0;
  auto stats = sample(bytes);
  const auto snapshot = make_snapshot(progress_clock::now(), bytes, stats, options_.direction);
  auto interval = sampler_.add(snapshot);
  const auto changes = stalls_.add(snapshot);
  if (options_.reporter) {
    if (!changes.empty() && options_.before_log) options_.before_log();
    log_changes(changes);
    options_.reporter({bytes, options_.total_bytes, sampler_.elapsed_seconds(), &interval, &stats});
    return;
  }
  const std::string done =
      options_.total_bytes
          ? fmt::format("{} / {} ({})", format_bytes(bytes), format_bytes(options_.total_bytes),
                        format_percent(static_cast<double>(bytes) / options_.total_bytes))
          : format_bytes(bytes);
  log_event(spdlog::level::info, "progress",
            fmt::format("{} {} {} {}", options_.label, done, format_rate(interval.transfer_rate),
                        connection_kind(stats)),
            {{"label", options_.label},
             {"bytes", bytes},
             {"total", options_.total_bytes},
             {"rate_bps", interval.transfer_rate * 8},
             {"mptcp", stats.mptcp},
             {"token", std::uint64_t{stats.token}},
             {"subflows", std::uint64_t{interval.subflows.size()}}});
  for (const auto& row : interval.subflows) {
    const auto& s = row.sample;
    log_event(spdlog::level::info, "subflow_progress",
              fmt::format("{}   subflow {} {} -> {} +{} {:>6} {} rtt {} cwnd {}{}", options_.label,
                          s.id, s.local.to_string(), s.remote.to_string(),
                          format_bytes(row.delta_bytes), format_percent(row.share),
                          format_rate(row.rate), format_rtt(s.rtt_us), s.cwnd,
                          row.joined ? " (new)" : ""),
              {{"label", options_.label},
               {"id", std::uint64_t{s.id}},
               {"local", s.local.to_string()},
               {"remote", s.remote.to_string()},
               {"delta_bytes", row.delta_bytes},
               {"share", row.share},
               {"rate_bps", row.rate * 8},
               {"rtt_us", std::uint64_t{s.rtt_us}},
               {"cwnd", std::uint64_t{s.cwnd}}});
  }
  for (const auto& s : interval.gone) {
    log_event(spdlog::level::info, "subflow_gone",
              fmt::format("{}   subflow {} {} -> {} is gone after {}", options_.label, s.id,
                          s.local.to_string(), s.remote.to_string(), format_bytes(s.bytes)),
              {{"label", options_.label},
               {"id", std::uint64_t{s.id}},
               {"local", s.local.to_string()},
               {"remote", s.remote.to_string()},
               {"bytes", s.bytes}});
  }
  log_changes(changes);
}

void transfer_monitor::log_changes(const std::vector<subflow_change>& changes) {
  for (const auto& change : changes) {
    const auto& s = change.sample;
    const bool stalled = change.what == subflow_change::kind::stalled;
    std::string text =
        stalled ? fmt::format("{}   subflow {} {} -> {} stalled: no data for {}", options_.label, s.id,
                              s.local.to_string(), s.remote.to_string(),
                              format_duration(change.seconds))
                : fmt::format("{}   subflow {} {} -> {} carries data again after {} stalled",
                              options_.label, s.id, s.local.to_string(), s.remote.to_string(),
                              format_duration(change.seconds));
    if (change.retransmits > 0)
      text += fmt::format(" ({} segments retransmitted)", change.retransmits);
    log_event(stalled ? spdlog::level::warn : spdlog::level::info,
              stalled ? "subflow_stalled" : "subflow_resumed", text,
              {{"label", options_.label},
               {"id", std::uint64_t{s.id}},
               {"local", s.local.to_string()},
               {"remote", s.remote.to_string()},
               {"seconds", change.seconds},
               {"retransmits", std::uint64_t{change.retransmits}}});
  }
}

transfer_summary transfer_monitor::finish() {
  running_ = false;
  timer_.cancel();
  std::uint64_t bytes = 0;
  auto stats = sample(bytes);
  const auto last = sampler_.add(make_snapshot(progress_clock::now(), bytes, stats, options_.direction));
  if (options_.reporter)  // the display's last frame shows the finished transfer
    options_.reporter({bytes, options_.total_bytes, sampler_.elapsed_seconds(), &last, &stats});
  transfer_summary summary{bytes, sampler_.elapsed_seconds(), stats.mptcp, stats.fallback,
                           stats.token, sampler_.totals()};
  const double rate = summary.seconds > 0 ? static_cast<double>(bytes) / summary.seconds : 0;
  const bool worth_a_summary =
      bytes >= options_.summary_min_bytes ||
      (options_.interval.count() > 0 &&
       summary.seconds * 1000 >= static_cast<double>(options_.interval.count()));
  if (!worth_a_summary) return summary;
  log_event(spdlog::level::info, "transfer_done",
            fmt::format("{} done: {} in {} ({}), {}, {} subflow{}{}{}", options_.label,
                        format_bytes(bytes), format_duration(summary.seconds), format_rate(rate),
                        connection_kind(stats), summary.subflows.size(),
                        summary.subflows.size() == 1 ? "" : "s", options_.note.empty() ? "" : ", ",
                        options_.note),
            {{"label", options_.label},
             {"bytes", bytes},
             {"seconds", summary.seconds},
             {"rate_bps", rate * 8},
             {"mptcp", stats.mptcp},
             {"fallback", stats.fallback},
             {"token", std::uint64_t{stats.token}},
             {"subflows", std::uint64_t{summary.subflows.size()}},
             {"note", options_.note}});
  for (const auto& total : summary.subflows) {
    const auto& s = total.last;
    log_event(spdlog::level::info, "subflow_total",
              fmt::format("{}   subflow {} {} -> {} carried {} ({}){}", options_.label, s.id,
                          s.local.to_string(), s.remote.to_string(), format_bytes(total.carried),
                          format_percent(total.share), total.open ? "" : " (closed)"),
              {{"label", options_.label},
               {"id", std::uint64_t{s.id}},
               {"local", s.local.to_string()},
               {"remote", s.remote.to_string()},
               {"bytes", total.carried},
               {"share", total.share}});
  }
  return summary;
}

void transfer_monitor::cancel() {
  running_ = false;
  timer_.cancel();
}

}  // namespace mp
