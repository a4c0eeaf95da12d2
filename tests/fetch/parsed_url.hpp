#pragma once
// For tests that start from URL text: parse it, and fail the test (not crash) when it does
// not parse.

#include "url_target.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

namespace mpfetch::test {

inline url_target parsed_url(std::string_view text) {
  auto result = parse_url(text);
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << "parse_url(\"" << text << "\") failed: " << *error;
    return {};
  }
  return std::get<url_target>(result);
}

}  // namespace mpfetch::test
