// wasi:sockets/types@0.3's tcp-socket: the WIT's states (unbound, bound,
// connecting, connected, listening, closed after a failed connect) over a
// non-blocking fd. connect is an async func that waits for the fd to be
// writable on the store's reactor; listen, send and receive hand their
// streams to the pumps of sockets_tcp_streams.cc. The policy is asked
// before bind(2), connect(2) and the implicit bind of a listen.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "wasi/p2/socket_options.h"
#include "wasi/p3/sockets.h"

namespace stratus::wasi::p3 {
namespace {

using wit::Unit;
using Status = SocketStatus;

engine::Trap unknown_socket() { return p2::guest_error("unknown tcp-socket"); }

}  // namespace

// Binds `fd` to `local` after the checks and the policy (a refusal is told
// to ctx.refused as `what`); nullopt, or why not.
std::optional<SocketError> SocketsHost::bind_checked(int fd, bool v6, const p2::SocketAddress& local,
                                                     const char* what) {
  if (auto no = refuse_address(what, local, v6, false)) return no;
  // A listener restarted on its port should not wait out TIME_WAIT (the
  // WIT asks for SO_REUSEADDR). Not on a bind to port 0: another socket
  // bound to the same port must still be refused (Linux lets two sockets
  // with it share a port while neither listens); listen sets it then.
  if (local.port != 0) p2::set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  auto native = p2::to_native(local);
  if (::bind(fd, native.get(), native.length) != 0) {
    if (errno == EAFNOSUPPORT) return invalid_argument();
    return socket_error(errno);
  }
  return std::nullopt;
}

void SocketsHost::drop_tcp_socket(uint32_t rep) {
  // A connection outlives the socket's handle while its send or receive
  // stream is still in use (as on Wasmtime): each pump holds the fd and
  // ends its own half. Listening stops at once: its stream of sockets would
  // otherwise hold the port until the next connection came in.
  auto s = tcp_.get(rep);
  if (s && s->state == TcpState::Listening) ::shutdown(s->fd->get(), SHUT_RDWR);
  tcp_.remove(rep);
}

SocketResult<types::TcpSocket> SocketsHost::tcp_socket_create(const types::IpAddressFamily& family) {
  if (auto no = refuse_new_socket("tcp-socket.create")) return fail<types::TcpSocket>(*no);
  bool v6 = family == types::IpAddressFamily::kIpv6;
  auto fd = p2::open_socket(v6, SOCK_STREAM);
  if (const auto* code = std::get_if<p2::SocketErrorCode>(&fd)) return fail<types::TcpSocket>(from_p2(*code));
  auto s = std::make_shared<TcpSocket>();
  s->fd = std::get<std::shared_ptr<p2::OwnedFd>>(fd);
  s->v6 = v6;
  return ok(types::TcpSocket{tcp_.add(std::move(s))});
}

SocketResult<Unit> SocketsHost::tcp_socket_bind(const types::TcpSocketBorrow& self,
                                                const types::IpSocketAddress& local_address) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  if (s->state != TcpState::Unbound) return fail<Unit>(invalid_state());
  if (auto e = bind_checked(s->fd->get(), s->v6, from_wit(local_address), "TCP bind")) return fail<Unit>(*e);
  s->state = TcpState::Bound;
  return ok();
}

void SocketsHost::tcp_socket_connect(const types::TcpSocketBorrow& self, const types::IpSocketAddress& remote_address,
                                     wit::Reply<Status> reply) {
  auto s = tcp_.get(self.rep);
  if (!s) {
    reply.trap(unknown_socket());
    return;
  }
  if (s->state != TcpState::Unbound && s->state != TcpState::Bound) {
    reply(Status::err(invalid_state()));
    return;
  }
  p2::SocketAddress remote = from_wit(remote_address);
  if (auto no = refuse_address("TCP connect to", remote, s->v6, true)) {
    reply(Status::err(*no));
    return;
  }
  auto native = p2::to_native(remote);
  int rc;
  do {
    rc = ::connect(s->fd->get(), native.get(), native.length);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    s->state = TcpState::Connected;
    reply(Status::ok(Unit{}));
    return;
  }
  if (errno != EINPROGRESS) {
    s->state = TcpState::Closed;
    reply(Status::err(socket_error(errno)));
    return;
  }
  s->state = TcpState::Connecting;
  auto* reactor = &reactor_;
  uint64_t watch = reactor->watch(s->fd->get(), POLLOUT, [s, reply](short) {
    int failure = 0;
    socklen_t len = sizeof failure;
    if (::getsockopt(s->fd->get(), SOL_SOCKET, SO_ERROR, &failure, &len) != 0) failure = errno;
    if (s->state != TcpState::Connecting) failure = ECONNABORTED;  // dropped meanwhile
    if (failure != 0) {
      s->state = TcpState::Closed;
      reply(Status::err(socket_error(failure)));
      return;
    }
    s->state = TcpState::Connected;
    reply(Status::ok(Unit{}));
  });
  // A cancelled connect leaves the socket closed: it cannot connect again.
  reply.on_cancel([reactor, watch, s, reply] {
    if (!reactor->unwatch(watch)) return;
    s->state = TcpState::Closed;
    ::shutdown(s->fd->get(), SHUT_RDWR);
    reply.cancelled();
  });
}

