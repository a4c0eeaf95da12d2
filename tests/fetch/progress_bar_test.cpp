#include "progress_bar.hpp"

#include "terminal_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace {

using mpfetch::display_width;
using mpfetch::progress_view;
using mpfetch::redraw;
using mpfetch::render_progress;
using mpfetch::short_duration;
using mpfetch::short_rate;
using mpfetch::short_size;
using mpfetch::subflow_row;

constexpr std::uint64_t MiB = 1024 * 1024;

progress_view halfway() {
  progress_view view;
  view.name = "big.iso";
  view.done = 45 * MiB;
  view.total = 100 * MiB;
  view.rate = 5 * MiB;
  view.elapsed_seconds = 9;
  return view;
}

std::string bar_of(const std::string& line) {
  const auto open = line.find('[');
  const auto close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return {};
  return line.substr(open + 1, close - open - 1);
}

// --- pieces ----------------------------------------------------------------------------------

TEST(ShortSize, WgetStyleThreeSignificantDigits) {
  EXPECT_EQ(short_size(0), "0");
  EXPECT_EQ(short_size(512), "512");
  EXPECT_EQ(short_size(1023), "1023");
  EXPECT_EQ(short_size(1024), "1.00K");
  EXPECT_EQ(short_size(1536), "1.50K");
  EXPECT_EQ(short_size(12 * 1024 + 307), "12.3K");
  EXPECT_EQ(short_size(123 * 1024), "123K");
  EXPECT_EQ(short_size(1321205760), "1.23G");
  EXPECT_EQ(short_size(std::uint64_t{5} << 40), "5.00T");
}

TEST(ShortSize, NeverWiderThanFiveColumns) {
  for (std::uint64_t bytes = 1; bytes < (std::uint64_t{1} << 62); bytes = bytes * 3 + 1)
    EXPECT_LE(short_size(bytes).size(), 5u) << bytes;
  EXPECT_LE(short_size(UINT64_MAX).size(), 5u);
}

TEST(ShortRate, BytesPerSecondLikeWget) {
  EXPECT_EQ(short_rate(950), "950B/s");
  EXPECT_EQ(short_rate(56.7 * MiB), "56.7MB/s");
  EXPECT_EQ(short_rate(1.5 * 1024), "1.50KB/s");
  EXPECT_EQ(short_rate(123 * 1024), "123KB/s");
}

TEST(ShortRate, ZeroOrUnknownIsDashes) {
  EXPECT_EQ(short_rate(0), "--.-KB/s");
  EXPECT_EQ(short_rate(-5), "--.-KB/s");
  EXPECT_EQ(short_rate(std::nan("")), "--.-KB/s");
}

TEST(ShortRate, NeverWiderThanEightColumns) {
  for (double rate = 0.5; rate < 1e16; rate = rate * 1.7 + 1)
    EXPECT_LE(short_rate(rate).size(), 8u) << rate;
}

TEST(ShortDuration, WgetStyle) {
  EXPECT_EQ(short_duration(0), "0s");
  EXPECT_EQ(short_duration(11.2), "12s");  // rounded up: never promise too early
  EXPECT_EQ(short_duration(65), "1m 5s");
  EXPECT_EQ(short_duration(3725), "1h 2m");
  EXPECT_EQ(short_duration(3 * 86400 + 4 * 3600 + 5), "3d 4h");
  EXPECT_EQ(short_duration(-3), "0s");
  EXPECT_EQ(short_duration(1e300), "99d 0h");
}

// --- main line -------------------------------------------------------------------------------

TEST(RenderProgress, WgetLikeMainLine) {
  const auto lines = render_progress(halfway(), 80);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "big.iso   45%[===============>                    ] 45.0M  5.00MB/s  eta 11s    ");
  EXPECT_EQ(display_width(lines[0]), 80u);
}

TEST(RenderProgress, MainLineIsExactlyTheWidthForEveryWidthThatHoldsABar) {
  auto view = halfway();
  for (const std::string& name : {std::string("f"), std::string("big.iso"), std::string(300, 'n'),
                                  std::string("\xe2\x82\xac-euro.txt")}) {
    view.name = name;
    for (std::size_t width = 40; width <= 300; ++width) {
      const auto line = render_progress(view, width)[0];
      EXPECT_EQ(display_width(line), width) << name << ' ' << width;
      EXPECT_NE(line.find('['), std::string::npos) << width;
    }
  }
}

TEST(RenderProgress, NeverWiderThanTheWidth) {
  auto view = halfway();
  view.name = std::string(100, 'x');
  view.subflows = {{"192.0.2.1:4123", "198.51.100.2:443", 0.52, 3e7, 4100, false, false},
                   {"[2001:db8::1]:51234", "[2001:db8::2]:443", 0.48, 2e7, 12000, true, false}};
  for (std::size_t width = 0; width <= 200; ++width)
    for (const auto& line : render_progress(view, width))
      EXPECT_LE(display_width(line), width) << width << ": " << line;
}

