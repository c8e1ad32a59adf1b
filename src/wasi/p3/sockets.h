// Internal to wasi/p3's sockets: wasi:sockets/types@0.3 (TCP and UDP
// sockets, one host split by protocol over sockets_tcp.cc and
// sockets_udp.cc) over the non-blocking fds, addresses, checks and policy
// of WASI 0.2's sockets (p2/sockets.h, p2/sockets_wit.h). Nothing here
// blocks the store's thread: what waits on the network is a one-shot watch
// of the store's reactor, and a stream of bytes moves a chunk at a time, as
// fast as its reader takes them.
#pragma once

#include <memory>
#include <optional>
#include <variant>

#include "component/runtime/reactor.h"
#include "wasi/p2/sockets.h"
#include "wasi/p2/sockets_wit.h"
#include "wasi/p3/hosts.h"

namespace stratus::wasi::p3 {

namespace types = ::p3::wasi::sockets::types;
using SocketError = types::ErrorCode;

template <class T>
using SocketResult = wit::HostResult<wit::WitResult<T, SocketError>>;
using SocketStatus = wit::WitResult<wit::Unit, SocketError>;

// The error-code for an errno of a socket call.
SocketError socket_error(int err);
SocketError from_p2(p2::SocketErrorCode code);
SocketError invalid_state();
SocketError invalid_argument();
SocketError access_denied();

template <class T>
SocketResult<T> fail(SocketError e) {
  return wit::WitResult<T, SocketError>::err(std::move(e));
}
template <class T>
SocketResult<T> ok(T v) {
  return wit::WitResult<T, SocketError>::ok(std::move(v));
}
inline SocketResult<wit::Unit> ok() { return ok(wit::Unit{}); }

// A socket option read (its value, or the errno) and written (0, or the
// errno), as results.
template <class T>
SocketResult<T> option_result(const std::variant<T, int>& v) {
  if (const int* err = std::get_if<int>(&v)) return fail<T>(socket_error(*err));
  return ok(std::get<T>(v));
}
inline SocketResult<wit::Unit> set_result(int err) {
  if (err != 0) return fail<wit::Unit>(socket_error(err));
  return ok();
}

// The options TCP and UDP sockets share: the unicast hop limit of `fd`'s
// family, and a buffer size (SO_RCVBUF, SO_SNDBUF). Setting either to 0 is
// invalid-argument.
SocketResult<uint8_t> hop_limit(int fd, bool v6);
SocketResult<wit::Unit> set_hop_limit(int fd, bool v6, uint8_t value);
SocketResult<uint64_t> buffer_size(int fd, int which);
SocketResult<wit::Unit> set_buffer_size(int fd, int which, uint64_t value);

p2::SocketAddress from_wit(const types::IpSocketAddress& a);
types::IpSocketAddress wit_address(const p2::SocketAddress& a);
types::IpAddress wit_ip(const p2::IpAddress& ip);
// The local address `fd` is bound to, or its peer's.
wit::WitResult<types::IpSocketAddress, SocketError> local_address(int fd);
wit::WitResult<types::IpSocketAddress, SocketError> remote_address(int fd);
// 0.0.0.0:0 or [::]:0: what an implicit bind binds.
p2::SocketAddress unspecified_address(bool v6);

// Writes `status` to a future the host made, then lets it go.
void answer(const std::shared_ptr<component::HostWriteEnd>& done, const SocketStatus& status);

enum class TcpState { Unbound, Bound, Connecting, Connected, Listening, Closed };

struct TcpSocket {
  std::shared_ptr<p2::OwnedFd> fd;
  bool v6 = false;
  TcpState state = TcpState::Unbound;
  int backlog = 128;       // set-listen-backlog-size, used by listen(2)
  bool sending = false;    // send was called (at most once)
  bool receiving = false;  // receive was called (at most once)
};

struct UdpSocket {
  std::shared_ptr<p2::OwnedFd> fd;
  bool v6 = false;
  bool bound = false;
  std::optional<p2::SocketAddress> remote;  // set by connect
};

class SocketsHost final : public types::Host {
 public:
  SocketsHost(WasiCtx& ctx, component::Reactor& reactor, wit::HostResources& resources)
      : ctx_(ctx), reactor_(reactor), resources_(resources) {}