SocketResult<wit::Stream<types::TcpSocket>> SocketsHost::tcp_socket_listen(const types::TcpSocketBorrow& self) {
  using R = wit::Stream<types::TcpSocket>;
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  if (s->state != TcpState::Unbound && s->state != TcpState::Bound) return fail<R>(invalid_state());
  // The WIT's implicit bind of an unbound socket, made here so that the
  // policy is asked for it as for any bind.
  if (s->state == TcpState::Unbound) {
    if (auto e = bind_checked(s->fd->get(), s->v6, unspecified_address(s->v6), "TCP listen's implicit bind to"))
      return fail<R>(*e);
    s->state = TcpState::Bound;
  }
  // The connections it accepts inherit SO_REUSEADDR: once it is gone, its
  // port can be bound again while they are still closing.
  p2::set_int_option(s->fd->get(), SOL_SOCKET, SO_REUSEADDR, 1);
  if (::listen(s->fd->get(), s->backlog) != 0) return fail<R>(socket_error(errno));
  s->state = TcpState::Listening;
  auto [writer, stream] = R::make();
  start_accepting(*this, reactor_, std::move(writer), s);
  return ok(std::move(stream));
}

wit::HostResult<wit::Future<Status>> SocketsHost::tcp_socket_send(const types::TcpSocketBorrow& self,
                                                                  const wit::Stream<uint8_t>& data) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  auto reader = data.reader();
  if (!reader.ok()) return p2::guest_error("tcp-socket.send: " + reader.error().message);
  auto [done, future] = wit::Future<Status>::make();
  if (s->state != TcpState::Connected || s->sending) {
    reader->drop();
    answer(std::make_shared<component::HostWriteEnd>(std::move(done)), Status::err(invalid_state()));
    return future;
  }
  s->sending = true;
  start_sending(reactor_, std::move(*reader), std::move(done), s->fd);
  return future;
}

wit::HostResult<std::tuple<wit::Stream<uint8_t>, wit::Future<Status>>> SocketsHost::tcp_socket_receive(
    const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  auto [data, stream] = wit::Stream<uint8_t>::make();
  auto [done, future] = wit::Future<Status>::make();
  if (s->state != TcpState::Connected || s->receiving) {
    data.drop();
    answer(std::make_shared<component::HostWriteEnd>(std::move(done)), Status::err(invalid_state()));
    return std::make_tuple(stream, future);
  }
  s->receiving = true;
  start_receiving(reactor_, std::move(data), std::move(done), s->fd);
  return std::make_tuple(stream, future);
}

SocketResult<types::IpSocketAddress> SocketsHost::tcp_socket_get_local_address(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  if (s->state == TcpState::Unbound || s->state == TcpState::Connecting || s->state == TcpState::Closed)
    return fail<types::IpSocketAddress>(invalid_state());
  return local_address(s->fd->get());
}

SocketResult<types::IpSocketAddress> SocketsHost::tcp_socket_get_remote_address(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  if (s->state != TcpState::Connected) return fail<types::IpSocketAddress>(invalid_state());
  return remote_address(s->fd->get());
}

wit::HostResult<bool> SocketsHost::tcp_socket_get_is_listening(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return s->state == TcpState::Listening;
}

wit::HostResult<types::IpAddressFamily> SocketsHost::tcp_socket_get_address_family(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return s->v6 ? types::IpAddressFamily::kIpv6 : types::IpAddressFamily::kIpv4;
}

