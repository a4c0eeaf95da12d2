// The mode policy of mptcp_socket.hpp on real sockets: what `auto`, `on` and `off` open, and
// what happens where the kernel has MPTCP switched off.
#include "loopback_pair.hpp"

#include "mp/connection_info.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace {

using mp::mptcp_mode;
using mp::test::loopback_pair;

int protocol_of(int fd) {
  int protocol = -1;
  socklen_t length = sizeof protocol;
  ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length);
  return protocol;
}

TEST(MptcpMode, ParsesTheThreeModesAndRejectsOthers) {
  EXPECT_EQ(mp::parse_mptcp_mode("auto"), mptcp_mode::automatic);
  EXPECT_EQ(mp::parse_mptcp_mode("on"), mptcp_mode::on);
  EXPECT_EQ(mp::parse_mptcp_mode("off"), mptcp_mode::off);
  EXPECT_FALSE(mp::parse_mptcp_mode("yes"));
  EXPECT_FALSE(mp::parse_mptcp_mode(""));
  EXPECT_EQ(mp::to_string(mptcp_mode::automatic), "auto");
}

TEST(MptcpRefusal, OnlyKernelRefusalsCount) {
  using boost::system::error_code;
  using boost::system::system_category;
  EXPECT_TRUE(mp::is_mptcp_refusal(error_code(EPROTONOSUPPORT, system_category())));
  EXPECT_TRUE(mp::is_mptcp_refusal(error_code(ENOPROTOOPT, system_category())));
  EXPECT_TRUE(mp::is_mptcp_refusal(error_code(EINVAL, system_category())));
  EXPECT_FALSE(mp::is_mptcp_refusal(error_code(EMFILE, system_category())));
  EXPECT_FALSE(mp::is_mptcp_refusal(error_code(EADDRINUSE, system_category())));
}

TEST(MptcpSocket, AutoGivesAnMptcpConnectionOverLoopback) {
  if (!mp::test::kernel_has_mptcp()) GTEST_SKIP() << "this kernel refuses IPPROTO_MPTCP sockets";
  loopback_pair pair;
  auto failure = pair.connect(mptcp_mode::automatic, mptcp_mode::automatic);
  ASSERT_FALSE(failure) << *failure;
  EXPECT_TRUE(pair.listener_opened.mptcp);
  EXPECT_TRUE(pair.client_opened.mptcp);
  EXPECT_TRUE(pair.client_opened.fallback_reason.empty());
  EXPECT_EQ(protocol_of(pair.client.native_handle()), IPPROTO_MPTCP);
  EXPECT_EQ(protocol_of(pair.server.native_handle()), IPPROTO_MPTCP);
  EXPECT_TRUE(mp::is_mptcp_connection(pair.client.native_handle()));
  EXPECT_TRUE(mp::is_mptcp_connection(pair.server.native_handle()));
}

