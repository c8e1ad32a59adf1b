// Counters of the AOT backend, so tests and tools can see whether a module
// was compiled or came from the on-disk cache.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/engine.h"

namespace stratus::engine {

struct AotStats {
  uint64_t compiler_runs = 0;  // C compiler invocations (one per compile / compile_many batch)
  uint64_t cache_hits = 0;     // shared objects loaded from the cache without compiling
  uint64_t modules_compiled = 0;
  double compile_seconds = 0;  // wall time of the C compiler runs, summed
  uint64_t memory_bytes = 0;   // linear memory of every aot instance of the process, reachable now
};

// The engine's counters; nullopt if `engine` is not the aot backend.
std::optional<AotStats> aot_stats(const Engine& engine);

}  // namespace stratus::engine
