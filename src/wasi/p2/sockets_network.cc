// wasi:sockets/network and instance-network, and what the TCP, UDP and
// lookup hosts share: error codes from errno, addresses between the WIT's
// form and the kernel's, the argument checks of bind and connect.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wasi/p2/socket_address_wit.h"
#include "wasi/p2/sockets_wit.h"

namespace stratus::wasi::p2 {
namespace {

namespace network = ::wasi::sockets::network;
using wit::HostResult;

class NetworkHost final : public network::Host {
 public:
  explicit NetworkHost(WasiCtx& ctx) : ctx_(ctx) {}
  void drop_network(uint32_t rep) override { ctx_.networks.remove(rep); }
  HostResult<std::optional<SocketErrorCode>> network_error_code(const network::ErrorBorrow& err) override {
    auto e = ctx_.errors.get(err.rep);
    if (!e) return guest_error("unknown error");
    if (e->error_code == 0) return std::optional<SocketErrorCode>{};
    return std::optional<SocketErrorCode>{socket_error_code(e->error_code)};
  }

 private:
  WasiCtx& ctx_;
};

class InstanceNetworkHost final : public ::wasi::sockets::instance_network::Host {
 public:
  explicit InstanceNetworkHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<network::Network> instance_network() override {
    return network::Network{ctx_.networks.add(std::make_shared<Network>())};
  }

 private:
  WasiCtx& ctx_;
};

bool is_ipv4_mapped(const IpAddress& ip) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return ip.v6 && std::memcmp(ip.bytes.data(), kPrefix, sizeof kPrefix) == 0;
}

bool is_multicast_or_broadcast(const IpAddress& ip) {
  if (ip.v6) return ip.bytes[0] == 0xff;
  if (ip.bytes[0] >= 224 && ip.bytes[0] <= 239) return true;
  return ip.bytes[0] == 255 && ip.bytes[1] == 255 && ip.bytes[2] == 255 && ip.bytes[3] == 255;
}

}  // namespace

SocketErrorCode socket_error_code(int err) {
  using C = SocketErrorCode;
  switch (err) {
    case EACCES:
    case EPERM: return C::kAccessDenied;
    case EOPNOTSUPP:
    case EPROTONOSUPPORT:
    case ENOPROTOOPT:
    case EAFNOSUPPORT: return C::kNotSupported;
    case EINVAL:
    case EDESTADDRREQ: return C::kInvalidArgument;
    case ENOMEM:
    case ENOBUFS: return C::kOutOfMemory;
    case ETIMEDOUT: return C::kTimeout;
    case EALREADY: return C::kConcurrencyConflict;
    case EAGAIN:
    case EINPROGRESS: return C::kWouldBlock;
    case EISCONN:
    case ENOTCONN: return C::kInvalidState;
    case EMFILE:
    case ENFILE: return C::kNewSocketLimit;
    case EADDRNOTAVAIL: return C::kAddressNotBindable;
    case EADDRINUSE: return C::kAddressInUse;
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETUNREACH:
    case ENETDOWN:
    case ENONET: return C::kRemoteUnreachable;
    case ECONNREFUSED: return C::kConnectionRefused;
    case ECONNRESET:
    case EPIPE: return C::kConnectionReset;
    case ECONNABORTED: return C::kConnectionAborted;
    case EMSGSIZE: return C::kDatagramTooLarge;
    default: return C::kUnknown;
  }
}

SocketAddress from_wit(const WitSocketAddress& a) {
  return address_from_wit<network::IpSocketAddressIpv4, network::IpSocketAddressIpv6>(a);
}

network::IpAddress to_wit(const IpAddress& ip) {
  return ip_to_wit<network::IpAddress, network::IpAddressIpv4, network::IpAddressIpv6>(ip);
}

WitSocketAddress to_wit(const SocketAddress& a) {
  return address_to_wit<WitSocketAddress, network::IpSocketAddressIpv4, network::IpSocketAddressIpv6,
                        network::IpAddress, network::IpAddressIpv4, network::IpAddressIpv6>(a);
}

