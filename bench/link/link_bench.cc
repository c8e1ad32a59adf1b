// bench/link: the same two components linked by the host against composed
// into one, on the aot backend. The pair is bench/async's composition
// (async.wasm): its nested $Callee and $Caller are instantiated apart, the
// caller's import `c` given the callee's instance by the host in one store
// (as a workload links its members, workload/linked_instance.h), and the
// composition is instantiated whole. Rows: (a) a sync call, (b) an async
// call (stackless and stackful), each a guest loop of calls through the
// link; (c) a stream of 256 MiB in 64 KiB chunks from caller to callee.
// Printed: both figures and linked/composed (goal <= 1.3; stream >= 5 GB/s).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench_line.h"
#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"

using namespace stratus;
using namespace stratus::component;

namespace {

using Clock = std::chrono::steady_clock;

// The nested components of the composition, in order ($Callee, $Caller).
std::vector<ComponentPtr> nested_components(const Component& composed) {
  std::vector<ComponentPtr> out;
  for (const auto& def : composed.definitions)
    if (const auto* c = std::get_if<ComponentDef>(&def)) out.push_back(c->component);
  return out;
}

// The fastest of `rounds` calls of `fn(arg)`, in seconds; negative when a
// call did not return `want` (printed).
double best_call(ComponentInstance& inst, const char* fn, uint32_t arg, uint32_t want, int rounds) {
  double best = 1e30;
  for (int i = 0; i < rounds; ++i) {
    std::vector<Val> args = {Val::u32(arg)};
    auto start = Clock::now();
    auto r = inst.call(fn, args);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!r.returned() || !r.result() || r.result()->as_unsigned() != want) {
      std::fprintf(stderr, "link_bench: %s(%u): %s\n", fn, arg,
                   r.trapped()  ? r.trap().message.c_str()
                   : r.failed() ? r.error().message.c_str()
                                : "wrong result");
      return -1;
    }
    best = std::min(best, seconds);
  }
  return best;
}

struct Row {
  const char* name;
  const char* fn;
  uint32_t arg;
  uint32_t want;
  double per;  // the figure is seconds / per (ns per call); 0: GB/s of the stream
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: link_bench ASYNC.wasm CACHE_DIR\n");
    return 2;
  }
  auto bytes = read_file(argv[1]);
  auto composed = bytes.ok() ? decode_component(*bytes) : Result<ComponentPtr>(bytes.error());
  if (!composed.ok()) {
    std::fprintf(stderr, "link_bench: %s: %s\n", argv[1], composed.error().message.c_str());
    return 1;
  }
  auto parts = nested_components(**composed);
  if (parts.size() != 2) {
    std::fprintf(stderr, "link_bench: %s: expected two nested components, found %zu\n", argv[1], parts.size());
    return 1;
  }
  engine::EngineOptions options;
  options.cache_dir = argv[2];
  auto engine = engine::make_engine("aot", options);
  if (!engine.ok()) {
    std::fprintf(stderr, "link_bench: %s\n", engine.error().message.c_str());
    return 1;
  }

  Linker composed_linker(**engine);
  auto whole = composed_linker.instantiate(*composed);
  Linker caller_linker(**engine);
  Linker callee_linker(**engine, caller_linker.store());
  auto callee = callee_linker.instantiate(parts[0]);
  Result<std::shared_ptr<ComponentInstance>> caller = make_error("the callee was not instantiated");
  if (callee.ok()) {
    auto defined = caller_linker.define_component_instance("c", *callee);
    caller = defined.ok() ? caller_linker.instantiate(parts[1])
                          : Result<std::shared_ptr<ComponentInstance>>(defined.error());
  }
  for (const auto* r : {&whole, &caller}) {
    if (!r->ok()) {
      std::fprintf(stderr, "link_bench: %s\n", r->error().message.c_str());
      return 1;
    }
  }

  // The loops return the sum of 1..n (mod 2^32); the stream the bytes
  // its consumer counted.
  constexpr uint32_t kCalls = 1u << 20, kStackful = 1u << 16;
  constexpr uint32_t kChunks = 4096;  // 256 MiB of 64 KiB chunks
  auto sum = [](uint64_t n) { return static_cast<uint32_t>((n * (n + 1) / 2) & 0xffffffffu); };
  const Row rows[] = {
      {"(a) sync call, ns", "loop-sync", kCalls, sum(kCalls), kCalls / 1e9},
      {"(b) async call, stackless, ns", "loop-async-cb", kCalls, sum(kCalls), kCalls / 1e9},
      {"(b) async call, stackful, ns", "loop-async-stackful", kStackful, sum(kStackful), kStackful / 1e9},
      {"(c) stream 256 MiB / 64 KiB, GB/s", "stream", kChunks, kChunks * 65536u, 0},
  };
  std::printf("bench/link (aot): linked by the host vs composed, best of 5\n");
  std::printf("%-36s %12s %12s %8s\n", "", "linked", "composed", "ratio");
  bool ok = true;
  for (const auto& row : rows) {
    double linked = best_call(**caller, row.fn, row.arg, row.want, 5);
    double fused = best_call(**whole, row.fn, row.arg, row.want, 5);
    if (linked < 0 || fused < 0) {
      ok = false;
      continue;
    }
    if (row.per > 0) {
      std::printf("%-36s %12.1f %12.1f %7.2fx\n", row.name, linked / row.per, fused / row.per, linked / fused);
      bench::bench_line(std::string("link/") + row.fn + "-linked-vs-composed", linked / row.per, "ns", linked / fused,
                        "composed", fused / row.per, "<=1.3");
    } else {
      double bytes_moved = double{kChunks} * 65536.0;
      std::printf("%-36s %12.2f %12.2f %7.2fx\n", row.name, bytes_moved / linked / 1e9, bytes_moved / fused / 1e9,
                  linked / fused);
      // The ratio is of times, as for the calls: linked over composed.
      bench::bench_line("link/stream-linked-vs-composed", bytes_moved / linked / 1e9, "GB/s", linked / fused,
                        "composed", bytes_moved / fused / 1e9, "<=1.3");
      bench::bench_line("link/stream-linked-goal", bytes_moved / linked / 1e9, "GB/s", bytes_moved / linked / 1e9 / 5,
                        "goal", 5, ">=1");
    }
  }
  return ok ? 0 : 1;
}
