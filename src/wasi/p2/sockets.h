// wasi:sockets' host objects: the network handle, TCP and UDP sockets over
// non-blocking fds (so every pollable is an fd event for wait_any), UDP's
// datagram streams and name lookups. What a socket may reach is decided by
// WasiConfig::sockets (socket_policy.h) before any syscall that would reach it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wasi/p2/socket_policy.h"
#include "wasi/p2/streams.h"

namespace stratus::wasi::p2 {

// The one network a guest sees (instance-network); any handle to it will do.
struct Network {};

// The states of wasi:sockets' TCP operational semantics. Closed follows a
// failed connect: only drop is left.
enum class TcpState { Unbound, BindStarted, Bound, ListenStarted, Listening, ConnectStarted, Connected, Closed };

struct TcpSocket {
  std::shared_ptr<OwnedFd> fd;
  bool v6 = false;
  TcpState state = TcpState::Unbound;
  int backlog = 128;  // set-listen-backlog-size, used by listen(2)
  // The connect that finished with an error, reported once by finish-connect.
  int connect_error = 0;
};

enum class UdpState { Unbound, BindStarted, Bound };

struct UdpSocket {
  std::shared_ptr<OwnedFd> fd;
  bool v6 = false;
  UdpState state = UdpState::Unbound;
  std::optional<SocketAddress> remote;  // set by stream(some(remote))
  // Each stream() makes a new pair of datagram streams; only the newest
  // works. The count tells the pairs apart.
  uint64_t generation = 0;
  bool dropped = false;  // the guest dropped the socket; its streams fail
};

struct IncomingDatagramStream {
  std::shared_ptr<UdpSocket> socket;
  uint64_t generation = 0;
};

struct OutgoingDatagramStream {
  std::shared_ptr<UdpSocket> socket;
  uint64_t generation = 0;
  uint64_t permitted = 0;  // what the last check-send allowed
};

// A lookup runs getaddrinfo on a thread of its own; `done` (an eventfd,
// readable once the answer is in) is the stream's pollable.
struct ResolveAddressStream {
  struct Answer {
    std::mutex mutex;
    bool finished = false;
    int gai_error = 0;  // getaddrinfo's EAI_*, 0: `addresses` holds the answer
    std::vector<IpAddress> addresses;
    std::shared_ptr<OwnedFd> done;
  };
  std::shared_ptr<Answer> answer;
  size_t next = 0;
};

// A guest's socket address as the kernel takes it, and back.
struct NativeAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};
NativeAddress to_native(const SocketAddress& a);
std::optional<SocketAddress> from_native(const sockaddr_storage& storage);

// Name lookups, as both WASI versions make them: an IP literal is its own
// answer (brackets allowed); other names must look like DNS names and are
// resolved by getaddrinfo, which blocks (call it off the store's thread).
struct NameLookup {
  int gai_error = 0;  // getaddrinfo's EAI_*, 0: `addresses` holds the answer
  std::vector<IpAddress> addresses;
};
std::optional<IpAddress> literal_address(const std::string& name);
bool valid_lookup_name(const std::string& name);  // letters, digits, '-', '_' and dots
NameLookup lookup_name(const std::string& name);

// The streams of a connected TCP socket: recv and send on the non-blocking
// fd; what send cannot take at once waits in the output stream until the
// socket is writable (flush waits for it).
std::shared_ptr<InputStream> tcp_input(std::shared_ptr<OwnedFd> fd);
std::shared_ptr<OutputStream> tcp_output(std::shared_ptr<OwnedFd> fd);

}  // namespace stratus::wasi::p2
