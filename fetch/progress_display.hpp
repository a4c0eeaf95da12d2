#pragma once
// The live progress area on a terminal: a wget-like bar with one row per subflow under it,
// redrawn in place each interval. Rendering is pure (progress_bar.hpp); this class owns the
// terminal side: the width, what is on screen, and getting out of the way of log lines.

#include "mp/transfer_monitor.hpp"

#include <string>
#include <vector>

namespace mpfetch {

class progress_display {
public:
  explicit progress_display(int fd) : fd_(fd) {}
  void draw(const std::string& name, const mp::progress_report& report);
  // Leaves the area as it is and moves below it, so the next output starts on a fresh line.
  void end();

private:
  int columns() const;
  void write_all(const std::string& text);

  int fd_;
  std::vector<std::string> on_screen_;
};

}  // namespace mpfetch
