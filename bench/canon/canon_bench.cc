// bench/canon: the cost of crossing a component boundary with the canonical
// ABI, per payload, on both engine backends:
//   host->guest   the host calls `echo-*` on a component (lower the argument
//                 into guest memory, call, lift the result, post-return);
//   guest->guest  a component calls another one's `echo-*` through a
//                 host-mediated link, n times in a core loop.
// Baseline, measured in the same run: native C++ passing the same payload by
// value and returning it (two copies, as the canonical ABI makes).
#include <chrono>
#include <cstdio>
#include <cstring>
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

struct Payload {
  std::string name;
  std::string slug;  // the name in BENCH lines
  bool is_list;
  Val value;
  size_t bytes;
};

std::vector<Payload> payloads() {
  std::vector<Payload> out;
  for (size_t size : {size_t{16}, size_t{1024}, size_t{65536}}) {
    std::string s(size, 'x');
    for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + i % 26);
    out.push_back(
        {"string " + std::to_string(size) + " B", "string-" + std::to_string(size) + "B", false, Val::string(s), size});
  }
  std::vector<Val> xs;
  for (uint32_t i = 0; i < 1000; ++i) xs.push_back(Val::u32(i * 7));
  out.push_back({"list<u32> x1000", "list-u32-x1000", true, Val::list(std::move(xs)), 4000});
  return out;
}

// Runs `body(iterations)` with growing iteration counts until it takes at
// least `min_seconds`; returns ns per iteration of the last run.
template <class F>
double ns_per_iteration(F&& body, double min_seconds) {
  for (uint64_t n = 1;; n *= 4) {
    auto start = Clock::now();
    if (!body(n)) return -1;
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (seconds >= min_seconds || n >= (1ull << 34)) return seconds * 1e9 / static_cast<double>(n);
  }
}

// The native baseline: a function taking and returning the payload by value.
__attribute__((noinline)) std::string native_echo(std::string s) { return s; }
__attribute__((noinline)) std::vector<uint32_t> native_echo_list(std::vector<uint32_t> v) { return v; }

double native_ns(const Payload& p, double min_seconds) {
  if (p.is_list) {
    std::vector<uint32_t> v(1000);
    for (uint32_t i = 0; i < 1000; ++i) v[i] = i * 7;
    return ns_per_iteration(
        [&](uint64_t n) {
          size_t total = 0;
          for (uint64_t i = 0; i < n; ++i) total += native_echo_list(v).size();
          return total == n * 1000;
        },
        min_seconds);
  }
  const std::string& s = p.value.as_string();
  return ns_per_iteration(
      [&](uint64_t n) {
        size_t total = 0;
        for (uint64_t i = 0; i < n; ++i) total += native_echo(s).size();
        return total == n * s.size();
      },
      min_seconds);
}

