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
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "component/ast.h"
#include "engine/engine.h"
#include "support/result.h"
#include "wasi/p2/ctx.h"

namespace stratus::serve {

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
  // Errors: the component is not a wasi:http proxy (no incoming-handler
  // export), or an instance cannot be made (an import the host lacks).
  static Result<std::unique_ptr<HttpServer>> create(engine::Engine& engine, component::ComponentPtr component,
                                                    ServeOptions options);
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

 private:
  HttpServer(engine::Engine& engine, component::ComponentPtr component, ServeOptions options, std::string handler);
  void serve_connection(int fd);
  void reap_finished();
  std::unique_ptr<Worker> checkout();
  void give_back(std::unique_ptr<Worker> worker);

  engine::Engine& engine_;
  component::ComponentPtr component_;
  ServeOptions options_;
  std::string handler_;  // "wasi:http/incoming-handler@0.2.x#handle"
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  Counters counters_;

  std::mutex mu_;
  std::condition_variable worker_freed_;
  std::vector<std::unique_ptr<Worker>> idle_;
  size_t workers_ = 0;
  std::set<int> connections_;  // open connection sockets, for stop()
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> finished_;  // connection threads that ended, to join
};

}  // namespace stratus::serve
