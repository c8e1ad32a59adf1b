// Lowers the exnref exception-handling proposal's `try_table` to the legacy
// `try`/`catch` encoding. Both backends sit on wabt 1.0.32, which reads only
// the legacy opcodes, while today's toolchains emit `try_table`; this rewrite
// runs on a core module's bytes before wabt sees them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "support/result.h"

namespace stratus::engine {

// Rewrites every `try_table` in a core module's code section into a legacy
// `try` ... `catch`/`catch_all` ... `end`. Returns nullopt when the module has
// no try_table (bytes unchanged), the rewritten module otherwise, or an error
// naming the byte offset for a module it cannot rewrite: constructs that need
// exnref (`catch_ref`, `catch_all_ref`, `throw_ref`, the exnref type), an
// opcode it does not know, or malformed or truncated input.
Result<std::optional<std::vector<uint8_t>>> lower_try_table(std::span<const uint8_t> module);

}  // namespace stratus::engine
