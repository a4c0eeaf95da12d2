// response_sender on real sockets: every piece arrives byte-exact and in order, by sendfile and
// by copy, also when the reader is slow and the socket keeps filling up (the path where a
// transfer must pause and resume without losing buffered bytes).
#include "response_sender.hpp"

#include "mp/mptcp_socket.hpp"

#include "../shared/tls_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using mpserve::body_method;
using mpserve::response_piece;

class temporary_file {
public:
  explicit temporary_file(const std::string& content) {
    char name[] = "/tmp/mpserve-sender-test-XXXXXX";
    fd_ = ::mkstemp(name);
    path_ = name;
    EXPECT_EQ(::write(fd_, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  }
  ~temporary_file() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

private:
  int fd_ = -1;
  std::string path_;
};

// A connected pair over loopback. A small receive buffer makes the sender meet a full socket
// again and again; a small send buffer makes partial sends common, also of a copy's last buffer.
void connect_with_small_buffers(boost::asio::io_context& io, mp::mptcp_mode mode, mp::mptcp::socket& server,
                                mp::mptcp::socket& client) {
  mp::mptcp::acceptor acceptor(io);
  boost::system::error_code ec;
  mp::open_listener(acceptor, {boost::asio::ip::address_v4::loopback(), 0}, mode, 4, ec);
  ASSERT_FALSE(ec) << ec.message();
  mp::open_stream_socket(client, AF_INET, mode, ec);
  ASSERT_FALSE(ec) << ec.message();
  const int small = 16 * 1024;
  ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  client.connect(acceptor.local_endpoint(), ec);
  ASSERT_FALSE(ec) << ec.message();
  acceptor.accept(server, ec);
  ASSERT_FALSE(ec) << ec.message();
  const int small_send = 32 * 1024;
  ::setsockopt(server.native_handle(), SOL_SOCKET, SO_SNDBUF, &small_send, sizeof small_send);
}

struct sender_case {
  body_method method;
  mp::mptcp_mode mode;
  bool slow_reader;
  bool tls = false;  // encrypted by a session whose handshake ran in memory beforehand
};

class ResponseSender : public ::testing::TestWithParam<sender_case> {};

TEST_P(ResponseSender, DeliversEveryPieceInOrder) {
  // Plain names, not a structured binding: clang 14 cannot capture bindings in lambdas.
  const sender_case param = GetParam();
  const body_method method = param.method;
  const mp::mptcp_mode mode = param.mode;
  const bool slow_reader = param.slow_reader, tls = param.tls;
  std::mt19937 random(7);
  std::string content(3 * 1024 * 1024 + 12345, '\0');
  for (auto& c : content) c = static_cast<char>(random());
  temporary_file file(content);

  boost::asio::io_context io;
  mp::mptcp::socket server(io), client(io);
  ASSERT_NO_FATAL_FAILURE(connect_with_small_buffers(io, mode, server, client));

  // Header, a middle range, a memory piece, a range ending at EOF, a trailer.
  std::vector<response_piece> pieces = {
      {"HEADER\r\n\r\n", 1000, 2 * 1024 * 1024},
      {"--middle--", 0, 10},
      {"--tail--", content.size() - 655360, 655360},  // ten whole copy buffers
      {"--end--", 0, 0},
  };
  const std::string expected = "HEADER\r\n\r\n" + content.substr(1000, 2 * 1024 * 1024) + "--middle--" +
                               content.substr(0, 10) + "--tail--" +
                               content.substr(content.size() - 655360) + "--end--";

  mp::test::test_pki pki;
  auto server_ctx = mp::test::server_context(pki);
  auto client_ctx = mp::test::client_context(pki);
  mp::test::session_pair sessions(server_ctx.get(), client_ctx.get());
  if (tls) {
    ASSERT_EQ(mp::test::handshake_in_memory(sessions.client, sessions.server), mp::tls_status::ok);
  }

  std::string received;
  std::thread reader([&] {
    std::vector<char> buffer(slow_reader ? 4096 : 1 << 20);
    for (;;) {
      const ssize_t n = ::recv(client.native_handle(), buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      if (tls) {
        auto space = sessions.client.input_space(static_cast<std::size_t>(n));
        std::memcpy(space.data(), buffer.data(), static_cast<std::size_t>(n));
        sessions.client.commit_input(static_cast<std::size_t>(n));
        received += mp::test::read_all(sessions.client);
      } else {
        received.append(buffer.data(), static_cast<std::size_t>(n));
      }
      if (slow_reader && received.size() % (256 * 1024) < 4096)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  std::shared_ptr<const mpserve::file_mapping> mapping;
  if (method == body_method::mapped) {
    std::error_code map_error;
    mapping = mpserve::file_mapping::map(file.fd(), content.size(), map_error);
    ASSERT_TRUE(mapping) << map_error.message();
  }
  mpserve::response_sender sender(64 * 1024);
  boost::system::error_code result = boost::asio::error::would_block;
  sender.start(server, pieces, {file.fd(), method, mapping}, nullptr, [&](const boost::system::error_code& done) {
    result = done;
    server.shutdown(mp::mptcp::socket::shutdown_send);
  }, tls ? &sessions.server : nullptr);
  io.run_for(std::chrono::seconds(60));
  reader.join();

  EXPECT_FALSE(result) << result.message();
  EXPECT_EQ(sender.file_bytes_sent(), 2u * 1024 * 1024 + 10 + 655360);
  EXPECT_EQ(sender.bytes_sent(), expected.size());
  ASSERT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected) << "the bytes differ";
}

INSTANTIATE_TEST_SUITE_P(
    MethodsProtocolsAndReaders, ResponseSender,
    ::testing::Values(sender_case{body_method::sendfile, mp::mptcp_mode::off, false},
                      sender_case{body_method::sendfile, mp::mptcp_mode::off, true},
                      sender_case{body_method::copy, mp::mptcp_mode::off, true},
                      sender_case{body_method::sendfile, mp::mptcp_mode::automatic, true},
                      sender_case{body_method::copy, mp::mptcp_mode::automatic, false},
                      sender_case{body_method::copy, mp::mptcp_mode::automatic, true},
                      sender_case{body_method::mapped, mp::mptcp_mode::off, true},
                      sender_case{body_method::mapped, mp::mptcp_mode::automatic, false},
                      sender_case{body_method::mapped, mp::mptcp_mode::automatic, true},
                      sender_case{body_method::copy, mp::mptcp_mode::off, true, true},
                      sender_case{body_method::copy, mp::mptcp_mode::automatic, false, true},
                      sender_case{body_method::copy, mp::mptcp_mode::automatic, true, true}),
    [](const auto& info) {
      if (info.param.tls)
        return std::string("Tls") + (info.param.mode == mp::mptcp_mode::off ? "Tcp" : "Mptcp") +
               (info.param.slow_reader ? "SlowReader" : "FastReader");
      const auto method = info.param.method;
      return std::string(method == body_method::sendfile ? "Sendfile" : method == body_method::copy ? "Copy" : "Mapped") +
             (info.param.mode == mp::mptcp_mode::off ? "Tcp" : "Mptcp") +
             (info.param.slow_reader ? "SlowReader" : "FastReader");
    });

TEST(ResponseSenderStall, AClientThatNeverReadsTimesOut) {
  temporary_file file(std::string(8 * 1024 * 1024, 'x'));
  boost::asio::io_context io;
  mp::mptcp::acceptor acceptor(io);
  boost::system::error_code ec;
  mp::open_listener(acceptor, {boost::asio::ip::address_v4::loopback(), 0}, mp::mptcp_mode::off, 4, ec);
  ASSERT_FALSE(ec);
  mp::mptcp::socket server(io), client(io);
  mp::open_stream_socket(client, AF_INET, mp::mptcp_mode::off, ec);
  client.connect(acceptor.local_endpoint(), ec);
  ASSERT_FALSE(ec);
  acceptor.accept(server, ec);
  ASSERT_FALSE(ec);

  mpserve::response_sender sender(64 * 1024, std::chrono::milliseconds(300));
  boost::system::error_code result;
  bool done = false;
  const auto started = std::chrono::steady_clock::now();
  sender.start(server, {{"H", 0, 8 * 1024 * 1024}}, {file.fd(), body_method::sendfile, nullptr}, nullptr,
               [&](const boost::system::error_code& e) {
                 result = e;
                 done = true;
               });
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(done);
  EXPECT_EQ(result, boost::asio::error::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_LT(sender.file_bytes_sent(), 8u * 1024 * 1024);
}

// A file that shrinks while it is sent from a mapping: to a page boundary (the kernel's copy
// would fault: EFAULT, no SIGBUS, we never read the mapping ourselves), inside a page (the
// mapping reads as zeros up to the page's end), and inside the range's last page (no fault at
// all). Each time the transfer ends with `fault`, and what the client got is a true prefix.
struct shrink_case {
  mp::mptcp_mode mode;
  std::size_t shrunk_size;
};
// Small, since MPTCP with these small buffers moves only a few hundred KiB/s. The sender stays
// about 100 KiB ahead of the reader (64 KiB send buffer, 32 KiB receive buffer, the reader's
// 4 KiB), so it is still short of the cut when the reader shrinks the file.
constexpr std::size_t shrink_file_size = 1024 * 1024 + 100;
constexpr std::size_t shrink_after = 256 * 1024, shrink_to_page = 512 * 1024;

class MappedShrink : public ::testing::TestWithParam<shrink_case> {};

TEST_P(MappedShrink, EndsTheTransferWithFaultAndSendsOnlyTrueBytes) {
  const mp::mptcp_mode mode = GetParam().mode;
  const std::size_t shrunk_size = GetParam().shrunk_size;
  std::mt19937 random(11);
  std::string content(shrink_file_size, '\0');
  for (auto& c : content) c = static_cast<char>(random());
  temporary_file file(content);
  std::error_code map_error;
  auto mapping = mpserve::file_mapping::map(file.fd(), content.size(), map_error);
  ASSERT_TRUE(mapping) << map_error.message();

  boost::asio::io_context io;
  mp::mptcp::socket server(io), client(io);
  ASSERT_NO_FATAL_FAILURE(connect_with_small_buffers(io, mode, server, client));
  const timeval patience{10, 0};  // bounds the reader whatever the connection does
  ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);

  std::string received;
  std::thread reader([&] {
    std::vector<char> buffer(4096);
    bool shrunk = false;
    for (;;) {
      const ssize_t n = ::recv(client.native_handle(), buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      received.append(buffer.data(), static_cast<std::size_t>(n));
      if (!shrunk && received.size() >= shrink_after) {
        shrunk = true;
        EXPECT_EQ(::truncate(file.path().c_str(), shrunk_size), 0);
      }
      if (received.size() % (16 * 1024) < 4096) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  mpserve::response_sender sender(64 * 1024);
  boost::system::error_code result = boost::asio::error::would_block;
  sender.start(server, {{"", 0, content.size()}}, {file.fd(), body_method::mapped, mapping}, nullptr,
               [&](const boost::system::error_code& done) {
                 result = done;
                 server.set_option(boost::asio::socket_base::linger(true, 0));  // as the session does
                 server.close();
               });
  io.run_for(std::chrono::seconds(30));
  reader.join();

  EXPECT_EQ(result, boost::asio::error::fault) << result.message();
  // Every true byte up to the new end, and not one more (no zeros from the page's tail).
  EXPECT_EQ(sender.file_bytes_sent(), shrunk_size);
  EXPECT_LE(received.size(), sender.file_bytes_sent());
  EXPECT_TRUE(received == content.substr(0, received.size())) << "bytes that are not the file's";
}

INSTANTIATE_TEST_SUITE_P(
    TcpAndMptcp, MappedShrink,
    ::testing::Values(shrink_case{mp::mptcp_mode::off, shrink_to_page},
                      shrink_case{mp::mptcp_mode::off, shrink_to_page + 100},
                      shrink_case{mp::mptcp_mode::off, shrink_file_size - 50},
                      shrink_case{mp::mptcp_mode::automatic, shrink_to_page},
                      shrink_case{mp::mptcp_mode::automatic, shrink_to_page + 100},
                      shrink_case{mp::mptcp_mode::automatic, shrink_file_size - 50}),
    [](const auto& info) {
      const std::size_t size = info.param.shrunk_size;
      return std::string(info.param.mode == mp::mptcp_mode::off ? "Tcp" : "Mptcp") +
             (size == shrink_to_page ? "ToAPageBoundary" : size == shrink_file_size - 50 ? "InsideTheLastPage" : "InsideAPage");
    });

}  // namespace
