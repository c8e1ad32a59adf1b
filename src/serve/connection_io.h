// A connection's I/O as a request sees it (internal to serve/): the socket
// as Beast's sync algorithms want it (HttpServer::Stream), the request body
// the guest reads from it (RequestBody) and where the response goes
// (ConnectionSink).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "serve/http_server.h"
#include "wasi/p2/http.h"
#include "wasi/p2/streams.h"

namespace stratus::serve {

// A connection's socket (non-blocking) as Beast's sync algorithms see it.
// Waiting, reads and writes wait up to the timeout for each piece (a
// slow client gets that long between bytes, as with SO_RCVTIMEO); not
// waiting, a read with nothing to take fails with would_block, and the
// connection goes back to the event loop with what it has read so far.
class HttpServer::Stream {
  using Clock = std::chrono::steady_clock;

 public:
  Stream(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  void set_waiting(bool waiting) { waiting_ = waiting; }
  // Whether the last read took all the socket had (it got less than it
  // asked for, or nothing): what comes later is a new edge for epoll.
  bool drained() const { return drained_; }

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    ec = {};
    std::array<iovec, 8> iov{};
    size_t n = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && n < iov.size(); ++it) {
      boost::asio::mutable_buffer b = *it;
      if (b.size() > 0) iov[n++] = {b.data(), b.size()};
    }
    if (n == 0) return 0;
    size_t asked = 0;
    for (size_t i = 0; i < n; ++i) asked += iov[i].iov_len;
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = n;
    for (;;) {
      ssize_t got = ::recvmsg(fd_, &msg, 0);
      drained_ = got < 0 || static_cast<size_t>(got) < asked;
      if (got > 0) return static_cast<size_t>(got);
      if (got == 0) {
        ec = boost::asio::error::eof;
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec.assign(errno, boost::system::system_category());
        return 0;
      }
      if (!waiting_) {
        ec = boost::asio::error::would_block;
        return 0;
      }
      if (!wait(POLLIN, ec)) return 0;
    }
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  // Sends all of `bytes`, waiting for room as needed.
  void write_all(std::string_view bytes, boost::system::error_code& ec) {
    ec = {};
    while (!bytes.empty()) {
      ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent >= 0) {
        bytes.remove_prefix(static_cast<size_t>(sent));
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec.assign(errno, boost::system::system_category());
        return;
      }
      if (!wait(POLLOUT, ec)) return;
    }
  }

 private:
  // Waits for `events` up to the timeout; false (and ec set) if it passed.
  bool wait(short events, boost::system::error_code& ec) {
    auto deadline = Clock::now() + timeout_;
    for (;;) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, events, 0};
      int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) {
        ec.assign(errno, boost::system::system_category());
        return false;
      }
    }
    ec = boost::asio::error::timed_out;
    return false;
  }

  int fd_;
  std::chrono::milliseconds timeout_;
  bool waiting_ = true;
  bool drained_ = true;
};

using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
using Stream = HttpServer::Stream;
using wasi::p2::StreamFailure;

// The request body as the guest reads it, straight from the connection,
// for as long as the request is under way: once the connection has moved
// on (detach), a guest still reading finds it ended.
class RequestBody final : public wasi::p2::InputStream {
 public:
  RequestBody(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser)
      : stream_(&stream), buffer_(&buffer), parser_(&parser), head_fields_(count_fields(parser)) {}

  std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool) override {
    if (parser_ == nullptr) return StreamFailure{false, 0, "the request is over: its body can no longer be read"};
    if (parser_->is_done()) return StreamFailure::end();
    std::vector<uint8_t> out(static_cast<size_t>(std::min<uint64_t>(len, 64 * 1024)));
    if (out.empty()) return out;
    auto& body = parser_->get().body();
    body.data = out.data();
    body.size = out.size();
    boost::beast::error_code ec;
    // The client may wait for what the guest flushed before it sends more.
    wasi::p2::before_blocking();
    boost::beast::http::read_some(*stream_, *buffer_, *parser_, ec);
    if (ec == boost::beast::http::error::need_buffer) ec = {};
    if (ec) return StreamFailure{false, ec.value(), "reading the request body: " + ec.message()};
    out.resize(out.size() - body.size);
    if (out.empty() && parser_->is_done()) return StreamFailure::end();
    return out;
  }
  wasi::p2::Pollable subscribe() override { return wasi::p2::Pollable{}; }

  // The trailers of a chunked body read to its end (Beast adds them to the
  // head's fields); null when there are none or the body is not all read.
  std::shared_ptr<wasi::p2::HttpFields> trailers() const {
    if (parser_ == nullptr || !parser_->is_done()) return nullptr;
    std::shared_ptr<wasi::p2::HttpFields> out;
    size_t i = 0;
    for (const auto& field : parser_->get()) {
      if (i++ < head_fields_) continue;
      if (!out) out = std::make_shared<wasi::p2::HttpFields>();
      out->entries.emplace_back(std::string(field.name_string()),
                                std::vector<uint8_t>(field.value().begin(), field.value().end()));
    }
    if (out) out->immutable = true;
    return out;
  }

  void detach() { stream_ = nullptr, buffer_ = nullptr, parser_ = nullptr; }

 private:
  static size_t count_fields(const Parser& parser) {
    const auto& head = parser.get();
    return static_cast<size_t>(std::distance(head.begin(), head.end()));
  }

  Stream* stream_;
  boost::beast::flat_buffer* buffer_;
  Parser* parser_;
  size_t head_fields_;
};

