// What one guest instance may reach through WASI 0.2 (WasiConfig: deny by
// default, everything granted explicitly) and the host objects behind its
// handles (WasiCtx). Each component instance gets its own WasiCtx.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wasi/p2/socket_policy.h"
#include "wasi/p2/streams.h"
#include "wasi/p2/table.h"

namespace stratus::wasi::p3 {
struct HttpRequest;   // wasi/p3/http.h
struct HttpResponse;  // wasi/p3/http.h
struct TcpSocket;     // wasi/p3/sockets.h
struct UdpSocket;     // wasi/p3/sockets.h
}  // namespace stratus::wasi::p3

namespace stratus::wasi::p2 {

// A host directory the guest sees at `guest_path` (`--dir HOST[::GUEST]`).
// Paths the guest opens never leave it: not by `..`, not by a symlink, not by
// an absolute path.
struct Preopen {
  std::string host_path;
  std::string guest_path;
  bool read_only = false;
};

struct WasiConfig {
  std::vector<std::string> args;  // args[0] is the program name
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Preopen> dirs;
  // Hosts outbound HTTP may reach (`--allow-host`): exact names, or
  // `*.example.com` for its subdomains. Empty: none.
  std::vector<std::string> allowed_hosts;
  // What wasi:sockets may connect to, bind and look up (`--allow-connect`,
  // `--allow-bind`, `--allow-lookup`). Empty: nothing.
  SocketPolicy sockets;
  // Sockets and name lookups (each holds a host file descriptor or a
  // thread) one instance may hold at once, of WASI 0.2 and 0.3 together;
  // past it, creating a socket, accepting one and resolving a name fail
  // (0.2: new-socket-limit; 0.3, which has no such code: out-of-memory, and
  // an accepted connection is closed), so a guest cannot take the host's
  // descriptors from the other workloads.
  uint32_t max_sockets = 256;
  // Told each try the sandbox refused (a path out of a preopen, an address
  // or host not granted, a write to a read-only mount, a socket past
  // max_sockets), in a sentence naming what and why; the workload runtime
  // logs it under the workload's name. Unset: not told.
  std::function<void(const std::string&)> on_refused;
  // The guest's standard streams; by default it reads nothing and its output
  // goes nowhere. `stratus run` passes the process's own.
  std::shared_ptr<InputStream> stdin_stream = memory_input({});
  std::shared_ptr<OutputStream> stdout_stream = null_output();
  std::shared_ptr<OutputStream> stderr_stream = null_output();
  // Whether each standard stream is a terminal (wasi:cli/terminal-*).
  bool stdin_terminal = false, stdout_terminal = false, stderr_terminal = false;
};

// An error a stream operation returned (wasi:io/error), with the OS error
// behind it for wasi:filesystem's filesystem-error-code.
struct IoError {
  std::string message;
  int error_code = 0;
};

struct Descriptor;            // wasi/p2/filesystem.h
struct DirectoryEntryStream;  // wasi/p2/filesystem.h
struct Terminal {};
// wasi/p2/http.h
struct HttpFields;
struct IncomingRequest;
struct IncomingBody;
struct FutureTrailers;
struct OutgoingBody;
struct OutgoingResponse;
struct ResponseOutparam;
struct RequestOptions;
struct OutgoingRequest;
struct IncomingResponse;
struct FutureIncomingResponse;
// wasi/p2/sockets.h
struct Network;
struct TcpSocket;
struct UdpSocket;
struct IncomingDatagramStream;
struct OutgoingDatagramStream;
struct ResolveAddressStream;

struct WasiCtx {
  explicit WasiCtx(WasiConfig c) : config(std::move(c)) {}

  // Says `what` was refused, to config.on_refused.
  void refused(const std::string& what) const {
    if (config.on_refused) config.on_refused(what);
  }
  // Whether one more socket or lookup fits under config.max_sockets.
  bool socket_room() const { return sockets_held() < config.max_sockets; }
  // The sockets and lookups the instance holds, of 0.2 and 0.3.
  size_t sockets_held() const {
    return tcp_sockets.size() + udp_sockets.size() + resolve_address_streams.size() + p3_tcp_sockets.size() +
           p3_udp_sockets.size() + *p3_lookups;
  }

  WasiConfig config;
  // What the last check-write allowed, per output stream (rep).
  std::map<uint32_t, uint64_t> write_budget;
  ResourceTable<Pollable> pollables;
  ResourceTable<InputStream> input_streams;
  ResourceTable<OutputStream> output_streams;
  ResourceTable<IoError> errors;
  ResourceTable<Descriptor> descriptors;
  ResourceTable<DirectoryEntryStream> directory_streams;
  ResourceTable<Terminal> terminal_inputs, terminal_outputs;
  ResourceTable<HttpFields> fields;
  ResourceTable<IncomingRequest> incoming_requests;
  ResourceTable<IncomingBody> incoming_bodies;
  ResourceTable<FutureTrailers> future_trailers;
  ResourceTable<OutgoingBody> outgoing_bodies;
  ResourceTable<OutgoingResponse> outgoing_responses;
  ResourceTable<ResponseOutparam> response_outparams;
  ResourceTable<RequestOptions> request_options;
  ResourceTable<OutgoingRequest> outgoing_requests;
  ResourceTable<IncomingResponse> incoming_responses;
  ResourceTable<FutureIncomingResponse> future_incoming_responses;
  ResourceTable<Network> networks;
  ResourceTable<TcpSocket> tcp_sockets;
  ResourceTable<UdpSocket> udp_sockets;
  ResourceTable<IncomingDatagramStream> incoming_datagram_streams;
  ResourceTable<OutgoingDatagramStream> outgoing_datagram_streams;
  ResourceTable<ResolveAddressStream> resolve_address_streams;
  // WASI 0.3's wasi:http (its fields are in `fields`, its options in `request_options`).
  ResourceTable<p3::HttpRequest> p3_requests;
  ResourceTable<p3::HttpResponse> p3_responses;
  // WASI 0.3's sockets, and its name lookups in flight (each a thread that
  // posts its answer back; shared so that one started before a reset
  // counts itself off the counter it was counted on).
  ResourceTable<p3::TcpSocket> p3_tcp_sockets;
  ResourceTable<p3::UdpSocket> p3_udp_sockets;
  std::shared_ptr<size_t> p3_lookups = std::make_shared<size_t>(0);
};

}  // namespace stratus::wasi::p2
