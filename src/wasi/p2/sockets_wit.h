// Internal to wasi/p2's sockets: the WIT's values (error codes, socket
// addresses) to and from the host's, and the checks every bind, connect and
// send makes before the policy is asked.
#pragma once

#include <optional>

#include "wasi/p2/hosts.h"
#include "wasi/p2/sockets.h"

namespace stratus::wasi::p2 {

using SocketErrorCode = ::wasi::sockets::network::ErrorCode;
using WitSocketAddress = ::wasi::sockets::network::IpSocketAddress;

// The error-code for an errno of a socket call (the WIT lists the POSIX
// errors behind each code); `unknown` for the rest.
SocketErrorCode socket_error_code(int err);

SocketAddress from_wit(const WitSocketAddress& a);
WitSocketAddress to_wit(const SocketAddress& a);
::wasi::sockets::network::IpAddress to_wit(const IpAddress& ip);

// The address of `fd` (getsockname) or of its peer (getpeername); an
// error code when the call fails.
std::variant<SocketAddress, SocketErrorCode> local_address_of(int fd);
std::variant<SocketAddress, SocketErrorCode> peer_address_of(int fd);

// Why `a` cannot be bound by a socket of the family `v6` (invalid-argument:
// wrong family, an IPv4-mapped IPv6 address, not unicast), if it cannot.
std::optional<SocketErrorCode> check_bind_address(const SocketAddress& a, bool v6);
// The same for a remote address, which also needs a port and a specified IP.
std::optional<SocketErrorCode> check_remote_address(const SocketAddress& a, bool v6);

// The sandbox's answer to a bind (`connect` false) or a connect or send to
// `a`: the address check above, then the policy; nullopt when it may go on.
// A refusal is told to ctx.refused, naming `what` ("TCP connect"), the
// address and why.
std::optional<SocketErrorCode> refuse_address(WasiCtx& ctx, const char* what, const SocketAddress& a, bool v6,
                                              bool connect);
// new-socket-limit, told to ctx.refused, when the instance already holds
// config.max_sockets sockets and lookups; nullopt when one more fits.
std::optional<SocketErrorCode> refuse_new_socket(WasiCtx& ctx, const char* what);

// A new socket of `type` (SOCK_STREAM, SOCK_DGRAM), non-blocking, IPv6 ones
// IPv6-only (so an IPv4 peer never reaches them past the policy's rules).
std::variant<std::shared_ptr<OwnedFd>, SocketErrorCode> open_socket(bool v6, int type);

// Whether the network handle is one the host gave out.
bool known_network(WasiCtx& ctx, uint32_t rep);

// The result of a socket call: ok, or the error's code.
template <class T>
using SocketResult = wit::HostResult<wit::WitResult<T, SocketErrorCode>>;

struct SocketFail {
  SocketErrorCode code;
  template <class T>
  operator SocketResult<T>() const {  // NOLINT(google-explicit-constructor)
    return wit::WitResult<T, SocketErrorCode>::err(code);
  }
};
inline SocketFail socket_fail(SocketErrorCode code) { return SocketFail{code}; }
inline SocketFail socket_fail_errno(int err) { return SocketFail{socket_error_code(err)}; }

template <class T>
SocketResult<T> socket_ok(T value) {
  return wit::WitResult<T, SocketErrorCode>::ok(std::move(value));
}
inline SocketResult<wit::Unit> socket_ok() { return wit::WitResult<wit::Unit, SocketErrorCode>::ok(wit::Unit{}); }

Result<void> define_tcp(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_udp(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_ip_name_lookup(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources,
                                   HostObjects& keep);

}  // namespace stratus::wasi::p2
