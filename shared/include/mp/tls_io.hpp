#pragma once
// Asio operations that move a tls_session's ciphertext over a stream: the handshake, and a
// read-only stream adaptor that Beast's parsers read plaintext from. The stream is typically a
// beast::basic_stream, whose expiry then bounds every read and write these operations make.

#include "mp/tls_session.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <type_traits>

namespace mp {

enum class tls_error {
  handshake_failed = 1,  // the reason is the session's last_error()
  plain_http,            // the client spoke plain HTTP to a TLS port
  protocol,              // a failure after the handshake (bad record, alert)
  truncated,             // the stream ended without close_notify: what came may be cut short
};

const boost::system::error_category& tls_category() noexcept;
inline boost::system::error_code make_error_code(tls_error e) noexcept {
  return {static_cast<int>(e), tls_category()};
}

// How much ciphertext one read asks the socket for: a full TLS record (16 KiB plus header and
// tag) and then some, so a record never needs two reads.
constexpr std::size_t tls_read_size = 32 * 1024;

namespace detail {

// The two waits of both operations: send all of the session's output, or receive more input.
template <class Stream, class Self>
void send_output(Stream& stream, tls_session& session, Self& self) {
  const auto pending = session.output();
  boost::asio::async_write(stream, boost::asio::buffer(pending.data(), pending.size()), std::move(self));
}

template <class Stream, class Self>
void receive_input(Stream& stream, tls_session& session, Self& self) {
  // Receiving directly, this read only waits (under the stream's timeout) for the socket to
  // have data: the little it takes goes first, OpenSSL receives the rest itself.
  constexpr std::size_t wake_size = 512;
  const auto space = session.input_space(session.receives_directly() ? wake_size : tls_read_size);
  stream.async_read_some(boost::asio::buffer(space.data(), space.size()), std::move(self));
}

template <class Stream>
struct tls_handshake_op {
  Stream& stream;
  tls_session& session;
  bool detect_plain_http;
  enum { starting, writing, reading } state = starting;
  bool finished = false;
  bool failed = false;
  bool need_input = false;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
    if (state == writing) {
      if (ec) return self.complete(ec);
      session.consume_output(n);
    } else if (state == reading) {
      if (ec) return self.complete(ec);
      const bool first = session.input().empty();
      session.commit_input(n);
      if (first && detect_plain_http && !session.handshake_done() &&
          looks_like_plain_http(session.input()))
        return self.complete(make_error_code(tls_error::plain_http));
    }
    for (;;) {
      // Whatever OpenSSL produced (a flight, or the alert of a failure) goes out first.
      if (!session.output().empty()) {
        state = writing;
        return send_output(stream, session, self);
      }
      if (failed) return self.complete(make_error_code(tls_error::handshake_failed));
      if (finished) {
        // Every handshake byte is on the wire now: the kernel may take over sending.
        if (session.kernel_send_offered()) session.hand_sending_to_kernel();
        return self.complete({});
      }
      if (need_input) {
        need_input = false;
        state = reading;
        return receive_input(stream, session, self);
      }
      switch (session.handshake()) {
        case tls_status::ok: finished = true; break;
        case tls_status::want_input: need_input = true; break;  // after sending what it wrote
        default: failed = true; break;
      }
    }
  }
};

template <class Stream, class MutableBuffers>
struct tls_read_op {
  Stream& stream;
  tls_session& session;
  MutableBuffers buffers;
  enum { starting, writing, reading, posted } state = starting;
  bool need_input = false;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
    if (state == writing) {
      if (ec) return self.complete(ec, 0);
      session.consume_output(n);
    } else if (state == reading) {
      // The socket's end before close_notify: the peer (or someone between) cut the stream.
      if (ec == boost::asio::error::eof) return self.complete(make_error_code(tls_error::truncated), 0);
      if (ec) return self.complete(ec, 0);
      session.commit_input(n);
    } else if (state == posted) {
      return self.complete(ec, n);
    }
    const auto finish = [&](boost::system::error_code result, std::size_t bytes) {
      // Plaintext already decrypted would complete inside the initiating call: post it, so
      // that a caller reading request after pipelined request does not recurse.
      if (state != starting) return self.complete(result, bytes);
      state = posted;
      boost::asio::post(stream.get_executor(), boost::asio::append(std::move(self), result, bytes));
    };
    for (;;) {
      // Reading may make OpenSSL answer (a key update, an alert): that goes out first.
      if (!session.output().empty()) {
        state = writing;
        return send_output(stream, session, self);
      }
      boost::asio::mutable_buffer target;
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
        if (boost::asio::mutable_buffer(*it).size() > 0) {
          target = *it;
          break;
        }
      }
      if (target.size() == 0) return finish({}, 0);
      if (need_input) {
        need_input = false;
        state = reading;
        return receive_input(stream, session, self);
      }
      tls_status status;
      std::size_t got = session.read(target.data(), target.size(), status);
      if (got > 0) {
        // One record is at most 16 KiB: decrypt every whole record already received into
        // the rest of the buffer, so a large read costs one completion, not one per record.
        while (got < target.size()) {
          const std::size_t more = session.read(static_cast<char*>(target.data()) + got, target.size() - got, status);
          if (more == 0) break;  // what stopped it shows again on the next read
          got += more;
        }
        return finish({}, got);
      }
      if (status == tls_status::closed) return finish(boost::asio::error::eof, 0);
      if (status == tls_status::failed) {
        if (!session.output().empty()) continue;  // send the alert, then fail (below next time)
        if (session.socket_error())
          return finish(boost::system::error_code(session.socket_error(), boost::system::system_category()), 0);
        return finish(make_error_code(session.socket_closed() ? tls_error::truncated : tls_error::protocol), 0);
      }
      need_input = true;  // after sending anything the read produced
    }
  }
};

