// wasi:sockets/udp and udp-create-socket. A socket binds (policy: bind
// rules), then stream() gives it a pair of datagram streams, optionally
// connected to one peer (policy: connect rules); every datagram sent to an
// address of its own is checked against the connect rules too.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "wasi/p2/sockets_wit.h"

namespace stratus::wasi::p2 {
namespace {

namespace udp = ::wasi::sockets::udp;
namespace poll = ::wasi::io::poll;
using wit::HostResult;
using wit::Unit;
using C = SocketErrorCode;

// What check-send permits per call, and the most one receive returns: a
// bound on the work and memory one guest call asks of the host.
constexpr uint64_t kSendPermit = 16;
constexpr uint64_t kMaxReceive = 16;
constexpr size_t kMaxDatagram = 65535;

bool fd_ready(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, 0) > 0;
}

SocketResult<Unit> set_option(int fd, int level, int name, int value) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return socket_fail_errno(errno);
  return socket_ok();
}

template <class T>
SocketResult<T> get_option(int fd, int level, int name) {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, level, name, &value, &len) != 0) return socket_fail_errno(errno);
  return socket_ok(static_cast<T>(value));
}

class UdpHost final : public udp::Host {
 public:
  explicit UdpHost(WasiCtx& ctx) : ctx_(ctx) {}

  void drop_udp_socket(uint32_t rep) override {
    if (auto s = ctx_.udp_sockets.get(rep)) s->dropped = true;
    ctx_.udp_sockets.remove(rep);
  }
  void drop_incoming_datagram_stream(uint32_t rep) override { ctx_.incoming_datagram_streams.remove(rep); }
  void drop_outgoing_datagram_stream(uint32_t rep) override { ctx_.outgoing_datagram_streams.remove(rep); }

