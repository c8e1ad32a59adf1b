// An HTTP/1.1 upstream on 127.0.0.1 for tests of outbound wasi:http (both
// versions): started and stopped by the test, a thread per connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace stratus::testing {

namespace upstream_detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

// The upstream: answers on 127.0.0.1, a thread per connection, and records
// what it saw.
//   GET  /hello     200 "hello from upstream\n", x-upstream-header: yes
//   POST /echo      200, the request body
//   GET  /never     reads the request and never answers
//   GET  /big       32 MiB of body, written until the client goes away
//   GET  /trailers  a chunked body "hello" with the trailer x-checksum: abc
//   GET  /stream    a chunked body: "first\n", then (once release() was
//                   called) "second\n"
//   GET  /stall     a chunked body "first\n", then nothing more
//   GET  /cut       a head that promises 100 bytes, 10 of them, then the
//                   connection closes
class Upstream {
  using tcp = boost::asio::ip::tcp;

 public:
  Upstream() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
      ADD_FAILURE() << "the upstream cannot listen: " << std::strerror(errno);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~Upstream() {
    stopping_ = true;
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : connections_) t.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
  size_t connections() const { return accepted_.load(); }
  void release() { released_ = true; }
  bool big_cut_short() const { return big_cut_short_.load(); }
  // The last request seen: method, target, host header, body size.
  struct Seen {
    std::string method, target, host;
    size_t body_size = 0;
    std::string trailer;      // the x-request-trailer field (a chunked body's trailer)
    std::string traceparent;  // its traceparent field
  };
  Seen last() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      accepted_++;
      std::lock_guard lock(mu_);
      open_.push_back(fd);
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    asio::io_context io;
    tcp::socket socket(io);
    beast::error_code ec;
    socket.assign(tcp::v4(), fd, ec);
    answer(socket);
    // Forget the fd before it closes: its number may be reused.
    std::lock_guard lock(mu_);
    open_.erase(std::find(open_.begin(), open_.end(), fd));
    socket.close(ec);
  }

  void answer(tcp::socket& socket) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket, buffer, parser, ec);
    if (ec) return;
    auto& req = parser.get();
    {
      std::lock_guard lock(mu_);
      last_ = Seen{std::string(req.method_string()),      std::string(req.target()),
                   std::string(req[http::field::host]),   req.body().size(),
                   std::string(req["x-request-trailer"]), std::string(req["traceparent"])};
    }
    std::string target(req.target());
    if (target == "/never") {
      while (!stopping_) std::this_thread::sleep_for(10ms);
      return;
    }
    if (target == "/cut") {
      std::string raw = "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789";
      asio::write(socket, asio::buffer(raw), ec);
      return;
    }
    if (target == "/trailers") {
      std::string raw =
          "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-checksum\r\n\r\n"
          "5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n";
      asio::write(socket, asio::buffer(raw), ec);
      return;
    }
    if (target == "/stream" || target == "/stall") {
      std::string head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
      asio::write(socket, asio::buffer(head + "6\r\nfirst\n\r\n"), ec);
      auto until = std::chrono::steady_clock::now() + 10s;
      while (!stopping_ && (target == "/stall" || !released_) && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(5ms);
      if (target == "/stream") asio::write(socket, asio::buffer(std::string("7\r\nsecond\n\r\n0\r\n\r\n")), ec);
      return;
    }
    if (target == "/big") {
      std::string head =
          "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: " + std::to_string(32 << 20) +
          "\r\n\r\n";
      asio::write(socket, asio::buffer(head), ec);
      std::string piece(64 * 1024, 'b');
      for (size_t sent = 0; sent < (32u << 20) && !ec; sent += piece.size())
        asio::write(socket, asio::buffer(piece), ec);
      if (ec) big_cut_short_ = true;
      return;
    }
    http::response<http::string_body> res;
    res.version(11);
    res.keep_alive(false);
    if (target == "/hello") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain");
      res.set("x-upstream-header", "yes");
      res.body() = "hello from upstream\n";
    } else if (target == "/echo") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "application/octet-stream");
      res.body() = req.body();
    } else {
      res.result(http::status::not_found);
      res.body() = "no such upstream path\n";
    }
    res.prepare_payload();
    http::write(socket, res, ec);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> accepted_{0};
  std::atomic<bool> big_cut_short_{false};
  std::atomic<bool> released_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> connections_;
  Seen last_;
};

}  // namespace upstream_detail
using upstream_detail::Upstream;

// A loopback port nothing listens on (bound a moment ago, then closed).
inline uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ADD_FAILURE() << std::strerror(errno);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace stratus::testing
