#include "tcp_transport.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

namespace todo {
namespace {

namespace net = ::wasi::sockets::network;
namespace poll = ::wasi::io::poll;
namespace streams = ::wasi::io::streams;

const char* code_name(net::ErrorCode code) {
  static const char* kNames[] = {"unknown",
                                 "access-denied",
                                 "not-supported",
                                 "invalid-argument",
                                 "out-of-memory",
                                 "timeout",
                                 "concurrency-conflict",
                                 "not-in-progress",
                                 "would-block",
                                 "invalid-state",
                                 "new-socket-limit",
                                 "address-not-bindable",
                                 "address-in-use",
                                 "remote-unreachable",
                                 "connection-refused",
                                 "connection-reset",
                                 "connection-aborted",
                                 "datagram-too-large",
                                 "name-unresolvable",
                                 "temporary-resolver-failure",
                                 "permanent-resolver-failure"};
  auto i = static_cast<size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

// An IPv4 literal, or ::1.
std::optional<net::IpSocketAddress> parse_address(std::string_view host, uint16_t port) {
  if (host == "::1") return net::IpSocketAddressIpv6{{port, 0, {0, 0, 0, 0, 0, 0, 0, 1}, 0}};
  uint8_t b[4] = {};
  size_t part = 0, digits = 0;
  unsigned value = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0 || part == 3) return std::nullopt;
      b[part++] = static_cast<uint8_t>(value);
      value = 0, digits = 0;
    } else if (c >= '0' && c <= '9' && digits < 3) {
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 255) return std::nullopt;
      ++digits;
    } else {
      return std::nullopt;
    }
  }
  if (part != 3 || digits == 0) return std::nullopt;
  b[3] = static_cast<uint8_t>(value);
  return net::IpSocketAddressIpv4{{port, {b[0], b[1], b[2], b[3]}}};
}

// Waits for `p` at most `timeout_ns`; false when the time ran out.
bool wait_for(const poll::Pollable& p, uint64_t timeout_ns) {
  auto timeout = ::wasi::clocks::monotonic_clock::subscribe_duration(timeout_ns);
  const poll::Pollable* both[] = {&p, &timeout};
  auto ready = poll::poll(both);
  return std::find(ready.begin(), ready.end(), 0u) != ready.end();
}

std::string stream_error(const streams::StreamError& e) {
  return std::holds_alternative<streams::StreamErrorClosed>(e) ? "the server closed the connection"
                                                               : "the connection failed";
}

}  // namespace

mysql::Result<std::unique_ptr<TcpTransport>> TcpTransport::connect(const std::string& host, uint16_t port,
                                                                   uint64_t timeout_ns) {
  std::string where = host + ":" + std::to_string(port);
  auto to = parse_address(host, port);
  if (!to) return mysql::io_error("the database host '" + host + "' is not an IPv4 address or ::1");
  auto family = to->index() == 0 ? net::IpAddressFamily::kIpv4 : net::IpAddressFamily::kIpv6;
  auto socket = ::wasi::sockets::tcp_create_socket::create_tcp_socket(family);
  if (!socket) return mysql::io_error("cannot make a socket for " + where + ": " + code_name(socket.error()));
  auto network = ::wasi::sockets::instance_network::instance_network();
  if (auto started = socket->start_connect(network, *to); !started) {
    return mysql::io_error("cannot connect to " + where + ": " + code_name(started.error()));
  }
  for (;;) {
    auto done = socket->finish_connect();
    if (done) {
      auto [in, out] = std::move(*done);
      return std::unique_ptr<TcpTransport>(
          new TcpTransport(std::move(*socket), std::move(in), std::move(out), timeout_ns));
    }
    if (done.error() != net::ErrorCode::kWouldBlock) {
      return mysql::io_error("cannot connect to " + where + ": " + code_name(done.error()));
    }
    if (!wait_for(socket->subscribe(), timeout_ns)) return mysql::io_error("cannot connect to " + where + ": timeout");
  }
}

mysql::Result<mysql::Bytes> TcpTransport::read() {
  for (;;) {
    auto got = in_.read(64 * 1024);
    if (!got) return mysql::io_error(stream_error(got.error()));
    if (!got->empty()) return std::move(*got);
    if (!wait_for(in_.subscribe(), timeout_ns_)) return mysql::io_error("the server did not answer in time");
  }
}

mysql::Result<void> TcpTransport::write(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    auto permit = out_.check_write();
    if (!permit) return mysql::io_error(stream_error(permit.error()));
    if (*permit == 0) {
      if (!wait_for(out_.subscribe(), timeout_ns_)) return mysql::io_error("the server took no data in time");
      continue;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(*permit, bytes.size()));
    if (auto w = out_.write(bytes.first(n)); !w) return mysql::io_error(stream_error(w.error()));
    bytes = bytes.subspan(n);
  }
  if (auto f = out_.blocking_flush(); !f) return mysql::io_error(stream_error(f.error()));
  return {};
}

bool TcpTransport::peer_gone() {
  auto got = in_.read(1);
  return !got || !got->empty();
}

}  // namespace todo
