// A worker of a route (internal to serve/): one instance of the route's
// component at a time, in a linker and WASI host of its own, made (or
// reset) ahead of the request it will serve.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "component/runtime/runtime.h"
#include "serve/http_server.h"
#include "wasi/p2/http.h"
#include "wasi/p2/wasi.h"

namespace stratus::serve {

class HttpServer::Worker {
 public:
  Worker(engine::Engine& engine, const ServeOptions& options, const Route& route);

  Result<void> init(const Route& route);

  // The instance that served the last request is reset in place when its
  // call returned and the engine can (the aot backend): as fresh as a new
  // one, at a fraction of the cost. Otherwise it is instantiated anew.
  Result<void> prepare(const Route& route);

  // Runs the guest's handler for `request`; the response goes to `sink`.
  // A trap or an error comes back as its message.
  std::optional<std::string> handle(const std::string& handler, wasi::p2::IncomingRequest request,
                                    wasi::p2::ResponseSink& sink);

  // The same for a wasi:http/handler@0.3.x: the guest gets a request and
  // answers with a response (or an error-code); its head goes out at once,
  // its body as the guest writes it, possibly after the call returned, then
  // its trailers. Returns once the response ended: work the guest goes on
  // with after that is settle()'s.
  std::optional<std::string> handle_p3(const std::string& handler, wasi::p2::IncomingRequest request,
                                       wasi::p2::ResponseSink& sink);

  // What a WASI 0.3 guest goes on with after its response ended (tasks
  // that run past their return), run to its end within the call timeout;
  // called once the connection has moved on. Why it did not end well, or
  // nothing.
  std::optional<std::string> settle();

  uint64_t invocations() const { return invocations_; }

 private:
  class GuardedSink;

  static constexpr const char* kTypes = "wasi:http/types@0.2.12";
  // Declared first, destroyed last: the linker's functions and the
  // instance call into what the extension holds.
  std::unique_ptr<InstanceExtension> extension_;
  wasi::p2::WasiHost wasi_;
  component::Linker linker_;
  component::InstantiateOptions instantiate_options_;
  std::shared_ptr<component::ComponentInstance> instance_;
  bool fresh_ = false;     // instance_ has not served a request since it was made or reset
  bool settling_ = false;  // its last request's response ended; settle() runs what the guest still does
  uint64_t invocations_ = 0;
  std::chrono::milliseconds timeout_;
};

}  // namespace stratus::serve
