#include "engine/interp/interp_engine.h"

namespace stratus::engine {

Result<std::unique_ptr<Engine>> make_interp_engine(const EngineOptions&) {
  return make_error("engine 'interp' is not built yet");
}

}  // namespace stratus::engine