TEST(MptcpSocket, OffOpensPlainTcp) {
  loopback_pair pair;
  auto failure = pair.connect(mptcp_mode::off, mptcp_mode::off);
  ASSERT_FALSE(failure) << *failure;
  EXPECT_FALSE(pair.client_opened.mptcp);
  EXPECT_TRUE(pair.client_opened.fallback_reason.empty());  // off is a choice, not a fallback
  EXPECT_EQ(protocol_of(pair.client.native_handle()), IPPROTO_TCP);
  EXPECT_EQ(protocol_of(pair.server.native_handle()), IPPROTO_TCP);
  EXPECT_FALSE(mp::is_mptcp_connection(pair.client.native_handle()));

  std::error_code ec;
  auto stats = mp::query_connection(pair.client.native_handle(), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_FALSE(stats.mptcp);
  EXPECT_FALSE(stats.fallback);
  ASSERT_EQ(stats.subflow_list.size(), 1u);
  EXPECT_EQ(stats.subflow_list[0].remote.port, pair.acceptor.local_endpoint().port());
}

TEST(MptcpSocket, MptcpClientOfATcpServerFallsBack) {
  if (!mp::test::kernel_has_mptcp()) GTEST_SKIP() << "this kernel refuses IPPROTO_MPTCP sockets";
  loopback_pair pair;
  auto failure = pair.connect(mptcp_mode::off, mptcp_mode::on);
  ASSERT_FALSE(failure) << *failure;
  EXPECT_EQ(protocol_of(pair.client.native_handle()), IPPROTO_MPTCP);
  EXPECT_FALSE(mp::is_mptcp_connection(pair.client.native_handle()));

  std::error_code ec;
  auto stats = mp::query_connection(pair.client.native_handle(), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_FALSE(stats.mptcp);
  EXPECT_TRUE(stats.fallback);
  ASSERT_EQ(stats.subflow_list.size(), 1u);
  EXPECT_EQ(stats.subflow_list[0].local.port, pair.client.local_endpoint().port());
}

// What the child of a disabled-MPTCP namespace found, sent back through a pipe.
struct disabled_namespace_report {
  int unshare_errno = 0;   // nonzero: could not make the namespace (skip)
  int sysctl_errno = 0;    // nonzero: could not set net.mptcp.enabled=0 (skip)
  int on_error = 0;        // errno of mode `on`
  char on_reason[160] = {};
  int auto_error = 0;      // errno of mode `auto` (should be 0)
  int auto_protocol = 0;   // protocol `auto` ended up with
  bool auto_mptcp = true;
  char auto_reason[160] = {};
  int listener_on_error = 0;
};

disabled_namespace_report run_in_namespace_with_mptcp_disabled() {
  disabled_namespace_report report;
  int fds[2];
  if (::pipe(fds) != 0) {
    report.unshare_errno = errno;
    return report;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    disabled_namespace_report r;
    if (::unshare(CLONE_NEWNET) != 0) {
      r.unshare_errno = errno;
    } else {
      // /proc/sys/net shows the namespace of the process that opens it: this child's own.
      const int sysctl = ::open("/proc/sys/net/mptcp/enabled", O_WRONLY);
      if (sysctl < 0 || ::write(sysctl, "0\n", 2) != 2) r.sysctl_errno = errno ? errno : EIO;
      if (sysctl >= 0) ::close(sysctl);
    }
    if (r.unshare_errno == 0 && r.sysctl_errno == 0) {
      boost::asio::io_context io;
      boost::system::error_code ec;
      mp::mptcp::socket on_socket(io);
      auto on = mp::open_stream_socket(on_socket, AF_INET, mptcp_mode::on, ec);
      r.on_error = ec.value();
      std::strncpy(r.on_reason, on.fallback_reason.c_str(), sizeof r.on_reason - 1);

      mp::mptcp::socket auto_socket(io);
      auto automatic = mp::open_stream_socket(auto_socket, AF_INET, mptcp_mode::automatic, ec);
      r.auto_error = ec.value();
      r.auto_mptcp = automatic.mptcp;
      r.auto_protocol = auto_socket.is_open() ? protocol_of(auto_socket.native_handle()) : -1;
      std::strncpy(r.auto_reason, automatic.fallback_reason.c_str(), sizeof r.auto_reason - 1);

      mp::mptcp::acceptor listener(io);
      mp::open_listener(listener, {boost::asio::ip::address_v4::loopback(), 0}, mptcp_mode::on, 4, ec);
      r.listener_on_error = ec.value();
    }
    [[maybe_unused]] auto written = ::write(fds[1], &r, sizeof r);
    ::_exit(0);
  }
  ::close(fds[1]);
  if (child < 0) {
    report.unshare_errno = errno;
    ::close(fds[0]);
    return report;
  }
  if (::read(fds[0], &report, sizeof report) != static_cast<ssize_t>(sizeof report))
    report.unshare_errno = EIO;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return report;
}

TEST(MptcpSocket, OnIsAClearErrorWhereMptcpIsDisabledAndAutoFallsBack) {
  if (!mp::test::kernel_has_mptcp()) GTEST_SKIP() << "this kernel has no MPTCP to disable";
  const auto r = run_in_namespace_with_mptcp_disabled();
  if (r.unshare_errno)
    GTEST_SKIP() << "cannot create a network namespace: " << std::strerror(r.unshare_errno);
  if (r.sysctl_errno)
    GTEST_SKIP() << "cannot set net.mptcp.enabled=0 in a new namespace: "
                 << std::strerror(r.sysctl_errno);

  EXPECT_EQ(r.on_error, ENOPROTOOPT);
  EXPECT_NE(std::string(r.on_reason).find("net.mptcp.enabled=0"), std::string::npos) << r.on_reason;
  EXPECT_EQ(r.listener_on_error, ENOPROTOOPT);

  EXPECT_EQ(r.auto_error, 0);
  EXPECT_FALSE(r.auto_mptcp);
  EXPECT_EQ(r.auto_protocol, IPPROTO_TCP);
  EXPECT_NE(std::string(r.auto_reason).find("net.mptcp.enabled=0"), std::string::npos)
      << r.auto_reason;
}

}  // namespace
