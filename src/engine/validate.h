// Validating a core module embedded in a component, without compiling it:
// its imports and exports, as a component decoder needs them.
#pragma once

#include <cstdint>
#include <span>

#include "engine/engine.h"

namespace stratus::engine {

// Validates a core module and lists its imports and exports (engine.h
// ModuleTypeInfo), with the core features the Component
// Model's validator (wasm-tools) turns on by default and wabt supports
// (multi-memory, exception handling). Errors name the byte offset (relative to the module's
// first byte) and the rule broken.
Result<ModuleTypeInfo> validate_core_module(std::span<const uint8_t> bytes);

}  // namespace stratus::engine
