#include "terminal_text.hpp"

#include <gtest/gtest.h>

namespace {

using mpfetch::display_width;
using mpfetch::fit_to_width;
using mpfetch::printable;
using mpfetch::truncate_to_width;

constexpr const char* euro = "\xe2\x82\xac";
constexpr const char* ellipsis = "\xe2\x80\xa6";

TEST(DisplayWidth, CountsCodePointsNotBytes) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width(std::string(euro) + "1"), 2u);
  EXPECT_EQ(display_width("\xf0\x9f\x93\xa6"), 1u);  // 4-byte sequence
  EXPECT_EQ(display_width("\xe2\x94\x94 x"), 3u);
}

TEST(Printable, ControlBytesBecomeQuestionMarks) {
  EXPECT_EQ(printable("a\x1b[31mb"), "a?[31mb");
  EXPECT_EQ(printable(std::string_view("\0\n\r\t\x7f", 5)), "?????");
  EXPECT_EQ(printable(euro), euro);
}

TEST(TruncateToWidth, ShortTextIsKept) {
  EXPECT_EQ(truncate_to_width("abc", 3), "abc");
  EXPECT_EQ(truncate_to_width("abc", 10), "abc");
}

TEST(TruncateToWidth, LongTextEndsInAnEllipsis) {
  EXPECT_EQ(truncate_to_width("abcdef", 4), std::string("abc") + ellipsis);
  EXPECT_EQ(truncate_to_width("abcdef", 1), ellipsis);
  EXPECT_EQ(truncate_to_width("abcdef", 0), "");
}

TEST(TruncateToWidth, NeverSplitsAUtf8Sequence) {
  const std::string three_euros = std::string(euro) + euro + euro;
  EXPECT_EQ(truncate_to_width(three_euros, 2), std::string(euro) + ellipsis);
  EXPECT_EQ(display_width(truncate_to_width(three_euros, 2)), 2u);
}

TEST(FitToWidth, PadsLeftOrRight) {
  EXPECT_EQ(fit_to_width("ab", 4), "ab  ");
  EXPECT_EQ(fit_to_width("ab", 4, false), "  ab");
  EXPECT_EQ(fit_to_width(euro, 3), std::string(euro) + "  ");
  EXPECT_EQ(fit_to_width("abcdef", 3), std::string("ab") + ellipsis);
}

}  // namespace