template <class Stream, class ConstBuffers>
struct tls_write_op {
  Stream& stream;
  tls_session& session;
  ConstBuffers buffers;
  std::size_t plaintext = 0;
  enum { starting, sending, failing } state = starting;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
    if (state == failing) return self.complete(ec, 0);
    if (state == sending) {
      if (ec) return self.complete(ec, 0);
      session.consume_output(n);
      return self.complete({}, plaintext);
    }
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer piece(*it);
      if (!session.write(piece.data(), piece.size())) {
        state = failing;  // completes from the executor, not inside the initiating call
        return boost::asio::post(stream.get_executor(),
                                 boost::asio::append(std::move(self), make_error_code(tls_error::protocol), 0));
      }
      plaintext += piece.size();
    }
    state = sending;
    send_output(stream, session, self);
  }
};

}  // namespace detail

// Runs the handshake to its end; on a server, `detect_plain_http` ends it early with
// tls_error::plain_http when the first bytes are an HTTP request instead of a ClientHello.
template <class Stream, class Token>
auto async_tls_handshake(Stream& stream, tls_session& session, bool detect_plain_http, Token&& token) {
  return boost::asio::async_compose<Token, void(boost::system::error_code)>(
      detail::tls_handshake_op<Stream>{stream, session, detect_plain_http}, token, stream);
}

// A stream of plaintext over `Stream` for Beast's algorithms (http::async_read, async_write).
// A read decrypts every whole record that has arrived, up to the buffer's size, asking the
// socket for tls_read_size bytes at a time (or, receiving directly, only waiting for it); a
// write encrypts all it is given and sends it in one go. The server's response_sender
// bypasses writes here to batch file bytes itself.
template <class Stream>
class tls_stream {
public:
  using executor_type = typename Stream::executor_type;

  tls_stream(Stream& stream, tls_session& session) : stream_(stream), session_(session) {}
  executor_type get_executor() { return stream_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::tls_read_op<Stream, MutableBuffers>{stream_, session_, buffers}, token, stream_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::tls_write_op<Stream, ConstBuffers>{stream_, session_, buffers}, token, stream_);
  }

private:
  Stream& stream_;
  tls_session& session_;
};

}  // namespace mp

namespace boost::system {
template <>
struct is_error_code_enum<mp::tls_error> : std::true_type {};
}  // namespace boost::system
