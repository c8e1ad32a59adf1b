// Test helper: WebAssembly text to binary, in process (wabt's parser).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace stratus::testing {

enum class WatFeatures { WebAssembly2, All };

// The WebAssembly 2.0 feature set by default; `All` adds every proposal wabt
// knows (for tests that check a backend rejects them). Error (with wabt's
// messages) on bad text.
Result<std::vector<uint8_t>> wat_to_wasm(std::string_view text, WatFeatures which = WatFeatures::WebAssembly2);

}  // namespace stratus::testing
