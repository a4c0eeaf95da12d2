// The endpoint table against the kernel, each case in a network namespace of its own (a forked
// child that unshares its network namespace; the namespace ends with the child), so the
// machine's own endpoints are never touched. The kernel's view is read back with `ip`.
#include "mp/pm_endpoints.hpp"

#include <gtest/gtest.h>
#include <linux/mptcp.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace {

using mp::pm_endpoint;

// Runs `body` in a child in a fresh network namespace; returns what it reports ("" = passed),
// or nullopt when no namespace can be made here.
std::optional<std::string> in_own_namespace(const std::function<std::string()>& body) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    ::close(pipe_fds[0]);
    std::string report = ::unshare(CLONE_NEWNET) != 0 ? std::string("\x01") : body();
    [[maybe_unused]] auto written = ::write(pipe_fds[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string report;
  std::array<char, 512> chunk;
  ssize_t n;
  while ((n = ::read(pipe_fds[0], chunk.data(), chunk.size())) > 0) report.append(chunk.data(), n);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status)) return "the child died";
  if (report == "\x01") return std::nullopt;
  return report;
}

std::string ip_endpoints() {
  std::string text;
  if (FILE* pipe = ::popen("ip mptcp endpoint show 2>&1", "r")) {
    std::array<char, 256> line;
    while (std::fgets(line.data(), line.size(), pipe)) text += line.data();
    ::pclose(pipe);
  }
  return text;
}

pm_endpoint endpoint(const char* address, std::uint8_t id, std::uint32_t flags) {
  pm_endpoint e;
  e.address = boost::asio::ip::make_address(address);
  e.id = id;
  e.flags = flags;
  return e;
}

#define CHECK_OR_REPORT(condition, what)                               \
  do {                                                                 \
    if (!(condition)) return std::string(what) + " (ip says: " + ip_endpoints() + ")"; \
  } while (false)

TEST(PmEndpointTable, AddsListsAndDeletesWhatIpShows) {
  auto report = in_own_namespace([] {
    mp::pm_endpoint_table table;
    if (auto ec = table.open()) return "open: " + ec.message();
    std::vector<pm_endpoint> listed;
    if (auto ec = table.list(listed)) return "list: " + ec.message();
    CHECK_OR_REPORT(listed.empty(), "a new namespace has endpoints");

    const auto subflow = endpoint("192.0.2.7", 5, MPTCP_PM_ADDR_FLAG_SUBFLOW | MPTCP_PM_ADDR_FLAG_BACKUP);
    const auto signal = endpoint("198.51.100.7", 9, MPTCP_PM_ADDR_FLAG_SIGNAL);
    if (auto ec = table.add(subflow)) return "add: " + ec.message();
    if (auto ec = table.add(signal)) return "add: " + ec.message();
    const std::string shown = ip_endpoints();
    CHECK_OR_REPORT(shown.find("192.0.2.7 id 5 subflow backup") != std::string::npos, "ip does not show the subflow endpoint");
    CHECK_OR_REPORT(shown.find("198.51.100.7 id 9 signal") != std::string::npos, "ip does not show the signal endpoint");

    if (auto ec = table.list(listed)) return "list: " + ec.message();
    CHECK_OR_REPORT(listed.size() == 2, "list does not give both endpoints");
    const pm_endpoint* found = mp::find_endpoint(listed, boost::asio::ip::make_address("::ffff:192.0.2.7"));
    CHECK_OR_REPORT(found && *found == subflow, "the IPv4-mapped address does not find the same endpoint back");
    CHECK_OR_REPORT(found->creates_subflows() && !found->implicit(), "the flags are read wrong");
    CHECK_OR_REPORT(found->to_string() == "192.0.2.7 id 5 subflow backup", "worded as " + found->to_string());
    CHECK_OR_REPORT(!mp::find_endpoint(listed, boost::asio::ip::make_address("203.0.113.7")), "an unknown address is found");

    // The same endpoint twice: the kernel refuses (EBUSY on 6.18), and the error comes back.
    CHECK_OR_REPORT(table.add(subflow), "a duplicate add succeeded");

    if (auto ec = table.remove(*found)) return "remove: " + ec.message();
    CHECK_OR_REPORT(ip_endpoints().find("192.0.2.7") == std::string::npos, "the deleted endpoint is still there");
    if (auto ec = table.list(listed)) return "list: " + ec.message();
    CHECK_OR_REPORT(listed.size() == 1 && listed[0] == signal, "list after delete is wrong");
    // Deleting it again: the kernel has no such id.
    CHECK_OR_REPORT(table.remove(subflow), "deleting a missing endpoint succeeded");
    // And it can come back with its own id, as a re-plug does.
    if (auto ec = table.add(subflow)) return "add again: " + ec.message();
    CHECK_OR_REPORT(ip_endpoints().find("192.0.2.7 id 5 subflow backup") != std::string::npos, "not back");
    return std::string();
  });
  if (!report) GTEST_SKIP() << "cannot make a network namespace here (needs root or CAP_SYS_ADMIN)";
  EXPECT_EQ(*report, "");
}

}  // namespace
