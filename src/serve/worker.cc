#include "serve/worker.h"

#include <span>
#include <utility>
#include <vector>

#include "wasi/p3/http.h"

namespace stratus::serve {

// The connection's sink for as long as the request is under way: a body
// the guest is still writing after that goes nowhere.
class HttpServer::Worker::GuardedSink final : public wasi::p2::ResponseSink {
 public:
  explicit GuardedSink(wasi::p2::ResponseSink& sink) : sink_(&sink) {}
  void detach() { sink_ = nullptr; }
  std::optional<wasi::p2::StreamFailure> start(uint16_t status, const wasi::p2::HttpFields& headers) override {
    if (!sink_) return wasi::p2::StreamFailure::end();
    return sink_->start(status, headers);
  }
  std::optional<wasi::p2::StreamFailure> write(std::span<const uint8_t> bytes) override {
    if (!sink_) return wasi::p2::StreamFailure::end();
    return sink_->write(bytes);
  }
  std::optional<wasi::p2::StreamFailure> flush() override {
    if (!sink_) return wasi::p2::StreamFailure::end();
    return sink_->flush();
  }
  void finish() override {
    if (sink_) sink_->finish();
  }
  void set_trailers(const wasi::p2::HttpFields& trailers) override {
    if (sink_) sink_->set_trailers(trailers);
  }
  void fail(const std::string& why) override {
    if (sink_) sink_->fail(why);
  }

 private:
  wasi::p2::ResponseSink* sink_;
};

HttpServer::Worker::Worker(engine::Engine& engine, const ServeOptions& options, const Route& route)
    : wasi_(route.wasi), linker_(engine), timeout_(options.timeout) {
  instantiate_options_.limits.call_timeout = options.timeout;
  instantiate_options_.limits.max_memory_bytes = route.max_memory_bytes;
  instantiate_options_.max_handles = route.max_handles;
  instantiate_options_.allow_sync_cancel_in_waitable_set = true;  // runtime.h: older toolchains' components
}

Result<void> HttpServer::Worker::init(const Route& route) {
  STRATUS_TRY(wasi_.add_to_linker(linker_));
  if (route.extend) {
    auto extension = route.extend(linker_, wasi_);
    if (!extension) return std::move(extension).error();
    extension_ = std::move(*extension);
  }
  return {};
}

Result<void> HttpServer::Worker::prepare(const Route& route) {
  wasi_.reset(route.wasi);
  if (extension_) STRATUS_TRY(extension_->prepare());
  if (instance_ && !fresh_) {
    // A WASI 0.3 instance too, once its last request has settled: reset()
    // refuses one a task of which is still live (it is made anew then).
    if (instance_->reset().ok()) {
      fresh_ = true;
      return {};
    }
    instance_.reset();
  }
  auto instance = linker_.instantiate(route.component, instantiate_options_);
  if (!instance) return std::move(instance).error();
  instance_ = std::move(*instance);
  fresh_ = true;
  return {};
}

std::optional<std::string> HttpServer::Worker::handle(const std::string& handler, wasi::p2::IncomingRequest request,
                                                      wasi::p2::ResponseSink& sink) {
  if (!instance_ || !fresh_) return std::string("no instance was ready");
  fresh_ = false;
  ++invocations_;
  auto& instance = instance_;
  auto& ctx = wasi_.ctx();
  uint32_t req = ctx.incoming_requests.add(std::make_shared<wasi::p2::IncomingRequest>(std::move(request)));
  uint32_t out = ctx.response_outparams.add(
      std::make_shared<wasi::p2::ResponseOutparam>(wasi::p2::ResponseOutparam{&sink, false}));
  static const std::string kRequest = std::string(kTypes) + "#incoming-request";
  static const std::string kOutparam = std::string(kTypes) + "#response-outparam";
  auto req_type = wasi_.resource_type(kRequest);
  auto out_type = wasi_.resource_type(kOutparam);
  std::vector<component::Val> args = {component::Val::own(component::ResourceRef{req_type, req}),
                                      component::Val::own(component::ResourceRef{out_type, out})};
  auto outcome = instance->call(handler, args);
  if (outcome.trapped()) return "trap: " + outcome.trap().message;
  if (outcome.failed()) return outcome.error().message;
  return std::nullopt;
}

std::optional<std::string> HttpServer::Worker::handle_p3(const std::string& handler, wasi::p2::IncomingRequest request,
                                                         wasi::p2::ResponseSink& sink) {
  if (!instance_ || !fresh_) return std::string("no instance was ready");
  fresh_ = false;
  ++invocations_;
  auto& ctx = wasi_.ctx();
  uint32_t req = wasi::p3::add_served_request(ctx, std::move(request));
  auto req_type = wasi_.resource_type("wasi:http/types@0.3.0#request");
  std::vector<component::Val> args = {component::Val::own(component::ResourceRef{req_type, req})};
  auto outcome = instance_->call(handler, args);
  if (outcome.trapped()) return "trap: " + outcome.trap().message;
  if (outcome.failed()) return outcome.error().message;
  const auto& r = outcome.result();
  if (!r || r->kind() != component::ValKind::Result || r->payload() == nullptr)
    return std::string("the handler returned no response");
  if (r->discriminant() == 1) {
    sink.fail("the handler answered with an error-code (case " + std::to_string(r->payload()->discriminant()) + ")");
    return std::nullopt;
  }
  auto guarded = std::make_shared<GuardedSink>(sink);
  auto ended = std::make_shared<std::optional<std::optional<std::string>>>();
  wasi::p3::send_response(ctx, r->payload()->as_handle().rep, guarded,
                          [ended](std::optional<std::string> why) { *ended = std::move(why); });
  auto stopped = linker_.run_until([&ended] { return ended->has_value(); }, timeout_);
  guarded->detach();
  if (stopped) return "while sending the response: " + stopped->message;
  if (**ended) return **ended;
  settling_ = true;
  return std::nullopt;
}

std::optional<std::string> HttpServer::Worker::settle() {
  if (!settling_) return std::nullopt;
  settling_ = false;
  if (auto after = linker_.run_until_idle(timeout_)) return after->message;
  return std::nullopt;
}

}  // namespace stratus::serve
