// The `interp` backend: wabt's interpreter, no compile step.
#pragma once

#include <memory>

#include "engine/engine.h"

namespace stratus::engine {

Result<std::unique_ptr<Engine>> make_interp_engine(const EngineOptions& options);

}  // namespace stratus::engine
