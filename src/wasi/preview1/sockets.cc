// sock_* calls. Preview 1 has no way to make a socket, only to use one the
// host preopened, and this host preopens none (grants for sockets are
// WASI 0.2's wasi:sockets): an open fd is ENOTSOCK, any other EBADF.
#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

Outcome not_a_socket(State& st, uint32_t fd) { return st.fd(fd) == nullptr ? Errno::Badf : Errno::Notsock; }

}  // namespace

Outcome sock_accept(State& st, GuestMemory&, std::span<const engine::Value> a) { return not_a_socket(st, a[0].i32()); }
Outcome sock_recv(State& st, GuestMemory&, std::span<const engine::Value> a) { return not_a_socket(st, a[0].i32()); }
Outcome sock_send(State& st, GuestMemory&, std::span<const engine::Value> a) { return not_a_socket(st, a[0].i32()); }
Outcome sock_shutdown(State& st, GuestMemory&, std::span<const engine::Value> a) {
  return not_a_socket(st, a[0].i32());
}

}  // namespace stratus::wasi::preview1
