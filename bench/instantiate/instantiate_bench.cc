// bench/instantiate: what a fresh instance per request costs. The
// http-hello example (a wasi:http proxy) is decoded once and its linker (the
// WASI 0.2 host) made once per backend; each iteration then instantiates
// it, calls its handler with GET /?name=bench, checks the answer and drops
// the instance, as `stratus serve` would without its pool. Rows per backend:
//   cycle            instantiate + call + drop (the figure #22 sets a goal for:
//                    <= 20 µs on aot)
//   instantiate+drop the same without the call
//   reset+call       the instance reset in place, then called: what serve does
//                    on aot between requests
// Baseline: the goal itself (20 µs); the interpreter's rows have none.
//
//   instantiate_bench HTTP_HELLO.wasm CACHE_DIR [MIN_SECONDS [ENGINE]]
// ENGINE (aot or interp) runs one backend only, for a profile of it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_line.h"
#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "wasi/p2/http.h"
#include "wasi/p2/wasi.h"

using namespace stratus;
using namespace stratus::component;

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kGoalNs = 20000;
constexpr const char* kTypes = "wasi:http/types@0.2.12";

// Runs `body(iterations)` with growing iteration counts until it takes at
// least `min_seconds`; ns per iteration of the last run, or -1 on failure.
template <class F>
double ns_per_iteration(F&& body, double min_seconds) {
  for (uint64_t n = 1;; n *= 2) {
    auto start = Clock::now();
    if (!body(n)) return -1;
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (seconds >= min_seconds || n >= (1ull << 30)) return seconds * 1e9 / static_cast<double>(n);
  }
}

// Keeps the response in memory, to check it.
class Sink final : public wasi::p2::ResponseSink {
 public:
  std::optional<wasi::p2::StreamFailure> start(uint16_t status, const wasi::p2::HttpFields&) override {
    status_ = status;
    return std::nullopt;
  }
  std::optional<wasi::p2::StreamFailure> write(std::span<const uint8_t> bytes) override {
    body_.append(bytes.begin(), bytes.end());
    return std::nullopt;
  }
  void finish() override { finished_ = true; }
  void fail(const std::string& why) override { body_ = "failed: " + why; }

  bool answered(const std::string& want) const { return status_ == 200 && finished_ && body_ == want; }
  std::string what() const { return std::to_string(status_) + " " + body_; }
  void clear() {
    status_ = 0;
    body_.clear();
    finished_ = false;
  }

 private:
  uint16_t status_ = 0;
  std::string body_;
  bool finished_ = false;
};

// One backend's linker and WASI host, and the request it sends.
class Bench {
 public:
  Bench(engine::Engine& engine, ComponentPtr component, std::string handler)
      : wasi_(wasi::p2::WasiConfig{}),
        linker_(engine),
        component_(std::move(component)),
        handler_(std::move(handler)) {}

  Result<void> init() { return wasi_.add_to_linker(linker_); }

  Result<std::shared_ptr<ComponentInstance>> instantiate() {
    wasi_.reset(wasi::p2::WasiConfig{});
    return linker_.instantiate(component_, options_);
  }

  // Starts `instance` over in place, with a fresh WASI host, as serve does.
  Result<void> reset(ComponentInstance& instance) {
    wasi_.reset(wasi::p2::WasiConfig{});
    return instance.reset();
  }

  // Calls the handler with GET /?name=bench; an error says why it failed.
  std::optional<std::string> call(ComponentInstance& instance) {
    auto& ctx = wasi_.ctx();
    auto request = std::make_shared<wasi::p2::IncomingRequest>();
    request->method = "GET";
    request->path_with_query = "/?name=bench";
    request->authority = "localhost";
    request->headers = std::make_shared<wasi::p2::HttpFields>();
    request->headers->immutable = true;
    request->body = wasi::p2::memory_input({});
    sink_.clear();
    uint32_t req = ctx.incoming_requests.add(std::move(request));
    uint32_t out = ctx.response_outparams.add(
        std::make_shared<wasi::p2::ResponseOutparam>(wasi::p2::ResponseOutparam{&sink_, false}));
    std::vector<Val> args = {
        Val::own(ResourceRef{wasi_.resource_type(std::string(kTypes) + "#incoming-request"), req}),
        Val::own(ResourceRef{wasi_.resource_type(std::string(kTypes) + "#response-outparam"), out})};
    auto outcome = instance.call(handler_, args);
    if (outcome.trapped()) return "trap: " + outcome.trap().message;
    if (outcome.failed()) return outcome.error().message;
    if (!sink_.answered("Hello, bench!\n")) return "unexpected answer: " + sink_.what();
    return std::nullopt;
  }

 private:
  wasi::p2::WasiHost wasi_;
  Linker linker_;
  ComponentPtr component_;
  std::string handler_;
  InstantiateOptions options_;
  Sink sink_;
};

struct Figures {
  double cycle = -1, instantiate_drop = -1, reset_call = -1;
};