  // sockets_tcp.cc
  void drop_tcp_socket(uint32_t rep) override;
  SocketResult<types::TcpSocket> tcp_socket_create(const types::IpAddressFamily& family) override;
  SocketResult<wit::Unit> tcp_socket_bind(const types::TcpSocketBorrow& self,
                                          const types::IpSocketAddress& local_address) override;
  void tcp_socket_connect(const types::TcpSocketBorrow& self, const types::IpSocketAddress& remote_address,
                          wit::Reply<SocketStatus> reply) override;
  SocketResult<wit::Stream<types::TcpSocket>> tcp_socket_listen(const types::TcpSocketBorrow& self) override;
  wit::HostResult<wit::Future<SocketStatus>> tcp_socket_send(const types::TcpSocketBorrow& self,
                                                             const wit::Stream<uint8_t>& data) override;
  wit::HostResult<std::tuple<wit::Stream<uint8_t>, wit::Future<SocketStatus>>> tcp_socket_receive(
      const types::TcpSocketBorrow& self) override;
  SocketResult<types::IpSocketAddress> tcp_socket_get_local_address(const types::TcpSocketBorrow& self) override;
  SocketResult<types::IpSocketAddress> tcp_socket_get_remote_address(const types::TcpSocketBorrow& self) override;
  wit::HostResult<bool> tcp_socket_get_is_listening(const types::TcpSocketBorrow& self) override;
  wit::HostResult<types::IpAddressFamily> tcp_socket_get_address_family(const types::TcpSocketBorrow& self) override;
  SocketResult<wit::Unit> tcp_socket_set_listen_backlog_size(const types::TcpSocketBorrow& self,
                                                             const uint64_t& value) override;
  SocketResult<bool> tcp_socket_get_keep_alive_enabled(const types::TcpSocketBorrow& self) override;
  SocketResult<wit::Unit> tcp_socket_set_keep_alive_enabled(const types::TcpSocketBorrow& self,
                                                            const bool& value) override;
  SocketResult<uint64_t> tcp_socket_get_keep_alive_idle_time(const types::TcpSocketBorrow& self) override;
  SocketResult<wit::Unit> tcp_socket_set_keep_alive_idle_time(const types::TcpSocketBorrow& self,
                                                              const uint64_t& value) override;
  SocketResult<uint64_t> tcp_socket_get_keep_alive_interval(const types::TcpSocketBorrow& self) override;
  SocketResult<wit::Unit> tcp_socket_set_keep_alive_interval(const types::TcpSocketBorrow& self,
                                                             const uint64_t& value) override;
  SocketResult<uint32_t> tcp_socket_get_keep_alive_count(const types::TcpSocketBorrow& self) override;
  SocketResult<wit::Unit> tcp_socket_set_keep_alive_count(const types::TcpSocketBorrow& self,
                                                          const uint32_t& value) override;
  SocketResult<uint8_t> tcp_socket_get_hop_limit(const types::TcpSocketBorrow& self) override;
  SocketResult<wit::Unit> tcp_socket_set_hop_limit(const types::TcpSocketBorrow& self, const uint8_t& value) override;
  SocketResult<uint64_t> tcp_socket_get_receive_buffer_size(const types::TcpSocketBorrow& self) override;
  SocketResult<wit::Unit> tcp_socket_set_receive_buffer_size(const types::TcpSocketBorrow& self,
                                                             const uint64_t& value) override;
  SocketResult<uint64_t> tcp_socket_get_send_buffer_size(const types::TcpSocketBorrow& self) override;
  SocketResult<wit::Unit> tcp_socket_set_send_buffer_size(const types::TcpSocketBorrow& self,
                                                          const uint64_t& value) override;

