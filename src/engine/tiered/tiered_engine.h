// The `tiered` engine: a module runs at once on the interpreter while the
// aot backend compiles it on a background thread; new instances are made
// on aot once its code is loaded (engine.h's tier_for), the running ones
// finish where they are.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "engine/engine.h"

namespace stratus::engine {

Result<std::unique_ptr<Engine>> make_tiered_engine(const EngineOptions& options);

// Where the background aot compile of a module a tiered engine compiled
// stands; nullopt when `engine` is not a tiered engine or `module` has no
// aot compile (its interp compile failed in part).
enum class TierState { Compiling, Ready, Failed };
std::optional<TierState> tier_state(Engine& engine, const Module& module);

// Waits until no background compile of `engine` (a tiered one) is under
// way, or `timeout` passed; whether none is. True at once for other engines.
bool wait_for_tiers(Engine& engine, std::chrono::milliseconds timeout = std::chrono::minutes(10));

// The aot engine inside a tiered one (its statistics, aot_stats.h); null
// for other engines.
const Engine* aot_tier(const Engine& engine);

}  // namespace stratus::engine
