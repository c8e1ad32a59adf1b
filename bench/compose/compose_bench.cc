// bench/compose: a pair linked by the host against the same pair fused by
// `stratus compose` (component/compose), on the aot backend. The pair is
// tests/workload's WAT stream pair: the consumer's run(total, chunk, mode,
// read-size, stop-after) reads the producer's stream, checking every byte
// and yielding between reads. Linked: the producer instantiated apart and
// given to the consumer's import by the host in one store (as a workload
// links its members). Composed: compose(consumer, {producer}) instantiated
// whole. Rows: a stream of 64 MiB (64 KiB writes and reads), and a run of
// one 64 KiB chunk (a call through the link per run, plus the stream's
// setup); then the time compose itself takes.
// Printed: both figures and linked/composed (goal: close to 1).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_line.h"
#include "component/binary/decoder.h"
#include "component/compose/compose.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"

using namespace stratus;
using namespace stratus::component;

namespace {

using Clock = std::chrono::steady_clock;

// The fastest of `rounds` runs, in seconds; negative when a run did not
// read `total` bytes (printed).
double best_run(ComponentInstance& inst, uint32_t total, int rounds) {
  double best = 1e30;
  for (int i = 0; i < rounds; ++i) {
    std::vector<Val> args = {Val::u32(total), Val::u32(65536), Val::u32(0), Val::u32(65536), Val::u32(0)};
    auto start = Clock::now();
    auto r = inst.call("test:link/run#run", args);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!r.returned() || !r.result() || r.result()->items().at(0).as_unsigned() != total) {
      std::fprintf(stderr, "compose_bench: run(%u): %s\n", total,
                   r.trapped()  ? r.trap().message.c_str()
                   : r.failed() ? r.error().message.c_str()
                                : "wrong result");
      return -1;
    }
    best = std::min(best, seconds);
  }
  return best;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "compose_bench: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: compose_bench CONSUMER.wasm PRODUCER.wasm CACHE_DIR\n");
    return 2;
  }
  auto consumer_bytes = read_file(argv[1]);
  auto producer_bytes = read_file(argv[2]);
  if (!consumer_bytes.ok()) return fail(consumer_bytes.error().message);
  if (!producer_bytes.ok()) return fail(producer_bytes.error().message);
  compose::ComposeInput consumer_in{argv[1], *consumer_bytes};
  std::vector<compose::ComposeInput> plugs = {{argv[2], *producer_bytes}};

  double compose_best = 1e30;
  Result<std::vector<uint8_t>> fused = make_error("not composed");
  for (int i = 0; i < 20; ++i) {
    auto start = Clock::now();
    fused = compose::compose(consumer_in, plugs);
    compose_best = std::min(compose_best, std::chrono::duration<double>(Clock::now() - start).count());
    if (!fused.ok()) return fail(fused.error().message);
  }
  auto composed = decode_component(*fused);
  auto consumer = decode_component(*consumer_bytes);
  auto producer = decode_component(*producer_bytes);
  for (const auto* c : {&composed, &consumer, &producer})
    if (!c->ok()) return fail(c->error().message);

  engine::EngineOptions options;
  options.cache_dir = argv[3];
  auto engine = engine::make_engine("aot", options);
  if (!engine.ok()) return fail(engine.error().message);

  Linker composed_linker(**engine);
  auto whole = composed_linker.instantiate(*composed);
  if (!whole.ok()) return fail(whole.error().message);
  Linker consumer_linker(**engine);
  Linker producer_linker(**engine, consumer_linker.store());
  auto produced = producer_linker.instantiate(*producer);
  if (!produced.ok()) return fail(produced.error().message);
  auto defined = consumer_linker.define_exports(*produced);
  if (!defined.ok()) return fail(defined.error().message);
  auto linked = consumer_linker.instantiate(*consumer);
  if (!linked.ok()) return fail(linked.error().message);

  std::printf(
      "bench/compose (aot): linked by the host vs fused by stratus compose, best of 5 (one-chunk runs: of 200)\n");
  std::printf("%-36s %12s %12s %8s\n", "", "linked", "composed", "ratio");
  constexpr uint32_t kTotal = 64u << 20;
  double l = best_run(**linked, kTotal, 5);
  double c = best_run(**whole, kTotal, 5);
  if (l < 0 || c < 0) return 1;
  std::printf("%-36s %12.2f %12.2f %7.2fx\n", "stream 64 MiB / 64 KiB, GB/s", kTotal / l / 1e9, kTotal / c / 1e9,
              l / c);
  bench::bench_line("compose/stream-linked-vs-composed", kTotal / l / 1e9, "GB/s", l / c, "composed", kTotal / c / 1e9,
                    "<=1.3");
  l = best_run(**linked, 65536, 200);
  c = best_run(**whole, 65536, 200);
  if (l < 0 || c < 0) return 1;
  std::printf("%-36s %12.1f %12.1f %7.2fx\n", "one-chunk run, us", l * 1e6, c * 1e6, l / c);
  bench::bench_line("compose/one-chunk-linked-vs-composed", l * 1e6, "us", l / c, "composed", c * 1e6, "<=1.3");
  std::printf("%-36s %12s %12.2f\n", "compose (the pair), ms", "", compose_best * 1e3);
  return 0;
}
