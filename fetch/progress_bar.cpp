#include "progress_bar.hpp"

#include "terminal_text.hpp"

#include "mp/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mpfetch {

namespace {

constexpr std::size_t size_columns = 5;
constexpr std::size_t rate_columns = 8;
constexpr std::size_t eta_columns = 11;     // "eta 59m 59s"
constexpr std::size_t percent_columns = 4;  // "100%"
constexpr std::size_t min_name_columns = 8;
constexpr std::size_t min_bar_columns = 7;  // "[====> ]"
constexpr double bounce_steps_per_second = 4;

// 1024-based with the precision wget uses: 3 significant digits, at most 5 columns.
std::string scaled(double value, const char* const* units, std::size_t unit_count) {
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < unit_count) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f}{}", value, units[0]);
  const int precision = value < 9.995 ? 2 : value < 99.95 ? 1 : 0;
  return fmt::format("{:.{}f}{}", value, precision, units[unit]);
}

std::string percent_of(std::uint64_t done, std::uint64_t total) {
  if (total == 0 || done >= total) return "100%";
  // Whole percent rounded down: 100% only when done.
  const auto percent = static_cast<unsigned>(static_cast<long double>(done) * 100 / total);
  return fmt::format("{}%", std::min(percent, 99u));
}

std::string known_bar(std::uint64_t done, std::uint64_t total, std::size_t inner) {
  const double fraction = total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / total);
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(inner));
  std::string bar(inner, ' ');
  if (filled >= inner) return std::string(inner, '=');
  if (filled > 0) {
    std::fill_n(bar.begin(), filled - 1, '=');
    bar[filled - 1] = '>';
  }
  return bar;
}

std::string bouncing_bar(double elapsed_seconds, std::size_t inner) {
  std::string bar(inner, ' ');
  constexpr std::string_view marker = "<=>";
  if (inner < marker.size()) return bar;
  const std::size_t travel = inner - marker.size();
  std::size_t position = 0;
  if (travel > 0 && elapsed_seconds > 0) {
    const auto step = static_cast<std::uint64_t>(elapsed_seconds * bounce_steps_per_second);
    position = static_cast<std::size_t>(step % (2 * travel));
    if (position > travel) position = 2 * travel - position;
  }
  bar.replace(position, marker.size(), marker);
  return bar;
}

std::string eta_field(const progress_view& view) {
  if (!view.total) return {};
  if (view.done >= *view.total) return "in " + short_duration(view.elapsed_seconds);
  if (!(view.rate > 0)) return {};
  return "eta " + short_duration(static_cast<double>(*view.total - view.done) / view.rate);
}

std::string main_line(const progress_view& view, std::size_t width) {
  const std::string name = printable(view.name);
  const std::string percent = view.total ? percent_of(view.done, *view.total) : "";
  // Right-hand fields, most important first; dropped from the back when the line is narrow.
  const std::string fields[] = {
      " " + fit_to_width(short_size(view.done), size_columns, false),
      "  " + fit_to_width(short_rate(view.rate), rate_columns, false),
      "  " + fit_to_width(eta_field(view), eta_columns),
  };
  const std::size_t name_floor = std::min(display_width(name), min_name_columns);
  for (std::size_t kept = std::size(fields);; --kept) {
    std::string right;
    for (std::size_t i = 0; i < kept; ++i) right += fields[i];
    const std::size_t fixed = percent_columns + display_width(right);
    const std::size_t wanted = fixed + 2 + name_floor + min_bar_columns;
    if (width >= wanted) {
      const std::size_t room = width - fixed - 2;  // name and bar share it, the name at most half
      const std::size_t name_columns =
          std::max(name_floor, std::min(display_width(name), room / 2));
      const std::size_t inner = room - name_columns - 2;
      const std::string bar = view.total ? known_bar(view.done, *view.total, inner)
                                         : bouncing_bar(view.elapsed_seconds, inner);
      return fit_to_width(name, name_columns) + "  " +
             fit_to_width(percent, percent_columns, false) + "[" + bar + "]" + right;
    }
    if (kept == 0) break;
  }
  // Too narrow for a bar: the name and the percent, cut to fit.
  return truncate_to_width(name + (percent.empty() ? "" : " " + percent), width);
}

std::string subflow_line(const subflow_row& row, bool last, std::size_t address_columns,
                         std::size_t width) {
  const std::string branch = last ? "  \xe2\x94\x94 " : "  \xe2\x94\x9c ";  // └ ├
  std::string tail = "  " +
                     fit_to_width(fmt::format("{:.0f}%", std::clamp(row.share, 0.0, 1.0) * 100),
                                  percent_columns, false) +
                     "  " + fit_to_width(short_rate(row.rate), rate_columns, false) + "  rtt " +
                     (row.rtt_us ? mp::format_rtt(row.rtt_us) : "-");
  if (row.closed)
    tail += "  closed";
  else if (row.joined)
    tail += "  joined";
  const std::string address = printable(row.local) + " -> " + printable(row.remote);
  const std::size_t fixed = display_width(branch) + display_width(tail);
  if (width < fixed + min_name_columns) return truncate_to_width(branch + address + tail, width);
  return branch + fit_to_width(address, std::min(address_columns, width - fixed)) + tail;
}

}  // namespace

std::string short_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"", "K", "M", "G", "T", "P", "E"};
  return scaled(static_cast<double>(bytes), units, std::size(units));
}

std::string short_rate(double bytes_per_second) {
  if (!(bytes_per_second >= 0.5)) return "--.-KB/s";
  static constexpr const char* units[] = {"B/s", "KB/s", "MB/s", "GB/s", "TB/s"};
  return scaled(bytes_per_second, units, std::size(units));
}

std::string short_duration(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  const auto whole = static_cast<std::uint64_t>(std::min(std::ceil(seconds), 99.0 * 86400));
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m {}s", whole / 60, whole % 60);
  if (whole < 86400) return fmt::format("{}h {}m", whole / 3600, whole % 3600 / 60);
  return fmt::format("{}d {}h", whole / 86400, whole % 86400 / 3600);
}

std::vector<std::string> render_progress(const progress_view& view, std::size_t width) {
  std::vector<std::string> lines{main_line(view, width)};
  std::size_t address_columns = 0;  // aligns the figures of all rows
  for (const auto& row : view.subflows)
    address_columns = std::max(
        address_columns, display_width(printable(row.local) + " -> " + printable(row.remote)));
  for (std::size_t i = 0; i < view.subflows.size(); ++i)
    lines.push_back(
        subflow_line(view.subflows[i], i + 1 == view.subflows.size(), address_columns, width));
  return lines;
}

std::string redraw(const std::vector<std::string>& previous, const std::vector<std::string>& next) {
  std::string out;
  if (!previous.empty()) out += fmt::format("\x1b[{}A", previous.size());
  for (const auto& line : next) {
    out += '\r';
    out += line;
    out += "\x1b[K\n";
  }
  if (next.size() < previous.size()) out += "\x1b[J";
  return out;
}

}  // namespace mpfetch