SocketResult<Unit> SocketsHost::tcp_socket_set_listen_backlog_size(const types::TcpSocketBorrow& self,
                                                                   const uint64_t& value) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  if (value == 0) return fail<Unit>(invalid_argument());
  int backlog = p2::clamp_int(value);
  if (s->state == TcpState::Listening) {
    // Linux takes a new backlog by listening again.
    if (::listen(s->fd->get(), backlog) != 0) return fail<Unit>(types::ErrorCodeNotSupported{});
  } else if (s->state != TcpState::Unbound && s->state != TcpState::Bound) {
    return fail<Unit>(invalid_state());
  }
  s->backlog = backlog;
  return ok();
}

SocketResult<bool> SocketsHost::tcp_socket_get_keep_alive_enabled(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return option_result(p2::get_option<bool>(s->fd->get(), SOL_SOCKET, SO_KEEPALIVE));
}

SocketResult<Unit> SocketsHost::tcp_socket_set_keep_alive_enabled(const types::TcpSocketBorrow& self,
                                                                  const bool& value) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return set_result(p2::set_int_option(s->fd->get(), SOL_SOCKET, SO_KEEPALIVE, value ? 1 : 0));
}

SocketResult<uint64_t> SocketsHost::tcp_socket_get_keep_alive_idle_time(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  auto v = p2::get_option<uint64_t>(s->fd->get(), IPPROTO_TCP, TCP_KEEPIDLE);
  if (const int* err = std::get_if<int>(&v)) return fail<uint64_t>(socket_error(*err));
  return ok(std::get<uint64_t>(v) * p2::kNanosPerSecond);
}

SocketResult<Unit> SocketsHost::tcp_socket_set_keep_alive_idle_time(const types::TcpSocketBorrow& self,
                                                                    const uint64_t& value) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  if (value == 0) return fail<Unit>(invalid_argument());
  return set_result(p2::set_int_option(s->fd->get(), IPPROTO_TCP, TCP_KEEPIDLE, p2::keep_alive_seconds(value)));
}

SocketResult<uint64_t> SocketsHost::tcp_socket_get_keep_alive_interval(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  auto v = p2::get_option<uint64_t>(s->fd->get(), IPPROTO_TCP, TCP_KEEPINTVL);
  if (const int* err = std::get_if<int>(&v)) return fail<uint64_t>(socket_error(*err));
  return ok(std::get<uint64_t>(v) * p2::kNanosPerSecond);
}

SocketResult<Unit> SocketsHost::tcp_socket_set_keep_alive_interval(const types::TcpSocketBorrow& self,
                                                                   const uint64_t& value) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  if (value == 0) return fail<Unit>(invalid_argument());
  return set_result(p2::set_int_option(s->fd->get(), IPPROTO_TCP, TCP_KEEPINTVL, p2::keep_alive_seconds(value)));
}

SocketResult<uint32_t> SocketsHost::tcp_socket_get_keep_alive_count(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return option_result(p2::get_option<uint32_t>(s->fd->get(), IPPROTO_TCP, TCP_KEEPCNT));
}

SocketResult<Unit> SocketsHost::tcp_socket_set_keep_alive_count(const types::TcpSocketBorrow& self,
                                                                const uint32_t& value) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  if (value == 0) return fail<Unit>(invalid_argument());
  int count = static_cast<int>(std::min(value, p2::kMaxKeepAliveCount));
  return set_result(p2::set_int_option(s->fd->get(), IPPROTO_TCP, TCP_KEEPCNT, count));
}

SocketResult<uint8_t> SocketsHost::tcp_socket_get_hop_limit(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return hop_limit(s->fd->get(), s->v6);
}

SocketResult<Unit> SocketsHost::tcp_socket_set_hop_limit(const types::TcpSocketBorrow& self, const uint8_t& value) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return set_hop_limit(s->fd->get(), s->v6, value);
}

SocketResult<uint64_t> SocketsHost::tcp_socket_get_receive_buffer_size(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return buffer_size(s->fd->get(), SO_RCVBUF);
}

SocketResult<Unit> SocketsHost::tcp_socket_set_receive_buffer_size(const types::TcpSocketBorrow& self,
                                                                   const uint64_t& value) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return set_buffer_size(s->fd->get(), SO_RCVBUF, value);
}

SocketResult<uint64_t> SocketsHost::tcp_socket_get_send_buffer_size(const types::TcpSocketBorrow& self) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return buffer_size(s->fd->get(), SO_SNDBUF);
}

SocketResult<Unit> SocketsHost::tcp_socket_set_send_buffer_size(const types::TcpSocketBorrow& self,
                                                                const uint64_t& value) {
  auto s = tcp_.get(self.rep);
  if (!s) return unknown_socket();
  return set_buffer_size(s->fd->get(), SO_SNDBUF, value);
}

}  // namespace stratus::wasi::p3