bool report(const char* what, const std::string& message) {
  std::fprintf(stderr, "instantiate_bench: %s: %s\n", what, message.c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: instantiate_bench HTTP_HELLO.wasm CACHE_DIR [MIN_SECONDS [aot|interp]]\n");
    return 2;
  }
  double min_seconds = argc > 3 ? std::atof(argv[3]) : 0.5;
  std::string only = argc > 4 ? argv[4] : "";
  if (!only.empty() && only != "aot" && only != "interp") {
    std::fprintf(stderr, "instantiate_bench: unknown engine `%s` (want aot or interp)\n", only.c_str());
    return 2;
  }
  if (min_seconds <= 0) {
    std::fprintf(stderr, "instantiate_bench: MIN_SECONDS `%s` must be a number above 0\n", argv[3]);
    return 2;
  }
  auto bytes = read_file(argv[1]);
  if (!bytes.ok()) return report(argv[1], bytes.error().message), 1;
  auto component = decode_component(*bytes);
  if (!component.ok()) return report(argv[1], component.error().message), 1;
  std::string handler;
  for (const auto& e : (*component)->type->exports) {
    if (e.name.rfind("wasi:http/incoming-handler@0.2.", 0) == 0) handler = e.name + "#handle";
  }
  if (handler.empty()) return report(argv[1], "does not export wasi:http/incoming-handler@0.2.x"), 1;

  const char* engines[] = {"interp", "aot"};
  Figures figures[2];
  for (int e = 0; e < 2; ++e) {
    if (!only.empty() && only != engines[e]) continue;
    engine::EngineOptions options;
    options.cache_dir = argv[2];
    auto engine = engine::make_engine(engines[e], options);
    if (!engine.ok()) return report(engines[e], engine.error().message), 1;
    Bench bench(**engine, *component, handler);
    if (auto ok = bench.init(); !ok.ok()) return report(engines[e], ok.error().message), 1;
    // The first instance compiles (aot) or loads the cached code: not timed.
    {
      auto first = bench.instantiate();
      if (!first.ok()) return report(engines[e], first.error().message), 1;
      if (auto failed = bench.call(**first)) return report(engines[e], *failed), 1;
    }
    Figures& f = figures[e];
    f.cycle = ns_per_iteration(
        [&](uint64_t n) {
          for (uint64_t i = 0; i < n; ++i) {
            auto instance = bench.instantiate();
            if (!instance.ok()) return report(engines[e], instance.error().message);
            if (auto failed = bench.call(**instance)) return report(engines[e], *failed);
          }
          return true;
        },
        min_seconds);
    f.instantiate_drop = ns_per_iteration(
        [&](uint64_t n) {
          for (uint64_t i = 0; i < n; ++i) {
            auto instance = bench.instantiate();
            if (!instance.ok()) return report(engines[e], instance.error().message);
          }
          return true;
        },
        min_seconds);
    auto kept = bench.instantiate();
    if (!kept.ok()) return report(engines[e], kept.error().message), 1;
    bool resets = true;
    f.reset_call = ns_per_iteration(
        [&](uint64_t n) {
          for (uint64_t i = 0; i < n; ++i) {
            if (auto r = bench.reset(**kept); !r.ok()) {
              resets = false;  // the backend cannot reset in place (interp): no row
              return false;
            }
            if (auto failed = bench.call(**kept)) return report(engines[e], *failed);
          }
          return true;
        },
        min_seconds);
    if (f.cycle < 0 || f.instantiate_drop < 0 || (f.reset_call < 0 && resets)) return 1;
  }

  std::printf("bench/instantiate: http-hello (examples/http-hello), ns per iteration; goal: cycle <= 20 us on aot\n");
  std::printf("%-40s %14s %14s\n", "", "interp", "aot");
  auto row = [&](const char* name, double Figures::*field) {
    std::printf("%-40s", name);
    for (const auto& f : figures) {
      if (f.*field < 0)
        std::printf(" %14s", "-");
      else
        std::printf(" %14.0f", f.*field);
    }
    std::printf("\n");
  };
  row("instantiate + call + drop (cycle)", &Figures::cycle);
  row("instantiate + drop", &Figures::instantiate_drop);
  row("reset in place + call (serve on aot)", &Figures::reset_call);
  const Figures& aot = figures[1];
  if (aot.cycle >= 0) {
    std::printf("aot cycle %.1f us: %.2fx the goal (20 us): %s\n", aot.cycle / 1e3, aot.cycle / kGoalNs,
                aot.cycle <= kGoalNs ? "met" : "NOT met");
  }
  std::printf(
      "wasmtime: no comparable figure. `wasmtime serve` instantiates per request too, but behind its HTTP "
      "server: see bench/http's wasmtime row.\n");
  for (int e = 0; e < 2; ++e) {
    const Figures& f = figures[e];
    std::string suffix = std::string("-") + engines[e];
    // #22's goal is on aot's cycle; the other rows are where that time goes.
    if (f.cycle >= 0)
      bench::bench_line("instantiate/cycle" + suffix, f.cycle, "ns", f.cycle / kGoalNs, "goal", kGoalNs,
                        e == 1 ? "<=1" : "");
    if (f.instantiate_drop >= 0)
      bench::bench_line("instantiate/instantiate-drop" + suffix, f.instantiate_drop, "ns", f.instantiate_drop / kGoalNs,
                        "goal", kGoalNs, "");
    if (f.reset_call >= 0)
      bench::bench_line("instantiate/reset-call" + suffix, f.reset_call, "ns", f.reset_call / kGoalNs, "goal", kGoalNs,
                        "");
  }
  return 0;
}
