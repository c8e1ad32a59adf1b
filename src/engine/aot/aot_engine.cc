#include "engine/aot/aot_engine.h"

namespace stratus::engine {

Result<std::unique_ptr<Engine>> make_aot_engine(const EngineOptions&) {
  return make_error("engine 'aot' is not built yet");
}

}  // namespace stratus::engine
