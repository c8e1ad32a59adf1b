// wasi:sockets/tcp and tcp-create-socket: the WIT's state machine (unbound,
// bind, listen or connect in progress, listening, connected, closed) over a
// non-blocking fd. Start-* does the syscall, finish-* reports it: would-block
// while the kernel is not done, not-in-progress without a start. The policy
// is asked before bind(2) and connect(2).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "wasi/p2/socket_options.h"
#include "wasi/p2/sockets_wit.h"

namespace stratus::wasi::p2 {
namespace {

namespace tcp = ::wasi::sockets::tcp;
namespace streams = ::wasi::io::streams;
namespace poll = ::wasi::io::poll;
using wit::HostResult;
using wit::Unit;
using C = SocketErrorCode;

template <class T>
SocketResult<T> option_result(const std::variant<T, int>& v) {
  if (const int* err = std::get_if<int>(&v)) return socket_fail_errno(*err);
  return socket_ok(std::get<T>(v));
}

SocketResult<Unit> set_option(int fd, int level, int name, int value) {
  if (int err = set_int_option(fd, level, name, value)) return socket_fail_errno(err);
  return socket_ok();
}

class TcpHost final : public tcp::Host {
 public:
  explicit TcpHost(WasiCtx& ctx) : ctx_(ctx) {}

  void drop_tcp_socket(uint32_t rep) override {
    // Dropping the socket ends its connection or stops its listening (as
    // close(2) would) even while the guest still holds its streams or
    // pollables: they keep the fd open, and see the end.
    if (auto s = ctx_.tcp_sockets.get(rep)) ::shutdown(s->fd->get(), SHUT_RDWR);
    ctx_.tcp_sockets.remove(rep);
  }

  SocketResult<Unit> tcp_socket_start_bind(const tcp::TcpSocketBorrow& self, const tcp::NetworkBorrow& network,
                                           const tcp::IpSocketAddress& local_address) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (!known_network(ctx_, network.rep)) return guest_error("unknown network");
    if (s->state == TcpState::BindStarted) return socket_fail(C::kConcurrencyConflict);
    if (s->state != TcpState::Unbound) return socket_fail(C::kInvalidState);
    SocketAddress local = from_wit(local_address);
    if (auto no = refuse_address(ctx_, "TCP bind", local, s->v6, false)) return socket_fail(*no);
    // A listener restarted on its port should not wait out TIME_WAIT (the
    // WIT asks for SO_REUSEADDR on a non-zero port).
    if (local.port != 0) {
      int one = 1;
      ::setsockopt(s->fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    auto native = to_native(local);
    if (::bind(s->fd->get(), native.get(), native.length) != 0) return socket_fail_errno(errno);
    s->state = TcpState::BindStarted;
    return socket_ok();
  }

  SocketResult<Unit> tcp_socket_finish_bind(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state != TcpState::BindStarted) return socket_fail(C::kNotInProgress);
    s->state = TcpState::Bound;
    return socket_ok();
  }

  SocketResult<Unit> tcp_socket_start_connect(const tcp::TcpSocketBorrow& self, const tcp::NetworkBorrow& network,
                                              const tcp::IpSocketAddress& remote_address) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (!known_network(ctx_, network.rep)) return guest_error("unknown network");
    if (s->state == TcpState::ConnectStarted || s->state == TcpState::BindStarted ||
        s->state == TcpState::ListenStarted)
      return socket_fail(C::kConcurrencyConflict);
    if (s->state != TcpState::Unbound && s->state != TcpState::Bound) return socket_fail(C::kInvalidState);
    SocketAddress remote = from_wit(remote_address);
    if (auto no = refuse_address(ctx_, "TCP connect to", remote, s->v6, true)) return socket_fail(*no);
    auto native = to_native(remote);
    int rc;
    do {
      rc = ::connect(s->fd->get(), native.get(), native.length);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EINPROGRESS) {
      s->state = TcpState::Closed;
      return socket_fail_errno(errno);
    }
    s->state = TcpState::ConnectStarted;
    return socket_ok();
  }

  SocketResult<std::tuple<streams::InputStream, streams::OutputStream>> tcp_socket_finish_connect(
      const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state != TcpState::ConnectStarted) return socket_fail(C::kNotInProgress);
    if (!fd_ready(s->fd->get(), POLLOUT)) return socket_fail(C::kWouldBlock);
    int failure = 0;
    socklen_t len = sizeof failure;
    if (::getsockopt(s->fd->get(), SOL_SOCKET, SO_ERROR, &failure, &len) != 0) failure = errno;
    if (failure != 0) {
      s->state = TcpState::Closed;
      return socket_fail_errno(failure);
    }
    s->state = TcpState::Connected;
    return socket_ok(streams_of(s->fd));
  }

