#include "mp/units.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace {

constexpr std::uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024, TiB = GiB * 1024,
                        PiB = TiB * 1024;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// --- format_bytes: IEC units, two decimals below 10, one above --------------------------------

TEST(FormatBytes, BelowOneKibibyteIsExactBytes) {
  EXPECT_EQ(mp::format_bytes(0), "0 B");
  EXPECT_EQ(mp::format_bytes(1), "1 B");
  EXPECT_EQ(mp::format_bytes(512), "512 B");
  EXPECT_EQ(mp::format_bytes(1023), "1023 B");
}

TEST(FormatBytes, KibibytesAndUp) {
  EXPECT_EQ(mp::format_bytes(1024), "1.00 KiB");
  EXPECT_EQ(mp::format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(mp::format_bytes(10 * KiB), "10.0 KiB");
  EXPECT_EQ(mp::format_bytes(1000 * KiB), "1000.0 KiB");
  EXPECT_EQ(mp::format_bytes(MiB), "1.00 MiB");
  EXPECT_EQ(mp::format_bytes(256 * MiB), "256.0 MiB");
  EXPECT_EQ(mp::format_bytes(GiB + GiB / 4), "1.25 GiB");
  EXPECT_EQ(mp::format_bytes(3 * TiB), "3.00 TiB");
  EXPECT_EQ(mp::format_bytes(PiB), "1.00 PiB");
}

TEST(FormatBytes, PrecisionSwitchesAtTen) {
  EXPECT_EQ(mp::format_bytes(9 * KiB + 512), "9.50 KiB");
  EXPECT_EQ(mp::format_bytes(10 * MiB - MiB / 2), "9.50 MiB");
  EXPECT_EQ(mp::format_bytes(10 * MiB + MiB / 2), "10.5 MiB");
}

TEST(FormatBytes, ValuesThatRoundToTheNextUnitUseIt) {
  // 1048575 B is 1023.999 KiB: "1024.0 KiB" would be the wrong unit.
  EXPECT_EQ(mp::format_bytes(MiB - 1), "1.00 MiB");
  EXPECT_EQ(mp::format_bytes(GiB - 1), "1.00 GiB");
  EXPECT_EQ(mp::format_bytes(1023 * KiB + 900), "1023.9 KiB");
}

TEST(FormatBytes, HugeValuesStayInPebibytes) {
  EXPECT_EQ(mp::format_bytes(1024 * PiB), "1024.0 PiB");
  // 2^64 - 1 bytes is 16 EiB = 16384 PiB; there is no larger unit.
  EXPECT_EQ(mp::format_bytes(std::numeric_limits<std::uint64_t>::max()), "16384.0 PiB");
}

// --- format_rate: bits per second, SI prefixes ----------------------------------------------

TEST(FormatRate, ZeroNegativeAndNaNAreZero) {
  EXPECT_EQ(mp::format_rate(0), "0 bit/s");
  EXPECT_EQ(mp::format_rate(0.1), "0 bit/s");  // 0.8 bit/s
  EXPECT_EQ(mp::format_rate(-5), "0 bit/s");
  EXPECT_EQ(mp::format_rate(nan), "0 bit/s");
}

TEST(FormatRate, BytesBecomeBits) {
  EXPECT_EQ(mp::format_rate(0.125), "1 bit/s");
  EXPECT_EQ(mp::format_rate(1), "8 bit/s");
  EXPECT_EQ(mp::format_rate(100), "800 bit/s");
}

TEST(FormatRate, DecimalPrefixes) {
  EXPECT_EQ(mp::format_rate(125), "1.00 kbit/s");
  EXPECT_EQ(mp::format_rate(1'250), "10.0 kbit/s");
  EXPECT_EQ(mp::format_rate(11'775'000), "94.2 Mbit/s");
  EXPECT_EQ(mp::format_rate(150'000'000), "1.20 Gbit/s");
  EXPECT_EQ(mp::format_rate(1.25e12), "10.0 Tbit/s");
  EXPECT_EQ(mp::format_rate(1.25e15), "10000.0 Tbit/s");  // no larger unit
}

TEST(FormatRate, ValuesThatRoundToTheNextUnitUseIt) {
  EXPECT_EQ(mp::format_rate(124.99), "1.00 kbit/s");      // 999.92 bit/s
  EXPECT_EQ(mp::format_rate(124'999.0), "1.00 Mbit/s");  // 999.992 kbit/s
  EXPECT_EQ(mp::format_rate(124'990.0), "999.9 kbit/s");
}

TEST(FormatRate, FractionalRates) {
  EXPECT_EQ(mp::format_rate(1.5), "12 bit/s");
  EXPECT_EQ(mp::format_rate(156.25), "1.25 kbit/s");
}

// --- format_duration ------------------------------------------------------------------------

TEST(FormatDuration, SecondsWithPrecisionByMagnitude) {
  EXPECT_EQ(mp::format_duration(0), "0.00 s");
  EXPECT_EQ(mp::format_duration(0.35), "0.35 s");
  EXPECT_EQ(mp::format_duration(9.5), "9.50 s");
  EXPECT_EQ(mp::format_duration(10), "10.0 s");
  EXPECT_EQ(mp::format_duration(12), "12.0 s");
  EXPECT_EQ(mp::format_duration(59.9), "59.9 s");
}

TEST(FormatDuration, MinutesAndHours) {
  EXPECT_EQ(mp::format_duration(60), "1m00s");
  EXPECT_EQ(mp::format_duration(125), "2m05s");
  EXPECT_EQ(mp::format_duration(125.4), "2m05s");
  EXPECT_EQ(mp::format_duration(125.6), "2m06s");
  EXPECT_EQ(mp::format_duration(3599), "59m59s");
  EXPECT_EQ(mp::format_duration(3599.6), "1h00m");  // rounds up into the next hour
  EXPECT_EQ(mp::format_duration(3600), "1h00m");
  EXPECT_EQ(mp::format_duration(3720), "1h02m");
  EXPECT_EQ(mp::format_duration(100 * 3600 + 59 * 60 + 59), "100h59m");  // minutes truncate
}

TEST(FormatDuration, JustBelowAMinuteRoundsToOneMinute) {
  EXPECT_EQ(mp::format_duration(59.97), "1m00s");  // not "60.0 s"
}

TEST(FormatDuration, NegativeAndNaNAreZero) {
  EXPECT_EQ(mp::format_duration(-1), "0.00 s");
  EXPECT_EQ(mp::format_duration(nan), "0.00 s");
}

// --- format_rtt -----------------------------------------------------------------------------

TEST(FormatRtt, Milliseconds) {
  EXPECT_EQ(mp::format_rtt(0), "0.00 ms");
  EXPECT_EQ(mp::format_rtt(50), "0.05 ms");
  EXPECT_EQ(mp::format_rtt(1'234), "1.23 ms");
  EXPECT_EQ(mp::format_rtt(9'990), "9.99 ms");
  EXPECT_EQ(mp::format_rtt(10'000), "10.0 ms");
  EXPECT_EQ(mp::format_rtt(23'400), "23.4 ms");
  EXPECT_EQ(mp::format_rtt(1'500'000), "1500.0 ms");
}

TEST(FormatRtt, LargestCounter) {
  EXPECT_EQ(mp::format_rtt(std::numeric_limits<std::uint32_t>::max()), "4294967.3 ms");
}

// --- format_percent -------------------------------------------------------------------------

TEST(FormatPercent, OneDecimal) {
  EXPECT_EQ(mp::format_percent(0), "0.0%");
  EXPECT_EQ(mp::format_percent(0.1764), "17.6%");
  EXPECT_EQ(mp::format_percent(0.5), "50.0%");
  EXPECT_EQ(mp::format_percent(1.0 / 3.0), "33.3%");
  EXPECT_EQ(mp::format_percent(0.0004), "0.0%");
  EXPECT_EQ(mp::format_percent(1), "100.0%");
  EXPECT_EQ(mp::format_percent(1.5), "150.0%");
}

TEST(FormatPercent, NegativeAndNaNAreZero) {
  EXPECT_EQ(mp::format_percent(-0.25), "0.0%");
  EXPECT_EQ(mp::format_percent(nan), "0.0%");
}

}  // namespace
