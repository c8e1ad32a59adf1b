// `stratus serve`: an HTTP/1.1 server (Boost.Beast's parser over
// non-blocking sockets and epoll) that answers each request with a fresh
// instance of a wasi:http/proxy component. Instances are made ahead of need: each worker
// keeps one ready, so a request only pays for its own call; after a call
// that returned, the worker resets its instance in place (fresh again, see
// ComponentInstance::reset) rather than instantiating anew.
//
// Connections wait in an epoll set until a request head has arrived whole;
// a few threads (one per core to start with) take them from there and run
// a request at a time, so a busy server switches threads rarely. A request
// runs on its thread to the end: the guest's reads of the request body and
// its writes wait on the socket (with the timeout) and on the host as in
// `stratus run`. When every thread has been busy with one request for a
// while (guests waiting on something, or computing), another thread starts,
// so slow guests never hold up the rest; threads beyond the first ones end
// when idle.
//
// Request bodies stream into the guest as it reads them and response bodies
// stream out as it writes them (chunked unless the guest set
// content-length). Keep-alive; timeouts: a request head must arrive whole
// within the timeout of its first byte (a client sending a byte at a time
// holds no thread and gets a 408), an idle keep-alive connection is closed
// after it, and every read and write of a request under way waits at most
// that long; the guest's call timeout; graceful stop: no new connections,
// in-flight requests finish. A guest that traps gets its request a 500 and
// the trap logged; the server goes on.
//
// One server may serve many components (`stratus up`): each is a Route,
// taking the requests whose Host header and path prefix it names, with a
// pool of workers of its own. A request no route takes gets a 404 that lists
// the routes.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "component/ast.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "observe/current_span.h"
#include "observe/host_log.h"
#include "observe/metrics.h"
#include "observe/otlp/exporter.h"
#include "observe/request_window.h"
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
  std::string name;  // in logs and the 404 page ("ns/name")
  // Its metrics' labels (ServeOptions::metrics): the workload and the
  // component (empty: `name` for both).
  std::string workload_name, component_name;
  std::string host;         // the Host header it takes (any case, port ignored); empty: any
  std::string path_prefix;  // "/api" takes /api and /api/...; empty or "/": any path
  component::ComponentPtr component;
  wasi::p2::WasiConfig wasi;  // what each instance is granted
  ExtendLinker extend;        // optional
  size_t max_workers = 64;    // instances running at once; more requests wait
  // Requests that may wait for an instance (0: 4 x max_workers); one more
  // gets 503 at once, so a flood holds neither serving threads nor memory.
  size_t max_waiting = 0;
  size_t warm_workers = 1;                   // instances made when the route is added
  uint64_t max_invocations = 0;              // a worker serves at most this many requests (0: no limit)
  std::optional<uint64_t> max_memory_bytes;  // per core instance (memory_limit_mb)
  // Handles an instance may hold at once (resources, streams, futures): a
  // guest that makes more traps, and its request gets a 500, before its
  // host objects cost the host much memory.
  uint32_t max_handles = 16384;
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
  // Where the server's lines go (a guest that trapped, a request refused):
  // by default stderr, each with its UTC time and "stratus serve: ".
  observe::HostLog log;
  // When set, the server's metrics go there (route_metrics.h): request
  // durations, active requests, invocations, traps and instances per
  // route. The registry must outlive the server.
  observe::Registry* metrics = nullptr;
  // When set, each request's server span goes there (request_trace.h).
  // The exporter must outlive the server.
  observe::TraceExporter* traces = nullptr;
  // create()'s route: its name in logs and its metrics' workload and
  // component labels.
  std::string component_name = "the component";
};

struct ServeInstruments;
class RouteMetrics;

// A route as the status page shows it (HttpServer::route_stats).
struct RouteStats {
  std::string name, workload, component;
  std::string route;                            // "host/prefix" ("*" for any host)
  size_t live = 0;                              // instances made and not retired
  size_t pooled = 0;                            // of those, idle and ready
  uint64_t invocations = 0, traps = 0;          // with ServeOptions::metrics only
  observe::RequestWindow::Summary last_minute;  // with ServeOptions::metrics only
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
  // Accepts and serves connections until stop(); returns once every
  // connection ended.
  void run();
  // Graceful stop, callable from any thread (and, via a flag, signals).
  void stop();

  struct Counters {
    std::atomic<uint64_t> requests{0}, guest_traps{0}, bad_requests{0};
  };
  const Counters& counters() const { return counters_; }
  // Where request spans go (ServeOptions::traces); null: nowhere. The
  // workload runtime's message handlers send theirs there too.
  observe::TraceExporter* traces() const { return options_.traces; }
  // Every route now, most specific first.
  std::vector<RouteStats> route_stats() const;

  class Worker;
  struct Target;
  // A worker whose request was answered, on its way back to its pool.
  struct Finishing {
    std::shared_ptr<Target> target;
    std::unique_ptr<Worker> worker;
    std::string request;  // "METHOD target", for the log
    // The invocation span's scope, for what the guest still does (with ServeOptions::traces).
    std::unique_ptr<observe::TraceScope> trace;
  };
  struct Connection;
  class Stream;

 private:
  struct Thread;
  HttpServer(engine::Engine& engine, ServeOptions options);
  void accept_ready();
  void start_thread();
  void work(Thread& self);
  bool retire_thread(Thread& self);
  void watch();
  std::shared_ptr<Connection> take(std::span<const epoll_event> events, bool& done);
  std::shared_ptr<Connection> next_ready();
  std::shared_ptr<Connection> pop_ready();
  void serve(Connection& connection);
  bool answer(Connection& connection, std::optional<Finishing>& finishing);
  void finish_worker(Finishing& finishing);
  bool park(Connection& connection);
  void close(Connection& connection);
  void reap_finished();
  std::shared_ptr<Target> match(std::string_view host, std::string_view target) const;
  std::string not_found(std::string_view host, std::string_view target) const;
  // A worker for the target's next request; null (and `why`) when none can
  // be had: too many requests wait, or making an instance failed.
  std::unique_ptr<Worker> checkout(Target& target, std::string& why);
  void log(observe::Severity severity, const std::string& message) const;
  void give_back(Target& target, std::unique_ptr<Worker> worker);
  void retire(Target& target);

  engine::Engine& engine_;
  ServeOptions options_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;  // connections waiting for a request, and wake_fd_
  int wake_fd_ = -1;   // an eventfd: readable once the threads are to end
  int nudge_fd_ = -1;  // an eventfd: written to wake an idle thread for ready_
  std::atomic<bool> stopping_{false};
  Counters counters_;
  std::unique_ptr<ServeInstruments> instruments_;  // with options_.metrics
  uint64_t collector_ = 0;                         // options_.metrics's collector of instance counts

  mutable std::shared_mutex routes_mu_;
  std::vector<std::shared_ptr<Target>> targets_;

  std::mutex mu_;
  std::condition_variable all_closed_;
  uint64_t next_connection_ = 1;
  // Open connections by id (epoll events carry the id: an event for a
  // connection already closed finds nothing).
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  // Connections with a request coming that no thread serves yet.
  std::deque<std::shared_ptr<Connection>> ready_;
  std::vector<std::unique_ptr<Thread>> threads_;        // serving threads
  std::vector<std::thread> finished_;                   // threads that ended, to join
  size_t base_threads_ = 2;                             // started by run(); more while these are held up
  std::atomic<size_t> busy_threads_{0};                 // threads serving a request
  std::chrono::steady_clock::time_point last_sweep_{};  // of parked connections' deadlines (run's thread)
};

}  // namespace stratus::serve
