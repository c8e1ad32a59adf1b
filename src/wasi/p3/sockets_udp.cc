// wasi:sockets/types@0.3's udp-socket: bind, connect (a default remote and
// a filter) and disconnect are immediate; send and receive are async funcs
// that try at once and otherwise wait for the fd on the store's reactor.
// A send to an address the policy does not allow is refused before it
// leaves.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "wasi/p2/socket_options.h"
#include "wasi/p3/sockets.h"

namespace stratus::wasi::p3 {
namespace {

using wit::Unit;
using Status = SocketStatus;
using Datagram = std::tuple<std::vector<uint8_t>, types::IpSocketAddress>;
using Received = wit::WitResult<Datagram, SocketError>;

// The largest datagram IPv4 and IPv6 carry without jumbograms.
constexpr size_t kMaxDatagram = 65535;

engine::Trap unknown_socket() { return p2::guest_error("unknown udp-socket"); }

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

bool same_address(const p2::SocketAddress& a, const p2::SocketAddress& b) { return a.ip == b.ip && a.port == b.port; }

struct PendingSend {
  std::shared_ptr<UdpSocket> socket;
  std::vector<uint8_t> data;
  std::optional<p2::SocketAddress> to;  // nullopt: the connected remote
};

// One try of a send; nullopt when the kernel would block.
std::optional<Status> try_send(const PendingSend& p) {
  ssize_t n;
  if (p.to) {
    auto native = p2::to_native(*p.to);
    n = ::sendto(p.socket->fd->get(), p.data.data(), p.data.size(), MSG_NOSIGNAL | MSG_DONTWAIT, native.get(),
                 native.length);
  } else {
    n = ::send(p.socket->fd->get(), p.data.data(), p.data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  if (n >= 0) return Status::ok(Unit{});
  if (would_block(errno)) return std::nullopt;
  return Status::err(socket_error(errno));
}

void send_when_ready(component::Reactor& reactor, std::shared_ptr<PendingSend> p, wit::Reply<Status> reply) {
  if (auto done = try_send(*p)) {
    reply(*done);
    return;
  }
  auto* r = &reactor;
  uint64_t watch = r->watch(p->socket->fd->get(), POLLOUT, [r, p, reply](short) { send_when_ready(*r, p, reply); });
  reply.on_cancel([r, watch, reply] {
    if (r->unwatch(watch)) reply.cancelled();
  });
}

void receive_when_ready(component::Reactor& reactor, std::shared_ptr<UdpSocket> s, wit::Reply<Received> reply) {
  std::vector<uint8_t> buf(kMaxDatagram);
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  ssize_t n = ::recvfrom(s->fd->get(), buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
  if (n >= 0) {
    buf.resize(static_cast<size_t>(n));
    auto peer = p2::from_native(from);
    if (!peer) peer = s->remote.value_or(unspecified_address(s->v6));
    reply(Received::ok(Datagram{std::move(buf), wit_address(*peer)}));
    return;
  }
  if (!would_block(errno)) {
    reply(Received::err(socket_error(errno)));
    return;
  }
  auto* r = &reactor;
  uint64_t watch = r->watch(s->fd->get(), POLLIN, [r, s, reply](short) { receive_when_ready(*r, s, reply); });
  reply.on_cancel([r, watch, reply] {
    if (r->unwatch(watch)) reply.cancelled();
  });
}

}  // namespace

void SocketsHost::drop_udp_socket(uint32_t rep) { udp_.remove(rep); }

SocketResult<types::UdpSocket> SocketsHost::udp_socket_create(const types::IpAddressFamily& family) {
  if (auto no = refuse_new_socket("udp-socket.create")) return fail<types::UdpSocket>(*no);
  bool v6 = family == types::IpAddressFamily::kIpv6;
  auto fd = p2::open_socket(v6, SOCK_DGRAM);
  if (const auto* code = std::get_if<p2::SocketErrorCode>(&fd)) return fail<types::UdpSocket>(from_p2(*code));
  auto s = std::make_shared<UdpSocket>();
  s->fd = std::get<std::shared_ptr<p2::OwnedFd>>(fd);
  s->v6 = v6;
  return ok(types::UdpSocket{udp_.add(std::move(s))});
}

SocketResult<Unit> SocketsHost::udp_socket_bind(const types::UdpSocketBorrow& self,
                                                const types::IpSocketAddress& local_address) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  if (s->bound) return fail<Unit>(invalid_state());
  p2::SocketAddress local = from_wit(local_address);
  if (auto no = refuse_address("UDP bind", local, s->v6, false)) return fail<Unit>(*no);
  auto native = p2::to_native(local);
  if (::bind(s->fd->get(), native.get(), native.length) != 0) return fail<Unit>(socket_error(errno));
  s->bound = true;
  return ok();
}

SocketResult<Unit> SocketsHost::udp_socket_connect(const types::UdpSocketBorrow& self,
                                                   const types::IpSocketAddress& remote_address) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  p2::SocketAddress remote = from_wit(remote_address);
  if (auto no = refuse_address("UDP connect to", remote, s->v6, true)) return fail<Unit>(*no);
  auto native = p2::to_native(remote);
  // Connecting a connected socket again replaces its remote (Linux does
  // that in one call); an unbound one is bound to a free port.
  if (::connect(s->fd->get(), native.get(), native.length) != 0) return fail<Unit>(socket_error(errno));
  s->bound = true;
  s->remote = remote;
  return ok();
}

SocketResult<Unit> SocketsHost::udp_socket_disconnect(const types::UdpSocketBorrow& self) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  if (!s->remote) return fail<Unit>(invalid_state());
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  if (::connect(s->fd->get(), &unspec, sizeof unspec) != 0 && errno != EAFNOSUPPORT)
    return fail<Unit>(socket_error(errno));
  s->remote.reset();
  return ok();
}

void SocketsHost::udp_socket_send(const types::UdpSocketBorrow& self, const std::vector<uint8_t>& data,
                                  const std::optional<types::IpSocketAddress>& remote_address,
                                  wit::Reply<Status> reply) {
  auto s = udp_.get(self.rep);
  if (!s) {
    reply.trap(unknown_socket());
    return;
  }
  auto p = std::make_shared<PendingSend>();
  p->socket = s;
  if (remote_address) {
    p2::SocketAddress to = from_wit(*remote_address);
    // A connected socket sends to its remote only, which was granted.
    if (s->remote && !same_address(*s->remote, to)) {
      reply(Status::err(invalid_argument()));
      return;
    }
    if (auto no = refuse_address("UDP send to", to, s->v6, true)) {
      reply(Status::err(*no));
      return;
    }
    if (!s->remote) p->to = to;
  } else if (!s->remote) {
    reply(Status::err(invalid_argument()));
    return;
  }
  if (data.size() > kMaxDatagram) {
    reply(Status::err(types::ErrorCodeDatagramTooLarge{}));
    return;
  }
  p->data = data;
  s->bound = true;  // the kernel binds an unbound socket to a free port as it sends
  send_when_ready(reactor_, std::move(p), std::move(reply));
}

void SocketsHost::udp_socket_receive(const types::UdpSocketBorrow& self, wit::Reply<Received> reply) {
  auto s = udp_.get(self.rep);
  if (!s) {
    reply.trap(unknown_socket());
    return;
  }
  if (!s->bound) {
    reply(Received::err(invalid_state()));
    return;
  }
  receive_when_ready(reactor_, std::move(s), std::move(reply));
}

SocketResult<types::IpSocketAddress> SocketsHost::udp_socket_get_local_address(const types::UdpSocketBorrow& self) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  if (!s->bound) return fail<types::IpSocketAddress>(invalid_state());
  return local_address(s->fd->get());
}

