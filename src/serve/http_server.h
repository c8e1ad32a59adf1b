// `stratus serve`: an HTTP/1.1 server (Boost.Beast over blocking sockets, a
// thread per connection) that answers each request with a fresh instance of
// a wasi:http/proxy component. Instances are made ahead of need: each worker
// keeps one ready, so a request only pays for its own call; after a call
// that returned, the worker resets its instance in place (fresh again, see
// ComponentInstance::reset) rather than instantiating anew.
//
// Request bodies stream into the guest as it reads them and response bodies
// stream out as it writes them (chunked unless the guest set
// content-length). Keep-alive, a timeout on every socket read and write,
// the guest's call timeout, and graceful stop: no new connections, in-flight
// requests finish. A guest that traps gets its request a 500 and the trap
// logged; the server goes on.
//
// One server may serve many components (`stratus up`): each is a Route,
// taking the requests whose Host header and path prefix it names, with a
// pool of workers of its own. A request no route takes gets a 404 that lists
// the routes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "component/ast.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/result.h"
#include "wasi/p2/ctx.h"
#include "wasi/p2/wasi.h"

namespace stratus::serve {

// What a worker's instance needs beyond WASI, made once per worker: the
// workload's host plugins, the components it links to.
class InstanceExtension {
 public:
  virtual ~InstanceExtension() = default;
  // Called before each request once the instance itself is fresh: what the
  // extension holds for the instance (handles, linked instances) starts over.
  // An error drops the worker; the next request gets a new one.
  virtual Result<void> prepare() = 0;
};
// Defines more imports in a new worker's linker, after WASI (the worker's
// WASI host is given for interfaces that use its streams).
using ExtendLinker = std::function<Result<std::unique_ptr<InstanceExtension>>(component::Linker&, wasi::p2::WasiHost&)>;

// A component and the requests it takes.
struct Route {
  std::string name;         // in logs and the 404 page ("ns/name")
  std::string host;         // the Host header it takes (any case, port ignored); empty: any
  std::string path_prefix;  // "/api" takes /api and /api/...; empty or "/": any path
  component::ComponentPtr component;
  wasi::p2::WasiConfig wasi;                 // what each instance is granted
  ExtendLinker extend;                       // optional
  size_t max_workers = 64;                   // instances running at once; more requests wait
  size_t warm_workers = 1;                   // instances made when the route is added
  uint64_t max_invocations = 0;              // a worker serves at most this many requests (0: no limit)
  std::optional<uint64_t> max_memory_bytes;  // per core instance (memory_limit_mb)
};

struct ServeOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see HttpServer::port)
  // Reading a request (head or body) and writing a response, per socket
  // operation; also the budget of each guest call.
  std::chrono::milliseconds timeout{30'000};
  uint64_t max_request_body = 64ull << 20;
  size_t max_workers = 64;  // instances running at once
  // What each instance is granted (deny by default).
  wasi::p2::WasiConfig wasi;
  // When set and it becomes true (a signal handler sets it), run() stops
  // as stop() would.
  const std::atomic<bool>* stop_flag = nullptr;
};

class HttpServer {
 public:
  // A server of one component, for every request (options.wasi and
  // options.max_workers are its grants and pool). Errors: the component is
  // not a wasi:http proxy (no incoming-handler export), or an instance
  // cannot be made (an import the host lacks).
  static Result<std::unique_ptr<HttpServer>> create(engine::Engine& engine, component::ComponentPtr component,
                                                    ServeOptions options);
  // A server with no routes yet (add_route).
  static std::unique_ptr<HttpServer> create_router(engine::Engine& engine, ServeOptions options);

  // Starts serving `route`, once its warm workers are made. Errors as for
  // create, and a route whose host and prefix another route already has.
  Result<void> add_route(Route route);
  // Stops giving requests to the route `name`; requests under way finish.
  void remove_route(const std::string& name);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; the bound port (useful with port 0).
  Result<uint16_t> listen();
  // Accepts connections until stop(); returns once every connection ended.
  void run();
  // Graceful stop, callable from any thread (and, via a flag, signals).
  void stop();

  struct Counters {
    std::atomic<uint64_t> requests{0}, guest_traps{0}, bad_requests{0};
  };
  const Counters& counters() const { return counters_; }

  class Worker;
  struct Target;

 private:
  HttpServer(engine::Engine& engine, ServeOptions options);
  void serve_connection(int fd);
  void reap_finished();
  std::shared_ptr<Target> match(std::string_view host, std::string_view target) const;
  std::string not_found(std::string_view host, std::string_view target) const;
  std::unique_ptr<Worker> checkout(Target& target);
  void give_back(Target& target, std::unique_ptr<Worker> worker);
  void retire(Target& target);

  engine::Engine& engine_;
  ServeOptions options_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  Counters counters_;

  mutable std::shared_mutex routes_mu_;
  std::vector<std::shared_ptr<Target>> targets_;

  std::mutex mu_;
  std::set<int> connections_;  // open connection sockets, for stop()
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> finished_;  // connection threads that ended, to join
};

}  // namespace stratus::serve
