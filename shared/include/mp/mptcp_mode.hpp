#pragma once
// What a program does when the kernel will not give it an MPTCP socket.

#include <optional>
#include <string_view>

namespace mp {

enum class mptcp_mode {
  automatic,  // try MPTCP; on refusal warn once and use TCP
  on,         // MPTCP or an error
  off,        // plain TCP
};

std::optional<mptcp_mode> parse_mptcp_mode(std::string_view text) noexcept;
std::string_view to_string(mptcp_mode mode) noexcept;

}  // namespace mp
