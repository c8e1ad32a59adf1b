// Decoding and validating the component binary format (Binary.md).
#pragma once

#include <cstdint>
#include <span>

#include "component/ast.h"
#include "support/result.h"

namespace stratus::component {

// True when `bytes` start with the component preamble (layer 1), as opposed
// to a core module (layer 0).
bool is_component(std::span<const uint8_t> bytes);

struct DecodeOptions {
  // false: of each core module, only the sections that type its imports and
  // exports are read and checked; its code is validated by the engine that
  // compiles it, when it is first instantiated (a workload's members that
  // may never be called cost a read of their headers, not of their code).
  bool validate_core_code = true;
};

// Decodes and validates a component. Errors name the section, the byte
// offset and the rule broken: "type section at offset 0x2f: record has no
// fields". Never aborts on any input.
Result<ComponentPtr> decode_component(std::span<const uint8_t> bytes, const DecodeOptions& options = {});

}  // namespace stratus::component
