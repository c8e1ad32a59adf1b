// Decoding and validation of core modules with libwabt, and the facts about a
// module the rest of the backend needs (its import/export types, defined
// memories and tables), taken before the module is rewritten for codegen.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "support/result.h"

namespace wabt {
struct Module;
}

namespace stratus::engine::aot {

struct ModuleInfo {
  std::vector<ImportDesc> imports;
  std::vector<ExportDesc> exports;
  std::vector<MemoryType> memories;  // defined (not imported), in index order
  std::vector<TableType> tables;     // defined
  std::vector<TagType> tags;         // defined
  uint32_t num_functions = 0;        // defined
  // Per export: its index in the index space of its kind (exported tags are
  // found through it; generated code has no symbol for them).
  std::vector<uint32_t> export_index;
};

struct DecodedModule {
  std::shared_ptr<wabt::Module> ir;  // shared_ptr: wabt::Module is incomplete here
  ModuleInfo info;
};

// Errors name the byte offset and the reason ("offset 0x1c: type mismatch in
// i32.add ..."). Modules using a proposal the wasm2c backend cannot compile
// (SIMD, ...) are rejected with an error naming the proposal. With
// `multi_memory`, several memories are accepted (wasm2c compiles them); with
// `exceptions`, tags and exception handling (try_table is lowered to the
// legacy try/catch that wasm2c compiles, see eh_lower.h).
Result<DecodedModule> decode_module(std::span<const uint8_t> bytes, bool multi_memory = false, bool exceptions = false);

}  // namespace stratus::engine::aot