TEST(RenderProgress, LongNamesAreCutWithAnEllipsis) {
  auto view = halfway();
  view.name = "a-very-long-file-name-that-will-not-fit-in-the-column.tar.gz";
  const auto line = render_progress(view, 80)[0];
  EXPECT_EQ(line.rfind("a-very-long-file-name", 0), 0u);
  EXPECT_NE(line.find("\xe2\x80\xa6   45%["), std::string::npos) << line;
  EXPECT_EQ(display_width(line), 80u);
}

TEST(RenderProgress, NarrowTerminalsDropEtaThenRateThenSize) {
  const auto view = halfway();
  const auto wide = render_progress(view, 60)[0];
  EXPECT_NE(wide.find("eta"), std::string::npos) << wide;
  const auto no_eta = render_progress(view, 40)[0];
  EXPECT_EQ(no_eta.find("eta"), std::string::npos) << no_eta;
  EXPECT_NE(no_eta.find("MB/s"), std::string::npos) << no_eta;
  const auto bare = render_progress(view, 26)[0];
  EXPECT_EQ(bare.find("MB/s"), std::string::npos) << bare;
  EXPECT_NE(bare.find('['), std::string::npos) << bare;
  EXPECT_EQ(display_width(bare), 26u);
  const auto tiny = render_progress(view, 12)[0];
  EXPECT_EQ(tiny, "big.iso 45%");
}

TEST(RenderProgress, BarFillsWithTheFraction) {
  auto view = halfway();
  view.done = 0;
  EXPECT_EQ(bar_of(render_progress(view, 80)[0]).find_first_not_of(' '), std::string::npos);
  view.done = 100 * MiB;
  const auto full = bar_of(render_progress(view, 80)[0]);
  EXPECT_EQ(full, std::string(full.size(), '='));
  EXPECT_NE(render_progress(view, 80)[0].find("100%"), std::string::npos);
  view.done = 100 * MiB - 1;
  EXPECT_NE(render_progress(view, 80)[0].find(" 99%"), std::string::npos);
  EXPECT_NE(bar_of(render_progress(view, 80)[0]).find('>'), std::string::npos);
}

TEST(RenderProgress, CompleteShowsTheElapsedTimeInsteadOfEta) {
  auto view = halfway();
  view.done = *view.total;
  const auto line = render_progress(view, 80)[0];
  EXPECT_NE(line.find("in 9s"), std::string::npos) << line;
  EXPECT_EQ(line.find("eta"), std::string::npos);
}

TEST(RenderProgress, EmptyFileIsComplete) {
  progress_view view;
  view.name = "empty";
  view.total = 0;
  EXPECT_NE(render_progress(view, 80)[0].find("100%["), std::string::npos);
}

TEST(RenderProgress, NoRateMeansNoEta) {
  auto view = halfway();
  view.rate = 0;
  const auto line = render_progress(view, 80)[0];
  EXPECT_EQ(line.find("eta"), std::string::npos);
  EXPECT_NE(line.find("--.-KB/s"), std::string::npos);
}

TEST(RenderProgress, UnknownTotalBouncesWithoutPercentOrEta) {
  auto view = halfway();
  view.total.reset();
  view.elapsed_seconds = 0;
  const auto first = render_progress(view, 80)[0];
  EXPECT_EQ(first.find('%'), std::string::npos);
  EXPECT_EQ(first.find("eta"), std::string::npos);
  EXPECT_EQ(display_width(first), 80u);
  const auto bar = bar_of(first);
  EXPECT_EQ(bar.find("<=>"), 0u);

  std::set<std::size_t> positions;
  for (int step = 0; step < 200; ++step) {
    view.elapsed_seconds = step / 4.0;
    const auto moving = bar_of(render_progress(view, 80)[0]);
    ASSERT_EQ(moving.size(), bar.size());
    const auto at = moving.find("<=>");
    ASSERT_NE(at, std::string::npos) << step;
    positions.insert(at);
  }
  EXPECT_EQ(positions.size(), bar.size() - 2);  // reaches every position, both ends included
  view.elapsed_seconds = (bar.size() - 3) / 4.0;
  EXPECT_EQ(bar_of(render_progress(view, 80)[0]).rfind("<=>"), bar.size() - 3);
}

TEST(RenderProgress, ControlBytesInTheNameCannotReachTheTerminal) {
  auto view = halfway();
  view.name = "evil\x1b[2Jname";
  const auto line = render_progress(view, 80)[0];
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_EQ(line.rfind("evil?[2Jname", 0), 0u);
}

