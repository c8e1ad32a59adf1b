#include "engine/aot/aot_engine.h"
#include "engine/engine.h"
#include "engine/interp/interp_engine.h"
#include "engine/tiered/tiered_engine.h"

namespace stratus::engine {

Result<std::unique_ptr<Engine>> make_engine(std::string_view name, const EngineOptions& options) {
  if (name == "aot") return make_aot_engine(options);
  if (name == "interp") return make_interp_engine(options);
  if (name == "tiered") return make_tiered_engine(options);
  return make_error("unknown engine '" + std::string(name) + "' (expected 'aot', 'interp' or 'tiered')");
}

}  // namespace stratus::engine
