// Process-wide registries of the AOT runtime: function-type identities and
// the per-signature code (invoker, host trampoline) loaded shared objects
// provide. Type ids are structural, so call_indirect works across modules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/aot/runtime/wasm-rt.h"
#include "engine/engine.h"

namespace stratus::engine::aot {

// "ij:d": one code per param, ':' then one per result (codes i j f d r e).
std::string signature_of(const FuncType& type);
std::optional<FuncType> type_of_signature(std::string_view signature);

// Same id for the same signature, process-wide (what wasm_rt_register_func_type returns).
uint32_t type_id(std::string_view signature);
std::string signature_of_id(uint32_t id);

struct SigCode {
  stratus_rt_invoker_t invoke = nullptr;
  wasm_rt_function_ptr_t host_trampoline = nullptr;
};
// Records code for a signature (first registration wins; shared objects are
// never unloaded, so the pointers stay valid).
void register_sig_code(uint32_t id, SigCode code);
std::optional<SigCode> sig_code(uint32_t id);

}  // namespace stratus::engine::aot
