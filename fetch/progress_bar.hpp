#pragma once
// The terminal progress display, rendered as text: figures in, lines and the escape sequences
// that redraw them out. Measuring (rates, shares) is progress_sampler's job and writing to the
// terminal the caller's; nothing here touches a clock or a descriptor.
//
// Sizes and rates are in bytes with 1024-based K/M/G, as wget prints them ("1.23G",
// "56.7MB/s"), so the bar reads like the tool people compare it with; logs keep mp/units.hpp's
// bit/s, the unit of link speeds.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mpfetch {

struct subflow_row {
  std::string local;         // "192.0.2.1:4123"
  std::string remote;        // "198.51.100.2:443"
  double share = 0;          // of the interval's bytes, 0..1
  double rate = 0;           // bytes per second
  std::uint32_t rtt_us = 0;  // 0: unknown
  bool joined = false;       // appeared since the previous frame
  bool closed = false;       // gone; its row stays for a last look
};

struct progress_view {
  std::string name;  // the output file, as shown
  std::uint64_t done = 0;
  std::optional<std::uint64_t> total;
  double rate = 0;  // bytes per second; 0: not known yet
  double elapsed_seconds = 0;
  std::vector<subflow_row> subflows;
};

// The lines to draw for `view` in `width` columns (pass the terminal's columns less one, as
// wget does: writing the last column makes some terminals wrap early). The main line is
//   name  45%[=========>          ] 1.23G  56.7MB/s  eta 12s
// exactly `width` columns once width allows a bar (about 40); narrower, fields drop from the
// right (eta, rate, size) before the bar goes. Unknown total: no percent or eta, and a "<=>"
// that moves with elapsed time. Then one line per subflow, never wider than `width`:
//   ├ 192.0.2.1:4123 -> 198.51.100.2:443   52%  31.2MB/s  rtt 4.10 ms
// with └ on the last. Control bytes in names and addresses are shown as '?'.
std::vector<std::string> render_progress(const progress_view& view, std::size_t width);

// Escape sequences that replace the lines last drawn (`previous`, cursor on the line below
// them) with `next`: move up over the old lines, rewrite each line in place ending with
// "\x1b[K" (erase to end of line) so nothing is blanked first and nothing flickers, then, when
// there are fewer lines than before, "\x1b[J" to clear the rest. The cursor ends below the new
// lines. redraw(previous, {}) erases the display, to print a log line in its place.
std::string redraw(const std::vector<std::string>& previous, const std::vector<std::string>& next);

// The pieces, wget's way: "512", "1.50K", "12.3K", "123K", "1.23G" (at most 5 columns);
// "950B/s", "56.7MB/s", "--.-KB/s" for a rate of 0 (at most 8); "12s", "1m 5s", "1h 2m",
// "3d 4h" (at most 7).
std::string short_size(std::uint64_t bytes);
std::string short_rate(double bytes_per_second);
std::string short_duration(double seconds);

}  // namespace mpfetch