Result<ComponentPtr> load(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return std::move(bytes).error();
  return decode_component(*bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: canon_bench ECHO.wasm RELAY.wasm CACHE_DIR [MIN_SECONDS]\n");
    return 2;
  }
  double min_seconds = argc > 4 ? std::atof(argv[4]) : 0.3;
  auto echo = load(argv[1]);
  auto relay = load(argv[2]);
  if (!echo.ok() || !relay.ok()) {
    std::fprintf(stderr, "canon_bench: %s\n", (!echo.ok() ? echo.error() : relay.error()).message.c_str());
    return 1;
  }
  auto cases = payloads();
  std::vector<double> native;
  for (const auto& p : cases) native.push_back(native_ns(p, min_seconds));

  std::printf("bench/canon: ns per call (ratio against native C++ by-value echo of the same payload)\n");
  std::printf("%-18s %10s", "payload", "native");
  for (const char* e : {"interp", "aot"}) std::printf(" %14s-h2g %14s-g2g", e, e);
  std::printf("\n");

  std::vector<std::vector<double>> h2g(2), g2g(2);
  const char* engines[] = {"interp", "aot"};
  for (int e = 0; e < 2; ++e) {
    engine::EngineOptions options;
    options.cache_dir = argv[3];
    auto engine = engine::make_engine(engines[e], options);
    if (!engine.ok()) {
      std::fprintf(stderr, "canon_bench: %s\n", engine.error().message.c_str());
      return 1;
    }
    Linker linker(**engine);
    auto provider = linker.instantiate(*echo);
    if (!provider.ok()) {
      std::fprintf(stderr, "canon_bench: echo: %s\n", provider.error().message.c_str());
      return 1;
    }
    if (auto ok = linker.define_exports(*provider); !ok.ok()) {
      std::fprintf(stderr, "canon_bench: %s\n", ok.error().message.c_str());
      return 1;
    }
    auto consumer = linker.instantiate(*relay);
    if (!consumer.ok()) {
      std::fprintf(stderr, "canon_bench: relay: %s\n", consumer.error().message.c_str());
      return 1;
    }
    // The interpreter is ~100x slower; give it less time per doubling.
    double budget = e == 0 ? min_seconds / 2 : min_seconds;
    for (const auto& p : cases) {
      std::string fn = std::string("test:bench/echo@0.1.0#") + (p.is_list ? "echo-list" : "echo-string");
      std::vector<Val> args = {p.value};
      double host = ns_per_iteration(
          [&](uint64_t n) {
            for (uint64_t i = 0; i < n; ++i) {
              auto r = (*provider)->call(fn, args);
              if (!r.returned() || !r.result() || !(*r.result() == p.value)) {
                std::fprintf(stderr, "canon_bench: %s %s: wrong result\n", engines[e], p.name.c_str());
                return false;
              }
            }
            return true;
          },
          budget);
      std::string relay_fn = p.is_list ? "relay-list" : "relay-string";
      double guest = ns_per_iteration(
          [&](uint64_t n) {
            std::vector<Val> relay_args = {p.value, Val::u32(static_cast<uint32_t>(n))};
            auto r = (*consumer)->call(relay_fn, relay_args);
            uint64_t want = p.is_list ? 1000 : p.bytes;
            if (!r.returned() || !r.result() || r.result()->as_unsigned() != want) {
              std::fprintf(stderr, "canon_bench: %s %s relay: %s\n", engines[e], p.name.c_str(),
                           r.trapped()  ? r.trap().message.c_str()
                           : r.failed() ? r.error().message.c_str()
                                        : "wrong");
              return false;
            }
            return true;
          },
          budget);
      if (host < 0 || guest < 0) return 1;
      h2g[e].push_back(host);
      g2g[e].push_back(guest);
    }
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    std::printf("%-18s %10.1f", cases[i].name.c_str(), native[i]);
    for (int e = 0; e < 2; ++e)
      std::printf(" %10.0f (%5.0fx) %10.0f (%5.0fx)", h2g[e][i], h2g[e][i] / native[i], g2g[e][i],
                  g2g[e][i] / native[i]);
    std::printf("\n");
  }
  for (size_t i = 0; i < cases.size(); ++i)
    std::printf("canon %-18s aot guest->guest %.0f ns, interp/aot %.1fx\n", cases[i].name.c_str(), g2g[1][i],
                g2g[0][i] / g2g[1][i]);
  for (size_t i = 0; i < cases.size(); ++i) {
    for (int e = 0; e < 2; ++e) {
      std::string row = "canon/" + cases[i].slug + "/" + engines[e];
      bench::bench_line(row + "-host-to-guest", h2g[e][i], "ns", h2g[e][i] / native[i], "native", native[i], "");
      bench::bench_line(row + "-guest-to-guest", g2g[e][i], "ns", g2g[e][i] / native[i], "native", native[i], "");
    }
  }
  // #22: a host->guest call with a 16-byte string within 300 ns on aot.
  bench::bench_line("canon/string-16B/aot-host-to-guest-goal", h2g[1][0], "ns", h2g[1][0] / 300.0, "goal", 300, "<=1");
  return 0;
}
