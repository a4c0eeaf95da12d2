#include "mp/tls_io.hpp"
#include "mp/tls_session.hpp"

#include "loopback_pair.hpp"
#include "tls_test_support.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <openssl/err.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

using mp::tls_session;
using mp::tls_status;
using mp::test::carry;
using mp::test::handshake_in_memory;
using mp::test::read_all;

// A CA, a server certificate it signed, and sessions for both ends.
class TlsSession : public ::testing::Test {
protected:
  explicit TlsSession(bool client_trusts_ca = true)
      : server_ctx_(mp::test::server_context(pki_)), client_ctx_(mp::test::client_context(pki_, client_trusts_ca)),
        pair_(server_ctx_.get(), client_ctx_.get()) {}

  mp::test::test_pki pki_;
  mp::test::ctx_ptr server_ctx_, client_ctx_;
  mp::test::session_pair pair_;
  tls_session& server = pair_.server;
  tls_session& client = pair_.client;
};

class UntrustingClient : public TlsSession {
protected:
  UntrustingClient() : TlsSession(false) {}
};

TEST_F(TlsSession, HandshakeAndDataBothWaysInMemory) {
  SSL_set1_host(client.native_handle(), "localhost");

  ASSERT_EQ(handshake_in_memory(client, server), tls_status::ok) << client.last_error();
  EXPECT_TRUE(client.handshake_done());
  EXPECT_TRUE(server.handshake_done());

  ASSERT_TRUE(client.write("GET / HTTP/1.1\r\n\r\n", 18));
  carry(client, server);
  EXPECT_EQ(read_all(server), "GET / HTTP/1.1\r\n\r\n");

  // A megabyte becomes 64 records, all of them waiting in one buffer for one send.
  std::string body(1 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + i / 4096);
  ASSERT_TRUE(server.write(body.data(), body.size()));
  EXPECT_GT(server.output().size(), body.size());
  EXPECT_LT(server.output().size(), body.size() + 64 * 64);  // TLS 1.3 AEAD: 22 bytes a record
  carry(server, client);
  EXPECT_EQ(read_all(client), body);
}

TEST_F(TlsSession, PartlySentOutputResumesWhereItStopped) {
  ASSERT_EQ(handshake_in_memory(client, server), tls_status::ok);
  const std::string text(50000, 'x');
  ASSERT_TRUE(server.write(text.data(), text.size()));
  // Deliver the ciphertext a few bytes at a time: the reader waits for whole records.
  std::string received;
  while (!server.output().empty()) {
    const auto piece = server.output().substr(0, 777);
    auto space = client.input_space(piece.size());
    std::memcpy(space.data(), piece.data(), piece.size());
    client.commit_input(piece.size());
    server.consume_output(piece.size());
    received += read_all(client);
  }
  EXPECT_EQ(received, text);
}