SocketResult<types::IpSocketAddress> SocketsHost::udp_socket_get_remote_address(const types::UdpSocketBorrow& self) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  if (!s->remote) return fail<types::IpSocketAddress>(invalid_state());
  return ok(wit_address(*s->remote));
}

wit::HostResult<types::IpAddressFamily> SocketsHost::udp_socket_get_address_family(const types::UdpSocketBorrow& self) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  return s->v6 ? types::IpAddressFamily::kIpv6 : types::IpAddressFamily::kIpv4;
}

SocketResult<uint8_t> SocketsHost::udp_socket_get_unicast_hop_limit(const types::UdpSocketBorrow& self) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  return hop_limit(s->fd->get(), s->v6);
}

SocketResult<Unit> SocketsHost::udp_socket_set_unicast_hop_limit(const types::UdpSocketBorrow& self,
                                                                 const uint8_t& value) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  return set_hop_limit(s->fd->get(), s->v6, value);
}

SocketResult<uint64_t> SocketsHost::udp_socket_get_receive_buffer_size(const types::UdpSocketBorrow& self) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  return buffer_size(s->fd->get(), SO_RCVBUF);
}

SocketResult<Unit> SocketsHost::udp_socket_set_receive_buffer_size(const types::UdpSocketBorrow& self,
                                                                   const uint64_t& value) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  return set_buffer_size(s->fd->get(), SO_RCVBUF, value);
}

SocketResult<uint64_t> SocketsHost::udp_socket_get_send_buffer_size(const types::UdpSocketBorrow& self) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  return buffer_size(s->fd->get(), SO_SNDBUF);
}

SocketResult<Unit> SocketsHost::udp_socket_set_send_buffer_size(const types::UdpSocketBorrow& self,
                                                                const uint64_t& value) {
  auto s = udp_.get(self.rep);
  if (!s) return unknown_socket();
  return set_buffer_size(s->fd->get(), SO_SNDBUF, value);
}

}  // namespace stratus::wasi::p3