NativeAddress to_native(const SocketAddress& a) {
  NativeAddress out;
  if (a.ip.v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(a.port);
    sin6->sin6_scope_id = a.scope_id;
    std::memcpy(&sin6->sin6_addr, a.ip.bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a.port);
    std::memcpy(&sin->sin_addr, a.ip.bytes.data(), 4);
    out.length = sizeof(sockaddr_in);
  }
  return out;
}

std::optional<SocketAddress> from_native(const sockaddr_storage& storage) {
  SocketAddress out;
  if (storage.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    out.port = ntohs(sin->sin_port);
    std::memcpy(out.ip.bytes.data(), &sin->sin_addr, 4);
    return out;
  }
  if (storage.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    out.port = ntohs(sin6->sin6_port);
    out.scope_id = sin6->sin6_scope_id;
    out.ip.v6 = true;
    std::memcpy(out.ip.bytes.data(), &sin6->sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

namespace {

std::variant<SocketAddress, SocketErrorCode> address_of(int fd, bool peer) {
  sockaddr_storage storage{};
  socklen_t len = sizeof storage;
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &len)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len);
  if (rc != 0) return socket_error_code(errno);
  auto a = from_native(storage);
  if (!a) return SocketErrorCode::kNotSupported;
  return *a;
}

}  // namespace

std::variant<SocketAddress, SocketErrorCode> local_address_of(int fd) { return address_of(fd, false); }
std::variant<SocketAddress, SocketErrorCode> peer_address_of(int fd) { return address_of(fd, true); }

std::optional<SocketErrorCode> check_bind_address(const SocketAddress& a, bool v6) {
  if (a.ip.v6 != v6 || is_ipv4_mapped(a.ip) || is_multicast_or_broadcast(a.ip))
    return SocketErrorCode::kInvalidArgument;
  return std::nullopt;
}

std::optional<SocketErrorCode> check_remote_address(const SocketAddress& a, bool v6) {
  if (auto bad = check_bind_address(a, v6)) return bad;
  if (a.port == 0 || a.ip.is_unspecified()) return SocketErrorCode::kInvalidArgument;
  return std::nullopt;
}

std::optional<SocketErrorCode> refuse_address(WasiCtx& ctx, const char* what, const SocketAddress& a, bool v6,
                                              bool connect) {
  auto told = [&](SocketErrorCode code, const char* why) {
    ctx.refused(std::string("wasi:sockets: ") + what + " " + a.to_string() + " refused: " + why);
    return code;
  };
  if (auto bad = connect ? check_remote_address(a, v6) : check_bind_address(a, v6))
    return told(*bad, "invalid-argument (not an address a socket of its family may use)");
  if (connect ? !ctx.config.sockets.allows_connect(a) : !ctx.config.sockets.allows_bind(a))
    return told(SocketErrorCode::kAccessDenied, "access-denied (no grant allows it)");
  return std::nullopt;
}

std::optional<SocketErrorCode> refuse_new_socket(WasiCtx& ctx, const char* what) {
  if (ctx.socket_room()) return std::nullopt;
  ctx.refused(std::string("wasi:sockets: ") + what + " refused: new-socket-limit (the instance holds " +
              std::to_string(ctx.config.max_sockets) + " sockets and lookups)");
  return SocketErrorCode::kNewSocketLimit;
}

std::variant<std::shared_ptr<OwnedFd>, SocketErrorCode> open_socket(bool v6, int type) {
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return socket_error_code(errno);
  auto owned = std::make_shared<OwnedFd>(fd);
  if (v6) {
    int one = 1;
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) return socket_error_code(errno);
  }
  return owned;
}

bool known_network(WasiCtx& ctx, uint32_t rep) { return ctx.networks.get(rep) != nullptr; }

Result<void> define_sockets(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  // network first: the others use its resource and types.
  STRATUS_TRY(network::define(linker, keep.keep(std::make_shared<NetworkHost>(ctx)), resources));
  STRATUS_TRY(::wasi::sockets::instance_network::define(linker, keep.keep(std::make_shared<InstanceNetworkHost>(ctx)),
                                                        resources));
  STRATUS_TRY(define_tcp(linker, ctx, resources, keep));
  STRATUS_TRY(define_udp(linker, ctx, resources, keep));
  STRATUS_TRY(define_ip_name_lookup(linker, ctx, resources, keep));
  return {};
}

}  // namespace stratus::wasi::p2
