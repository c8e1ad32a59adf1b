// Test helper: WebAssembly text to binary, in process (wabt's parser).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace stratus::testing {

// All WebAssembly 2.0 features enabled. Error (with wabt's messages) on bad text.
Result<std::vector<uint8_t>> wat_to_wasm(std::string_view text);

}  // namespace stratus::testing
