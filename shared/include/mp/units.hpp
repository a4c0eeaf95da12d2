#pragma once
// Human-readable sizes, rates and durations for logs and progress displays.

#include <cstdint>
#include <string>

namespace mp {

std::string format_bytes(std::uint64_t bytes);          // "512 B", "1.5 KiB", "256.0 MiB"
std::string format_rate(double bytes_per_second);       // "0 bit/s", "94.2 Mbit/s", "1.20 Gbit/s"
std::string format_duration(double seconds);            // "0.35 s", "12.0 s", "2m05s", "1h02m"
std::string format_rtt(std::uint32_t microseconds);     // "0.05 ms", "23.4 ms"
std::string format_percent(double fraction);            // 0.1764 -> "17.6%"

}  // namespace mp
