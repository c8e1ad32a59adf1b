// The `aot` backend: wasm2c turns each module into C, the system C compiler
// builds a shared object (cached by content hash), dlopen loads it.
#pragma once

#include <memory>

#include "engine/engine.h"

namespace stratus::engine {

Result<std::unique_ptr<Engine>> make_aot_engine(const EngineOptions& options);

}  // namespace stratus::engine
