#pragma once
// Every limit and default of mpserve in one place; each is an option in main.cpp.

#include "mp/mptcp_mode.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace mpserve {

struct server_config {
  std::string directory = ".";
  std::string bind_address;  // empty: every address, IPv6 and IPv4
  std::uint16_t port = 8000;
  mp::mptcp_mode mptcp = mp::mptcp_mode::automatic;
  std::chrono::milliseconds progress_interval{1000};  // zero: no periodic progress lines
  std::size_t header_limit = 16 * 1024;
  std::chrono::seconds header_timeout{30};  // for a whole request header, against slow clients
  int backlog = 1024;
};

}  // namespace mpserve
