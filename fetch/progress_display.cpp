#include "progress_display.hpp"

#include "progress_bar.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mpfetch {

int progress_display::columns() const {
  winsize size{};
  if (::ioctl(fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void progress_display::write_all(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a terminal that went away: progress is not worth an error
    done += static_cast<std::size_t>(n);
  }
}

void progress_display::draw(const std::string& name, const mp::progress_report& report) {
  progress_view view;
  view.name = name;
  view.done = report.bytes;
  if (report.total > 0) view.total = report.total;
  view.elapsed_seconds = report.elapsed_seconds;
  if (report.interval) {
    view.rate = report.interval->transfer_rate;
    for (const auto& row : report.interval->subflows)
      view.subflows.push_back({row.sample.local.to_string(), row.sample.remote.to_string(), row.share, row.rate,
                               row.sample.rtt_us, row.joined, false});
    for (const auto& gone : report.interval->gone)
      view.subflows.push_back({gone.local.to_string(), gone.remote.to_string(), 0, 0, gone.rtt_us, false, true});
  }
  // One column short of the width: a line that fills the last column wraps on some terminals,
  // and the redraw would then move up one line too few.
  auto lines = render_progress(view, static_cast<std::size_t>(std::max(1, columns() - 1)));
  write_all(redraw(on_screen_, lines));
  on_screen_ = std::move(lines);
}

void progress_display::end() {
  // The last frame stays on screen; the cursor is already on the line below it.
  on_screen_.clear();
}

}  // namespace mpfetch
