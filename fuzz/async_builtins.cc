// Fuzzes the async runtime with random sequences of async built-ins on two
// linked guests (fuzz/async/guests.wat): every 4 input bytes are one step,
// [guest, op, x, y], which calls that guest's `step(op, x, y)`: stream and
// future reads, writes, cancels and drops, waitable sets, subtasks handing
// stream and future ends to the other guest, error contexts, backpressure,
// with handle indices and buffers from x and y. A step may trap (that ends
// the run: the instance is locked down); nothing may crash, and once the
// instances are gone the store holds no thread and no waiter (and, under
// LeakSanitizer, no object is left behind).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "component/binary/decoder.h"
#include "component/runtime/async.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"

using namespace stratus;
using namespace stratus::component;

namespace {

std::unique_ptr<engine::Engine> g_engine;
ComponentPtr g_guests;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  engine::EngineOptions options;
  options.cache_dir = STRATUS_FUZZ_CACHE_DIR;
  auto engine = engine::make_engine("aot", options);
  auto bytes = read_file(STRATUS_ASYNC_GUESTS);
  if (!engine.ok() || !bytes.ok()) {
    std::fprintf(stderr, "async_builtins: cannot start: %s\n",
                 (!engine.ok() ? engine.error() : bytes.error()).message.c_str());
    std::abort();
  }
  g_engine = std::move(*engine);
  auto component = decode_component(*bytes);
  if (!component.ok()) {
    std::fprintf(stderr, "async_builtins: %s\n", component.error().message.c_str());
    std::abort();
  }
  g_guests = *component;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return -1;  // long runs add nothing the short ones don't
  auto linker = std::make_unique<Linker>(*g_engine);
  std::shared_ptr<Store> store = linker->store();
  {
    auto made = linker->instantiate(g_guests);
    if (!made.ok()) {
      std::fprintf(stderr, "async_builtins: instantiate: %s\n", made.error().message.c_str());
      std::abort();
    }
    auto instance = *made;
    for (size_t i = 0; i + 4 <= size; i += 4) {
      const char* fn = (data[i] & 1) != 0 ? "b-step" : "a-step";
      std::vector<Val> args = {Val::u32(data[i + 1]), Val::u32(data[i + 2]), Val::u32(uint32_t{data[i + 3]} << 4)};
      auto outcome = instance->call(fn, args);
      if (outcome.failed()) {
        std::fprintf(stderr, "async_builtins: a call failed without trapping: %s\n", outcome.error().message.c_str());
        std::abort();
      }
      if (outcome.trapped()) break;
    }
  }
  // The instances are gone: whatever they left parked has unwound.
  if (!store->live.empty() || !store->waiting.empty()) {
    std::fprintf(stderr, "async_builtins: %zu threads and %zu waiters outlived their instances\n", store->live.size(),
                 store->waiting.size());
    std::abort();
  }
  return 0;
}