  SocketResult<Unit> tcp_socket_start_listen(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state == TcpState::ListenStarted || s->state == TcpState::BindStarted ||
        s->state == TcpState::ConnectStarted)
      return socket_fail(C::kConcurrencyConflict);
    // Not bound (no implicit bind: the policy grants binds), or listening
    // or connected already.
    if (s->state != TcpState::Bound) return socket_fail(C::kInvalidState);
    if (::listen(s->fd->get(), s->backlog) != 0) return socket_fail_errno(errno);
    s->state = TcpState::ListenStarted;
    return socket_ok();
  }

  SocketResult<Unit> tcp_socket_finish_listen(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state != TcpState::ListenStarted) return socket_fail(C::kNotInProgress);
    s->state = TcpState::Listening;
    return socket_ok();
  }

  SocketResult<std::tuple<tcp::TcpSocket, streams::InputStream, streams::OutputStream>> tcp_socket_accept(
      const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state != TcpState::Listening) return socket_fail(C::kInvalidState);
    if (auto no = refuse_new_socket(ctx_, "TCP accept")) return socket_fail(*no);
    int fd;
    do {
      fd = ::accept4(s->fd->get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return socket_fail_errno(errno);
    auto accepted = std::make_shared<TcpSocket>();
    accepted->fd = std::make_shared<OwnedFd>(fd);
    accepted->v6 = s->v6;
    accepted->state = TcpState::Connected;
    auto [in, out] = streams_of(accepted->fd);
    return socket_ok(std::make_tuple(tcp::TcpSocket{ctx_.tcp_sockets.add(accepted)}, in, out));
  }

  SocketResult<tcp::IpSocketAddress> tcp_socket_local_address(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state == TcpState::Unbound || s->state == TcpState::Closed) return socket_fail(C::kInvalidState);
    return address_result(local_address_of(s->fd->get()));
  }

  SocketResult<tcp::IpSocketAddress> tcp_socket_remote_address(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state != TcpState::Connected) return socket_fail(C::kInvalidState);
    return address_result(peer_address_of(s->fd->get()));
  }

  HostResult<bool> tcp_socket_is_listening(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return s->state == TcpState::Listening;
  }

  HostResult<tcp::IpAddressFamily> tcp_socket_address_family(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return s->v6 ? tcp::IpAddressFamily::kIpv6 : tcp::IpAddressFamily::kIpv4;
  }

  SocketResult<Unit> tcp_socket_set_listen_backlog_size(const tcp::TcpSocketBorrow& self,
                                                        const uint64_t& value) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (value == 0) return socket_fail(C::kInvalidArgument);
    if (s->state == TcpState::ConnectStarted || s->state == TcpState::Connected || s->state == TcpState::Closed)
      return socket_fail(C::kInvalidState);
    s->backlog = clamp_int(value);
    // Linux takes a new backlog by listening again.
    if (s->state == TcpState::Listening || s->state == TcpState::ListenStarted) {
      if (::listen(s->fd->get(), s->backlog) != 0) return socket_fail_errno(errno);
    }
    return socket_ok();
  }

  SocketResult<bool> tcp_socket_keep_alive_enabled(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return option_result(get_option<bool>(s->fd->get(), SOL_SOCKET, SO_KEEPALIVE));
  }
  SocketResult<Unit> tcp_socket_set_keep_alive_enabled(const tcp::TcpSocketBorrow& self, const bool& value) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return set_option(s->fd->get(), SOL_SOCKET, SO_KEEPALIVE, value ? 1 : 0);
  }

  SocketResult<uint64_t> tcp_socket_keep_alive_idle_time(const tcp::TcpSocketBorrow& self) override {
    return seconds_option(self, TCP_KEEPIDLE);
  }
  SocketResult<Unit> tcp_socket_set_keep_alive_idle_time(const tcp::TcpSocketBorrow& self,
                                                         const uint64_t& value) override {
    return set_seconds_option(self, TCP_KEEPIDLE, value);
  }
  SocketResult<uint64_t> tcp_socket_keep_alive_interval(const tcp::TcpSocketBorrow& self) override {
    return seconds_option(self, TCP_KEEPINTVL);
  }
  SocketResult<Unit> tcp_socket_set_keep_alive_interval(const tcp::TcpSocketBorrow& self,
                                                        const uint64_t& value) override {
    return set_seconds_option(self, TCP_KEEPINTVL, value);
  }

  SocketResult<uint32_t> tcp_socket_keep_alive_count(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return option_result(get_option<uint32_t>(s->fd->get(), IPPROTO_TCP, TCP_KEEPCNT));
  }
  SocketResult<Unit> tcp_socket_set_keep_alive_count(const tcp::TcpSocketBorrow& self, const uint32_t& value) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (value == 0) return socket_fail(C::kInvalidArgument);
    return set_option(s->fd->get(), IPPROTO_TCP, TCP_KEEPCNT, static_cast<int>(std::min(value, kMaxKeepAliveCount)));
  }

  SocketResult<uint8_t> tcp_socket_hop_limit(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->v6) return option_result(get_option<uint8_t>(s->fd->get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS));
    return option_result(get_option<uint8_t>(s->fd->get(), IPPROTO_IP, IP_TTL));
  }
  SocketResult<Unit> tcp_socket_set_hop_limit(const tcp::TcpSocketBorrow& self, const uint8_t& value) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (value == 0) return socket_fail(C::kInvalidArgument);
    if (s->v6) return set_option(s->fd->get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, value);
    return set_option(s->fd->get(), IPPROTO_IP, IP_TTL, value);
  }

  SocketResult<uint64_t> tcp_socket_receive_buffer_size(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return option_result(get_option<uint64_t>(s->fd->get(), SOL_SOCKET, SO_RCVBUF));
  }
  SocketResult<Unit> tcp_socket_set_receive_buffer_size(const tcp::TcpSocketBorrow& self,
                                                        const uint64_t& value) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (value == 0) return socket_fail(C::kInvalidArgument);
    return set_option(s->fd->get(), SOL_SOCKET, SO_RCVBUF, clamp_int(value));
  }
  SocketResult<uint64_t> tcp_socket_send_buffer_size(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return option_result(get_option<uint64_t>(s->fd->get(), SOL_SOCKET, SO_SNDBUF));
  }
  SocketResult<Unit> tcp_socket_set_send_buffer_size(const tcp::TcpSocketBorrow& self, const uint64_t& value) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (value == 0) return socket_fail(C::kInvalidArgument);
    return set_option(s->fd->get(), SOL_SOCKET, SO_SNDBUF, clamp_int(value));
  }

  // Connecting: ready when connect(2) is done (writable); listening: when
  // a connection waits to be accepted; otherwise ready at once.
  HostResult<poll::Pollable> tcp_socket_subscribe(const tcp::TcpSocketBorrow& self) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    Pollable p;
    if (s->state == TcpState::ConnectStarted) p = Pollable{Pollable::Kind::Writable, 0, s->fd, s->fd->get()};
    if (s->state == TcpState::Listening) p = Pollable{Pollable::Kind::Readable, 0, s->fd, s->fd->get()};
    return poll::Pollable{ctx_.pollables.add(std::make_shared<Pollable>(p))};
  }

  SocketResult<Unit> tcp_socket_shutdown(const tcp::TcpSocketBorrow& self,
                                         const tcp::ShutdownType& shutdown_type) override {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state != TcpState::Connected) return socket_fail(C::kInvalidState);
    int how = shutdown_type == tcp::ShutdownType::kReceive ? SHUT_RD
              : shutdown_type == tcp::ShutdownType::kSend  ? SHUT_WR
                                                           : SHUT_RDWR;
    if (::shutdown(s->fd->get(), how) != 0) return socket_fail_errno(errno);
    return socket_ok();
  }

 private:
  static engine::Trap unknown_socket() { return guest_error("unknown tcp-socket"); }

  std::tuple<streams::InputStream, streams::OutputStream> streams_of(const std::shared_ptr<OwnedFd>& fd) {
    return {streams::InputStream{ctx_.input_streams.add(tcp_input(fd))},
            streams::OutputStream{ctx_.output_streams.add(tcp_output(fd))}};
  }

  static SocketResult<tcp::IpSocketAddress> address_result(const std::variant<SocketAddress, C>& a) {
    if (const auto* code = std::get_if<C>(&a)) return socket_fail(*code);
    return socket_ok(to_wit(std::get<SocketAddress>(a)));
  }

  SocketResult<uint64_t> seconds_option(const tcp::TcpSocketBorrow& self, int name) {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    auto v = get_option<uint64_t>(s->fd->get(), IPPROTO_TCP, name);
    if (const int* err = std::get_if<int>(&v)) return socket_fail_errno(*err);
    return socket_ok(std::get<uint64_t>(v) * kNanosPerSecond);
  }

  SocketResult<Unit> set_seconds_option(const tcp::TcpSocketBorrow& self, int name, uint64_t nanos) {
    auto s = ctx_.tcp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (nanos == 0) return socket_fail(C::kInvalidArgument);
    return set_option(s->fd->get(), IPPROTO_TCP, name, keep_alive_seconds(nanos));
  }

  WasiCtx& ctx_;
};

