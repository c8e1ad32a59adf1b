// guest/mysql's Transport over a wasi:sockets TCP connection: connect with
// a timeout, reads and writes that wait at most the timeout each, and a
// check that does not block for a peer that has gone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "../../../guest/mysql/client.h"
#include "bindings.h"

namespace todo {

class TcpTransport final : public mysql::Transport {
 public:
  // `host`: an IPv4 address ("127.0.0.1") or "::1"; errors are Io errors
  // that name the address and the socket's error code ("access-denied": the
  // workload does not grant the port).
  static mysql::Result<std::unique_ptr<TcpTransport>> connect(const std::string& host, uint16_t port,
                                                              uint64_t timeout_ns);

  mysql::Result<mysql::Bytes> read() override;
  mysql::Result<void> write(std::span<const uint8_t> bytes) override;
  bool peer_gone() override;

 private:
  TcpTransport(::wasi::sockets::tcp::TcpSocket socket, ::wasi::io::streams::InputStream in,
               ::wasi::io::streams::OutputStream out, uint64_t timeout_ns)
      : in_(std::move(in)), out_(std::move(out)), socket_(std::move(socket)), timeout_ns_(timeout_ns) {}

  // The streams go before their socket.
  ::wasi::io::streams::InputStream in_;
  ::wasi::io::streams::OutputStream out_;
  ::wasi::sockets::tcp::TcpSocket socket_;
  uint64_t timeout_ns_;
};

}  // namespace todo