// Where the guest's response goes. What the guest writes is gathered and
// sent when it finishes the body, has written 64 KiB, or has flushed and is
// about to wait (for the request body, a poll, ...: deliver() runs then, see
// answer): a small response (head, body, end of the chunked body)
// leaves in one send, as a native server's does, and a streaming one still
// reaches the client before the guest sleeps.
class ConnectionSink final : public wasi::p2::ResponseSink {
 public:
  ConnectionSink(Stream& stream, bool keep_alive, bool head_request)
      : stream_(stream), keep_alive_(keep_alive), head_request_(head_request) {}

  std::optional<StreamFailure> start(uint16_t status, const wasi::p2::HttpFields& headers) override {
    status_ = status;
    std::string& head = out_;
    head += "HTTP/1.1 " + std::to_string(status) + " " +
            std::string(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status))) + "\r\n";
    bool has_length = false;
    for (const auto& [name, value] : headers.entries) {
      if (boost::beast::iequals(name, "content-length")) has_length = true;
      head.append(name).append(": ").append(value.begin(), value.end()).append("\r\n");
    }
    chunked_ = !has_length && !head_request_ && status != 204 && status != 304;
    if (chunked_) head += "transfer-encoding: chunked\r\n";
    head += keep_alive_ ? "connection: keep-alive\r\n\r\n" : "connection: close\r\n\r\n";
    started_ = true;
    return std::nullopt;
  }

  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override {
    if (broken_ || finished_) return StreamFailure::end();
    if (bytes.empty() || head_request_) return std::nullopt;
    if (chunked_) {
      char size[24];
      std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
      out_ += size;
    }
    out_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (chunked_) out_ += "\r\n";
    if (out_.size() >= kGather) return send_gathered();
    return std::nullopt;
  }

  std::optional<StreamFailure> flush() override {
    if (broken_) return StreamFailure::end();
    flushed_ = true;
    return std::nullopt;
  }

  // Sends what the guest flushed, if it flushed anything not sent yet.
  void deliver() {
    if (flushed_) send_gathered();
  }

  void finish() override {
    if (finished_) return;
    finished_ = true;
    if (chunked_) out_ += "0\r\n" + trailers_ + "\r\n";
    send_gathered();
  }

  void set_trailers(const wasi::p2::HttpFields& trailers) override {
    trailers_.clear();
    for (const auto& [name, value] : trailers.entries)
      trailers_.append(name).append(": ").append(value.begin(), value.end()).append("\r\n");
  }

  void fail(const std::string& why) override {
    failure_ = why;
    if (!sent_) {
      error_response(500, "the component answered with an error: " + why);
    } else {
      broken_ = true;  // a response already under way cannot turn into an error: cut the connection
    }
  }

  void error_response(int status, const std::string& message) {
    status_ = static_cast<unsigned>(status);
    std::string body = message + "\n";
    std::string head =
        "HTTP/1.1 " + std::to_string(status) + " " +
        std::string(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status))) +
        "\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: " + std::to_string(body.size()) +
        (keep_alive_ ? "\r\nconnection: keep-alive\r\n\r\n" : "\r\nconnection: close\r\n\r\n");
    started_ = finished_ = true;
    out_.clear();
    send(head + (head_request_ ? "" : body));
  }

  bool started() const { return started_; }
  bool finished() const { return finished_; }
  // The status of the response begun (0: none yet).
  unsigned status() const { return status_; }
  // Whether any of the response went out: until then a failure can still be
  // answered with an error response instead.
  bool sent() const { return sent_; }
  bool broken() const { return broken_; }
  const std::string& failure() const { return failure_; }

 private:
  std::optional<StreamFailure> send_gathered() {
    flushed_ = false;
    if (out_.empty()) return std::nullopt;
    auto failure = send(out_);
    out_.clear();
    return failure;
  }

  std::optional<StreamFailure> send(std::string_view bytes) {
    if (broken_) return StreamFailure::end();
    sent_ = true;
    boost::system::error_code ec;
    stream_.write_all(bytes, ec);
    if (ec) {
      broken_ = true;
      return StreamFailure{false, ec.value(), "writing the response: " + ec.message()};
    }
    return std::nullopt;
  }

  static constexpr size_t kGather = 64 * 1024;
  Stream& stream_;
  bool keep_alive_;
  bool head_request_;
  std::string out_;       // gathered, not yet sent: the head, then body bytes as framed
  std::string trailers_;  // the trailer section's fields, as sent
  bool started_ = false, finished_ = false, chunked_ = false, broken_ = false, sent_ = false;
  bool flushed_ = false;  // the guest flushed since the last send
  unsigned status_ = 0;
  std::string failure_;
};

}  // namespace stratus::serve