// --- subflow rows ----------------------------------------------------------------------------

TEST(RenderProgress, OneRowPerSubflowWithTreeBranches) {
  auto view = halfway();
  view.subflows = {{"192.0.2.1:4123", "198.51.100.2:443", 0.52, 31.2 * MiB, 4100, false, false},
                   {"192.0.2.7:4124", "198.51.100.2:443", 0.48, 28.8 * MiB, 12000, true, false}};
  const auto lines = render_progress(view, 100);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1],
            "  \xe2\x94\x9c 192.0.2.1:4123 -> 198.51.100.2:443   52%  31.2MB/s  rtt 4.10 ms");
  EXPECT_EQ(
      lines[2],
      "  \xe2\x94\x94 192.0.2.7:4124 -> 198.51.100.2:443   48%  28.8MB/s  rtt 12.0 ms  joined");
}

TEST(RenderProgress, SubflowFiguresAlignAcrossRows) {
  auto view = halfway();
  view.subflows = {{"192.0.2.1:1", "198.51.100.2:443", 0.5, 1e6, 1000, false, false},
                   {"[2001:db8::1]:51234", "[2001:db8::2]:443", 0.5, 1e6, 1000, false, false}};
  const auto lines = render_progress(view, 120);
  EXPECT_EQ(lines[1].find('%'), lines[2].find('%'));
  EXPECT_EQ(display_width(lines[1]), display_width(lines[2]));
}

TEST(RenderProgress, ClosedSubflowAndUnknownRtt) {
  auto view = halfway();
  view.subflows = {{"192.0.2.1:4123", "198.51.100.2:443", 0, 0, 0, true, true}};
  const auto lines = render_progress(view, 100);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1],
            "  \xe2\x94\x94 192.0.2.1:4123 -> 198.51.100.2:443    0%  --.-KB/s  rtt -  closed");
}

TEST(RenderProgress, NarrowRowsCutTheAddressesNotTheFigures) {
  auto view = halfway();
  view.subflows = {{"192.0.2.1:4123", "198.51.100.2:443", 0.52, 31.2 * MiB, 4100, false, false}};
  const auto line = render_progress(view, 50)[1];
  EXPECT_EQ(display_width(line), 50u);
  EXPECT_NE(line.find("\xe2\x80\xa6"), std::string::npos) << line;
  EXPECT_NE(line.find("rtt 4.10 ms"), std::string::npos) << line;
}

TEST(RenderProgress, ShareIsClamped) {
  auto view = halfway();
  view.subflows = {{"a", "b", 1.7, 0, 0, false, false}, {"c", "d", -0.3, 0, 0, false, false}};
  const auto lines = render_progress(view, 80);
  EXPECT_NE(lines[1].find("100%"), std::string::npos);
  EXPECT_NE(lines[2].find(" 0%"), std::string::npos);
}

// --- redraw ----------------------------------------------------------------------------------

TEST(Redraw, FirstFrameJustWritesTheLines) {
  EXPECT_EQ(redraw({}, {"a", "b"}), "\ra\x1b[K\n\rb\x1b[K\n");
}

TEST(Redraw, SameNumberOfLinesMovesUpAndRewrites) {
  EXPECT_EQ(redraw({"a", "b"}, {"c", "d"}), "\x1b[2A\rc\x1b[K\n\rd\x1b[K\n");
}

TEST(Redraw, MoreLinesThanBeforeWriteOnBelow) {
  EXPECT_EQ(redraw({"a"}, {"b", "c", "d"}), "\x1b[1A\rb\x1b[K\n\rc\x1b[K\n\rd\x1b[K\n");
}

TEST(Redraw, FewerLinesClearTheLeftovers) {
  EXPECT_EQ(redraw({"a", "b", "c"}, {"d"}), "\x1b[3A\rd\x1b[K\n\x1b[J");
}

TEST(Redraw, NothingNextErasesTheDisplay) { EXPECT_EQ(redraw({"a", "b"}, {}), "\x1b[2A\x1b[J"); }

TEST(Redraw, NothingBeforeAndNothingNextIsNothing) { EXPECT_EQ(redraw({}, {}), ""); }

TEST(Redraw, NeverClearsALineBeforeWritingIt) {
  // "\x1b[2K" or "\x1b[J" before the text would blank the line for a moment: flicker.
  const auto out = redraw({"aaaa", "bbbb"}, {"cc", "dd"});
  EXPECT_EQ(out.find("\x1b[2K"), std::string::npos);
  EXPECT_EQ(out.find("\x1b[J"), std::string::npos);
  EXPECT_LT(out.find("cc"), out.find("\x1b[K"));
}

}  // namespace