  // sockets_udp.cc
  void drop_udp_socket(uint32_t rep) override;
  SocketResult<types::UdpSocket> udp_socket_create(const types::IpAddressFamily& family) override;
  SocketResult<wit::Unit> udp_socket_bind(const types::UdpSocketBorrow& self,
                                          const types::IpSocketAddress& local_address) override;
  SocketResult<wit::Unit> udp_socket_connect(const types::UdpSocketBorrow& self,
                                             const types::IpSocketAddress& remote_address) override;
  SocketResult<wit::Unit> udp_socket_disconnect(const types::UdpSocketBorrow& self) override;
  void udp_socket_send(const types::UdpSocketBorrow& self, const std::vector<uint8_t>& data,
                       const std::optional<types::IpSocketAddress>& remote_address,
                       wit::Reply<SocketStatus> reply) override;
  void udp_socket_receive(
      const types::UdpSocketBorrow& self,
      wit::Reply<wit::WitResult<std::tuple<std::vector<uint8_t>, types::IpSocketAddress>, SocketError>> reply) override;
  SocketResult<types::IpSocketAddress> udp_socket_get_local_address(const types::UdpSocketBorrow& self) override;
  SocketResult<types::IpSocketAddress> udp_socket_get_remote_address(const types::UdpSocketBorrow& self) override;
  wit::HostResult<types::IpAddressFamily> udp_socket_get_address_family(const types::UdpSocketBorrow& self) override;
  SocketResult<uint8_t> udp_socket_get_unicast_hop_limit(const types::UdpSocketBorrow& self) override;
  SocketResult<wit::Unit> udp_socket_set_unicast_hop_limit(const types::UdpSocketBorrow& self,
                                                           const uint8_t& value) override;
  SocketResult<uint64_t> udp_socket_get_receive_buffer_size(const types::UdpSocketBorrow& self) override;
  SocketResult<wit::Unit> udp_socket_set_receive_buffer_size(const types::UdpSocketBorrow& self,
                                                             const uint64_t& value) override;
  SocketResult<uint64_t> udp_socket_get_send_buffer_size(const types::UdpSocketBorrow& self) override;
  SocketResult<wit::Unit> udp_socket_set_send_buffer_size(const types::UdpSocketBorrow& self,
                                                          const uint64_t& value) override;

  // A socket accepted by a listener, as the guest's new handle; nullopt
  // when the instance holds config.max_sockets already (told to
  // ctx.refused: the caller closes the connection).
  std::optional<types::TcpSocket> add_accepted(std::shared_ptr<TcpSocket> socket) {
    if (refuse_new_socket("TCP accept")) return std::nullopt;
    return types::TcpSocket{tcp_.add(std::move(socket))};
  }
  void forget_tcp(uint32_t rep) { tcp_.remove(rep); }
  wit::HostResources& resources() { return resources_; }

 private:
  // out-of-memory, told to ctx.refused naming `what` and the cap, when the
  // instance already holds config.max_sockets sockets and lookups (0.2's
  // and 0.3's: WasiCtx::socket_room); nullopt when one more fits.
  std::optional<SocketError> refuse_new_socket(const char* what);
  // The sandbox's answer to a bind (`connect` false) or a connect or send
  // to `a` (p2::refuse_address, which tells ctx.refused): nullopt when it
  // may go on.
  std::optional<SocketError> refuse_address(const char* what, const p2::SocketAddress& a, bool v6, bool connect);
  std::optional<SocketError> bind_checked(int fd, bool v6, const p2::SocketAddress& local, const char* what);

  WasiCtx& ctx_;
  component::Reactor& reactor_;
  wit::HostResources& resources_;
  // The instance's sockets, in its WasiCtx: counted against max_sockets
  // with 0.2's, and gone with its other handles when it is reset.
  p2::ResourceTable<TcpSocket>& tcp_ = ctx_.p3_tcp_sockets;
  p2::ResourceTable<UdpSocket>& udp_ = ctx_.p3_udp_sockets;
};

// The pumps behind tcp-socket's listen, send and receive (sockets_tcp_streams.cc).
void start_accepting(SocketsHost& host, component::Reactor& reactor, component::HostWriteEnd sockets,
                     std::shared_ptr<TcpSocket> listener);
void start_sending(component::Reactor& reactor, component::HostReadEnd data, component::HostWriteEnd done,
                   std::shared_ptr<p2::OwnedFd> fd);
void start_receiving(component::Reactor& reactor, component::HostWriteEnd data, component::HostWriteEnd done,
                     std::shared_ptr<p2::OwnedFd> fd);

}  // namespace stratus::wasi::p3