class TcpCreateSocketHost final : public ::wasi::sockets::tcp_create_socket::Host {
 public:
  explicit TcpCreateSocketHost(WasiCtx& ctx) : ctx_(ctx) {}
  SocketResult<tcp::TcpSocket> create_tcp_socket(const tcp::IpAddressFamily& family) override {
    bool v6 = family == tcp::IpAddressFamily::kIpv6;
    if (auto no = refuse_new_socket(ctx_, "create-tcp-socket")) return socket_fail(*no);
    auto fd = open_socket(v6, SOCK_STREAM);
    if (const auto* code = std::get_if<C>(&fd)) return socket_fail(*code);
    auto s = std::make_shared<TcpSocket>();
    s->fd = std::get<std::shared_ptr<OwnedFd>>(fd);
    s->v6 = v6;
    return socket_ok(tcp::TcpSocket{ctx_.tcp_sockets.add(std::move(s))});
  }

 private:
  WasiCtx& ctx_;
};

}  // namespace

Result<void> define_tcp(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(tcp::define(linker, keep.keep(std::make_shared<TcpHost>(ctx)), resources));
  STRATUS_TRY(::wasi::sockets::tcp_create_socket::define(linker, keep.keep(std::make_shared<TcpCreateSocketHost>(ctx)),
                                                         resources));
  return {};
}

}  // namespace stratus::wasi::p2
