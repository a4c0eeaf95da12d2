#include "mp/units.hpp"

#include <cmath>
#include <cstdio>

namespace mp {

namespace {
std::string printf_string(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}
}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  // Move up once the value would print as 1024.0: 1048575 B is "1.00 MiB", not "1024.0 KiB".
  while (value >= 1023.95 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  return printf_string(value < 10 ? "%.2f" : "%.1f", value) + " " + units[unit];
}

std::string format_rate(double bytes_per_second) {
  // Network paths are specified in bits per second (tc, link speeds), so rates are too.
  double bits = bytes_per_second * 8.0;
  if (!(bits >= 1.0)) return "0 bit/s";
  static constexpr const char* units[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
  int unit = 0;
  // Move up once the value would print as 1000 (unit 0 prints no decimals, the others one).
  while (bits >= (unit == 0 ? 999.5 : 999.95) && unit < 4) {
    bits /= 1000.0;
    ++unit;
  }
  if (unit == 0) return printf_string("%.0f", bits) + " " + units[0];
  return printf_string(bits < 10 ? "%.2f" : "%.1f", bits) + " " + units[unit];
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  if (seconds < 10) return printf_string("%.2f s", seconds);
  if (seconds < 59.95) return printf_string("%.1f s", seconds);
  auto whole = static_cast<long long>(std::llround(seconds));
  char buffer[64];
  if (whole < 3600)
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", whole / 60, whole % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", whole / 3600, (whole % 3600) / 60);
  return buffer;
}

std::string format_rtt(std::uint32_t microseconds) {
  const double ms = microseconds / 1000.0;
  return printf_string(ms < 10 ? "%.2f ms" : "%.1f ms", ms);
}

std::string format_percent(double fraction) {
  if (!(fraction >= 0)) fraction = 0;
  return printf_string("%.1f%%", fraction * 100.0);
}

}  // namespace mp