  SocketResult<Unit> udp_socket_start_bind(const udp::UdpSocketBorrow& self, const udp::NetworkBorrow& network,
                                           const udp::IpSocketAddress& local_address) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (!known_network(ctx_, network.rep)) return guest_error("unknown network");
    if (s->state == UdpState::BindStarted) return socket_fail(C::kConcurrencyConflict);
    if (s->state != UdpState::Unbound) return socket_fail(C::kInvalidState);
    SocketAddress local = from_wit(local_address);
    if (auto no = refuse_address(ctx_, "UDP bind", local, s->v6, false)) return socket_fail(*no);
    auto native = to_native(local);
    if (::bind(s->fd->get(), native.get(), native.length) != 0) return socket_fail_errno(errno);
    s->state = UdpState::BindStarted;
    return socket_ok();
  }

  SocketResult<Unit> udp_socket_finish_bind(const udp::UdpSocketBorrow& self) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state != UdpState::BindStarted) return socket_fail(C::kNotInProgress);
    s->state = UdpState::Bound;
    return socket_ok();
  }

  SocketResult<std::tuple<udp::IncomingDatagramStream, udp::OutgoingDatagramStream>> udp_socket_stream(
      const udp::UdpSocketBorrow& self, const std::optional<udp::IpSocketAddress>& remote_address) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state != UdpState::Bound) return socket_fail(C::kInvalidState);
    if (remote_address) {
      SocketAddress remote = from_wit(*remote_address);
      if (auto no = refuse_address(ctx_, "UDP stream to", remote, s->v6, true)) return socket_fail(*no);
      auto native = to_native(remote);
      if (::connect(s->fd->get(), native.get(), native.length) != 0) return socket_fail_errno(errno);
      s->remote = remote;
    } else if (s->remote) {
      // Dissolve the association (connect to AF_UNSPEC).
      sockaddr unspec{};
      unspec.sa_family = AF_UNSPEC;
      if (::connect(s->fd->get(), &unspec, sizeof unspec) != 0 && errno != EAFNOSUPPORT)
        return socket_fail_errno(errno);
      s->remote.reset();
    }
    uint64_t generation = ++s->generation;
    auto in = std::make_shared<IncomingDatagramStream>(IncomingDatagramStream{s, generation});
    auto out = std::make_shared<OutgoingDatagramStream>(OutgoingDatagramStream{s, generation, 0});
    return socket_ok(std::make_tuple(udp::IncomingDatagramStream{ctx_.incoming_datagram_streams.add(in)},
                                     udp::OutgoingDatagramStream{ctx_.outgoing_datagram_streams.add(out)}));
  }

  SocketResult<udp::IpSocketAddress> udp_socket_local_address(const udp::UdpSocketBorrow& self) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->state == UdpState::Unbound) return socket_fail(C::kInvalidState);
    auto a = local_address_of(s->fd->get());
    if (const auto* code = std::get_if<C>(&a)) return socket_fail(*code);
    return socket_ok(to_wit(std::get<SocketAddress>(a)));
  }

  SocketResult<udp::IpSocketAddress> udp_socket_remote_address(const udp::UdpSocketBorrow& self) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (!s->remote) return socket_fail(C::kInvalidState);
    return socket_ok(to_wit(*s->remote));
  }

  HostResult<udp::IpAddressFamily> udp_socket_address_family(const udp::UdpSocketBorrow& self) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return s->v6 ? udp::IpAddressFamily::kIpv6 : udp::IpAddressFamily::kIpv4;
  }

  SocketResult<uint8_t> udp_socket_unicast_hop_limit(const udp::UdpSocketBorrow& self) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (s->v6) return get_option<uint8_t>(s->fd->get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS);
    return get_option<uint8_t>(s->fd->get(), IPPROTO_IP, IP_TTL);
  }
  SocketResult<Unit> udp_socket_set_unicast_hop_limit(const udp::UdpSocketBorrow& self, const uint8_t& value) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (value == 0) return socket_fail(C::kInvalidArgument);
    if (s->v6) return set_option(s->fd->get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, value);
    return set_option(s->fd->get(), IPPROTO_IP, IP_TTL, value);
  }

  SocketResult<uint64_t> udp_socket_receive_buffer_size(const udp::UdpSocketBorrow& self) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return get_option<uint64_t>(s->fd->get(), SOL_SOCKET, SO_RCVBUF);
  }
  SocketResult<Unit> udp_socket_set_receive_buffer_size(const udp::UdpSocketBorrow& self,
                                                        const uint64_t& value) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (value == 0) return socket_fail(C::kInvalidArgument);
    return set_option(s->fd->get(), SOL_SOCKET, SO_RCVBUF, static_cast<int>(std::min<uint64_t>(value, INT_MAX)));
  }
  SocketResult<uint64_t> udp_socket_send_buffer_size(const udp::UdpSocketBorrow& self) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    return get_option<uint64_t>(s->fd->get(), SOL_SOCKET, SO_SNDBUF);
  }
  SocketResult<Unit> udp_socket_set_send_buffer_size(const udp::UdpSocketBorrow& self, const uint64_t& value) override {
    auto s = ctx_.udp_sockets.get(self.rep);
    if (!s) return unknown_socket();
    if (value == 0) return socket_fail(C::kInvalidArgument);
    return set_option(s->fd->get(), SOL_SOCKET, SO_SNDBUF, static_cast<int>(std::min<uint64_t>(value, INT_MAX)));
  }

  // Binding finishes at once, so there is nothing to wait for.
  HostResult<poll::Pollable> udp_socket_subscribe(const udp::UdpSocketBorrow& self) override {
    if (!ctx_.udp_sockets.get(self.rep)) return unknown_socket();
    return poll::Pollable{ctx_.pollables.add(std::make_shared<Pollable>())};
  }

  SocketResult<std::vector<udp::IncomingDatagram>> incoming_datagram_stream_receive(
      const udp::IncomingDatagramStreamBorrow& self, const uint64_t& max_results) override {
    auto in = ctx_.incoming_datagram_streams.get(self.rep);
    if (!in) return guest_error("unknown incoming-datagram-stream");
    if (stale(*in->socket, in->generation)) return socket_fail(C::kInvalidState);
    std::vector<udp::IncomingDatagram> out;
    std::vector<uint8_t> buffer(kMaxDatagram);
    while (out.size() < std::min(max_results, kMaxReceive)) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      ssize_t n = ::recvfrom(in->socket->fd->get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || !out.empty()) break;
        return socket_fail_errno(errno);
      }
      auto sender = from_native(from);
      if (!sender) continue;
      out.push_back(udp::IncomingDatagram{std::vector<uint8_t>(buffer.begin(), buffer.begin() + n), to_wit(*sender)});
    }
    return socket_ok(std::move(out));
  }

  HostResult<poll::Pollable> incoming_datagram_stream_subscribe(
      const udp::IncomingDatagramStreamBorrow& self) override {
    auto in = ctx_.incoming_datagram_streams.get(self.rep);
    if (!in) return guest_error("unknown incoming-datagram-stream");
    const auto& fd = in->socket->fd;
    return poll::Pollable{
        ctx_.pollables.add(std::make_shared<Pollable>(Pollable{Pollable::Kind::Readable, 0, fd, fd->get()}))};
  }

  SocketResult<uint64_t> outgoing_datagram_stream_check_send(const udp::OutgoingDatagramStreamBorrow& self) override {
    auto out = ctx_.outgoing_datagram_streams.get(self.rep);
    if (!out) return guest_error("unknown outgoing-datagram-stream");
    if (stale(*out->socket, out->generation)) return socket_fail(C::kInvalidState);
    out->permitted = fd_ready(out->socket->fd->get(), POLLOUT) ? kSendPermit : 0;
    return socket_ok(out->permitted);
  }

  SocketResult<uint64_t> outgoing_datagram_stream_send(const udp::OutgoingDatagramStreamBorrow& self,
                                                       const std::vector<udp::OutgoingDatagram>& datagrams) override {
    auto out = ctx_.outgoing_datagram_streams.get(self.rep);
    if (!out) return guest_error("unknown outgoing-datagram-stream");
    if (datagrams.empty()) return socket_ok(uint64_t{0});
    if (datagrams.size() > out->permitted)
      return guest_error("outgoing-datagram-stream.send of " + std::to_string(datagrams.size()) +
                         " datagrams exceeds what check-send permitted (" + std::to_string(out->permitted) + ")");
    out->permitted = 0;
    UdpSocket& s = *out->socket;
    if (stale(s, out->generation)) return socket_fail(C::kInvalidState);
    // Once one datagram went out, the count is the answer, not an error.
    uint64_t sent = 0;
    for (const auto& d : datagrams) {
      auto err = send_one(s, d);
      if (err) {
        if (sent > 0) break;
        return socket_fail(*err);
      }
      ++sent;
    }
    return socket_ok(sent);
  }

  HostResult<poll::Pollable> outgoing_datagram_stream_subscribe(
      const udp::OutgoingDatagramStreamBorrow& self) override {
    auto out = ctx_.outgoing_datagram_streams.get(self.rep);
    if (!out) return guest_error("unknown outgoing-datagram-stream");
    const auto& fd = out->socket->fd;
    return poll::Pollable{
        ctx_.pollables.add(std::make_shared<Pollable>(Pollable{Pollable::Kind::Writable, 0, fd, fd->get()}))};
  }

 private:
  static engine::Trap unknown_socket() { return guest_error("unknown udp-socket"); }

  // Streams of a dropped socket, or older than its last stream(), are done.
  static bool stale(const UdpSocket& s, uint64_t generation) { return s.dropped || s.generation != generation; }

  std::optional<C> send_one(UdpSocket& s, const udp::OutgoingDatagram& d) {
    std::optional<SocketAddress> to;
    if (d.remote_address) {
      to = from_wit(*d.remote_address);
      if (s.remote && !(s.remote->ip == to->ip && s.remote->port == to->port)) return C::kInvalidArgument;
      if (auto no = refuse_address(ctx_, "UDP send to", *to, s.v6, true)) return no;
    } else if (!s.remote) {
      return C::kInvalidArgument;  // no peer to send to
    }
    for (;;) {
      ssize_t n;
      if (to && !s.remote) {
        auto native = to_native(*to);
        n = ::sendto(s.fd->get(), d.data.data(), d.data.size(), MSG_DONTWAIT | MSG_NOSIGNAL, native.get(),
                     native.length);
      } else {
        n = ::send(s.fd->get(), d.data.data(), d.data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      if (n >= 0) return std::nullopt;
      if (errno == EINTR) continue;
      return socket_error_code(errno);
    }
  }

  WasiCtx& ctx_;
};

class UdpCreateSocketHost final : public ::wasi::sockets::udp_create_socket::Host {
 public:
  explicit UdpCreateSocketHost(WasiCtx& ctx) : ctx_(ctx) {}
  SocketResult<udp::UdpSocket> create_udp_socket(const udp::IpAddressFamily& family) override {
    bool v6 = family == udp::IpAddressFamily::kIpv6;
    if (auto no = refuse_new_socket(ctx_, "create-udp-socket")) return socket_fail(*no);
    auto fd = open_socket(v6, SOCK_DGRAM);
    if (const auto* code = std::get_if<C>(&fd)) return socket_fail(*code);
    auto s = std::make_shared<UdpSocket>();
    s->fd = std::get<std::shared_ptr<OwnedFd>>(fd);
    s->v6 = v6;
    return socket_ok(udp::UdpSocket{ctx_.udp_sockets.add(std::move(s))});
  }

 private:
  WasiCtx& ctx_;
};

}  // namespace

Result<void> define_udp(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(udp::define(linker, keep.keep(std::make_shared<UdpHost>(ctx)), resources));
  STRATUS_TRY(::wasi::sockets::udp_create_socket::define(linker, keep.keep(std::make_shared<UdpCreateSocketHost>(ctx)),
                                                         resources));
  return {};
}

}  // namespace stratus::wasi::p2