TEST_F(UntrustingClient, UnknownIssuerFailsTheClientWithTheReason) {
  EXPECT_EQ(handshake_in_memory(client, server), tls_status::failed);
  EXPECT_NE(client.last_error().find("certificate verify failed"), std::string::npos) << client.last_error();
  EXPECT_EQ(SSL_get_verify_result(client.native_handle()), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  // The server learns of it from the client's alert.
  carry(client, server);
  EXPECT_EQ(server.handshake(), tls_status::failed);
  EXPECT_FALSE(server.last_error().empty());
}

TEST_F(TlsSession, WrongHostNameFailsVerification) {
  SSL_set1_host(client.native_handle(), "example.test");
  EXPECT_EQ(handshake_in_memory(client, server), tls_status::failed);
  EXPECT_EQ(SSL_get_verify_result(client.native_handle()), X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_F(TlsSession, CloseNotifyEndsTheReader) {
  ASSERT_EQ(handshake_in_memory(client, server), tls_status::ok);
  ASSERT_TRUE(server.write("last", 4));
  server.close();
  carry(server, client);
  char buffer[16];
  tls_status status;
  EXPECT_EQ(client.read(buffer, sizeof buffer, status), 4u);
  EXPECT_EQ(client.read(buffer, sizeof buffer, status), 0u);
  EXPECT_EQ(status, tls_status::closed);
}

TEST_F(TlsSession, GarbageIsAFailureNotAHang) {
  // A handshake record holding a ClientHello of length zero.
  const std::string junk("\x16\x03\x01\x00\x04\x01\x00\x00\x00", 9);
  auto space = server.input_space(junk.size());
  std::memcpy(space.data(), junk.data(), junk.size());
  server.commit_input(junk.size());
  EXPECT_EQ(server.handshake(), tls_status::failed);
  EXPECT_FALSE(server.last_error().empty());
  EXPECT_FALSE(server.output().empty());  // the alert to send
}

TEST_F(TlsSession, ReleasedBuffersStillWork) {
  ASSERT_EQ(handshake_in_memory(client, server), tls_status::ok);
  server.release_buffers();
  client.release_buffers();
  ASSERT_TRUE(server.write("again", 5));
  carry(server, client);
  EXPECT_EQ(read_all(client), "again");
}

TEST(PlainHttp, IsToldApartFromAClientHello) {
  EXPECT_TRUE(mp::looks_like_plain_http("GET / HTTP/1.1\r\n"));
  EXPECT_TRUE(mp::looks_like_plain_http("HEAD /x HTTP/1.0\r\n"));
  EXPECT_FALSE(mp::looks_like_plain_http("\x16\x03\x01"));
  EXPECT_FALSE(mp::looks_like_plain_http("\x80\x2e\x01"));
  EXPECT_FALSE(mp::looks_like_plain_http(""));
}

// The asynchronous operations over a real loopback connection: handshake on both ends, then
// a server that answers through tls_stream and a batch of records written in one go.
TEST_F(TlsSession, AsyncHandshakeAndReaderOverLoopback) {
  mp::test::loopback_pair pair;
  if (auto error = pair.connect(mp::mptcp_mode::automatic, mp::mptcp_mode::automatic))
    GTEST_SKIP() << *error;

  boost::system::error_code server_result = boost::asio::error::would_block;
  boost::system::error_code client_result = boost::asio::error::would_block;
  mp::async_tls_handshake(pair.server, server, true, [&](const boost::system::error_code& ec) { server_result = ec; });
  mp::async_tls_handshake(pair.client, client, false, [&](const boost::system::error_code& ec) { client_result = ec; });
  pair.io.run();
  pair.io.restart();
  ASSERT_FALSE(server_result) << server_result.message() << " " << server.last_error();
  ASSERT_FALSE(client_result) << client_result.message() << " " << client.last_error();

  std::string body(300000, 'b');
  ASSERT_TRUE(client.write(body.data(), body.size()));
  const auto ciphertext = client.output();
  boost::asio::write(pair.client, boost::asio::buffer(ciphertext.data(), ciphertext.size()));
  client.consume_output(ciphertext.size());

  mp::tls_stream<mp::mptcp::socket> reader(pair.server, server);
  std::string received(body.size(), '\0');
  std::size_t got = 0;
  boost::system::error_code read_result;
  boost::asio::async_read(reader, boost::asio::buffer(received),
                          [&](const boost::system::error_code& ec, std::size_t n) {
                            read_result = ec;
                            got = n;
                          });
  pair.io.run();
  pair.io.restart();
  ASSERT_FALSE(read_result) << read_result.message();
  EXPECT_EQ(got, body.size());
  EXPECT_EQ(received, body);

  // close_notify then the end: the reader reports end of stream.
  client.close();
  const auto notify = client.output();
  boost::asio::write(pair.client, boost::asio::buffer(notify.data(), notify.size()));
  client.consume_output(notify.size());
  char one;
  reader.async_read_some(boost::asio::buffer(&one, 1),
                         [&](const boost::system::error_code& ec, std::size_t) { read_result = ec; });
  pair.io.run();
  EXPECT_EQ(read_result, boost::asio::error::eof);
}

TEST_F(TlsSession, AsyncHandshakeDetectsPlainHttp) {
  mp::test::loopback_pair pair;
  if (auto error = pair.connect(mp::mptcp_mode::automatic, mp::mptcp_mode::automatic))
    GTEST_SKIP() << *error;
  boost::asio::write(pair.client, boost::asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  boost::system::error_code result;
  mp::async_tls_handshake(pair.server, server, true, [&](const boost::system::error_code& ec) { result = ec; });
  pair.io.run();
  EXPECT_EQ(result, mp::make_error_code(mp::tls_error::plain_http));
  EXPECT_EQ(server.input().substr(0, 3), "GET");
}

}  // namespace

namespace {

// Direct receiving: after the handshake (in memory here) OpenSSL takes the records from the
// socket itself; the stream's small waiting reads and its own receives together must yield
// every byte, and a socket that ends without close_notify is reported as truncated.
TEST_F(TlsSession, DirectReceivingGetsEveryByteAndSeesTruncation) {
  mp::test::loopback_pair pair;
  if (auto error = pair.connect(mp::mptcp_mode::automatic, mp::mptcp_mode::automatic))
    GTEST_SKIP() << *error;
  ASSERT_EQ(handshake_in_memory(client, server), tls_status::ok);
  client.receive_directly_from(pair.client.native_handle());

  std::string body(3 * 1024 * 1024 + 333, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i % 251);
  ASSERT_TRUE(server.write(body.data(), body.size()));
  const std::string ciphertext(server.output());
  server.consume_output(ciphertext.size());
  std::thread sender([&] {
    boost::asio::write(pair.server, boost::asio::buffer(ciphertext));
    pair.server.shutdown(mp::mptcp::socket::shutdown_send);  // no close_notify before the end
  });

  mp::tls_stream<mp::mptcp::socket> stream(pair.client, client);
  std::string received(body.size(), '\0');
  boost::system::error_code result;
  boost::asio::async_read(stream, boost::asio::buffer(received),
                          [&](const boost::system::error_code& ec, std::size_t) { result = ec; });
  pair.io.run();
  pair.io.restart();
  ASSERT_FALSE(result) << result.message();
  EXPECT_TRUE(received == body);

  char one;
  stream.async_read_some(boost::asio::buffer(&one, 1),
                         [&](const boost::system::error_code& ec, std::size_t) { result = ec; });
  pair.io.run();
  sender.join();
  EXPECT_EQ(result, mp::make_error_code(mp::tls_error::truncated)) << result.message();
}

// Buffered (the server's way) the same end is reported the same.
TEST_F(TlsSession, BufferedReadingSeesTruncation) {
  mp::test::loopback_pair pair;
  if (auto error = pair.connect(mp::mptcp_mode::automatic, mp::mptcp_mode::automatic))
    GTEST_SKIP() << *error;
  ASSERT_EQ(handshake_in_memory(client, server), tls_status::ok);
  ASSERT_TRUE(client.write("GET", 3));
  boost::asio::write(pair.client, boost::asio::buffer(client.output().data(), client.output().size()));
  pair.client.shutdown(mp::mptcp::socket::shutdown_send);
  mp::tls_stream<mp::mptcp::socket> stream(pair.server, server);
  char buffer[16];
  std::size_t got = 0;
  boost::system::error_code result;
  stream.async_read_some(boost::asio::buffer(buffer), [&](const boost::system::error_code& ec, std::size_t n) {
    result = ec;
    got = n;
  });
  pair.io.run();
  pair.io.restart();
  EXPECT_FALSE(result);
  EXPECT_EQ(std::string(buffer, got), "GET");
  stream.async_read_some(boost::asio::buffer(buffer),
                         [&](const boost::system::error_code& ec, std::size_t) { result = ec; });
  pair.io.run();
  EXPECT_EQ(result, mp::make_error_code(mp::tls_error::truncated)) << result.message();
}

}  // namespace
