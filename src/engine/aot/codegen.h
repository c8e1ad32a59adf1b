// Turns a decoded module into C: rewrites the IR (deadline checks, stable
// symbol names), runs wasm2c's writer in-process, and writes the glue file
// that connects the generated code to stratus's runtime.
#pragma once

#include <string>

#include "engine/aot/decode.h"

namespace stratus::engine::aot {

struct GeneratedC {
  std::string name;    // C module name, e.g. "m0123abcd..." (symbol prefix Z_<name>)
  std::string source;  // <name>.c
  std::string header;  // <name>.h
  std::string glue;    // <name>_glue.c, defines the import symbols and the descriptor
};

// Bump when the generated glue or the instrumentation changes: part of the cache key.
inline constexpr const char* kGlueVersion = "stratus-aot-glue-9";

// The descriptor function each module's shared object exports.
std::string descriptor_symbol(const std::string& c_name);

// A stand-alone C file with the invoker and host trampoline of one signature
// (for host functions used as funcrefs when no loaded module has their
// signature); it exports `const stratus_rt_sig_t* <symbol>(void)`.
std::string signature_source(const FuncType& type, const std::string& symbol);

// Consumes (rewrites) `module.ir`.
Result<GeneratedC> generate_c(DecodedModule& module, const std::string& c_name);

}  // namespace stratus::engine::aot
