// A check of a core module's section framing before wabt reads it. wabt
// 1.0.32's interpreter reader reserves storage for the data count section's
// number as given, so a hostile count (found by fuzz.component_decode)
// allocates gigabytes; this rejects counts no module of this size can hold.
#pragma once

#include <cstdint>
#include <span>

#include "support/result.h"

namespace stratus::engine {

Result<void> prescan_module(std::span<const uint8_t> bytes);

}  // namespace stratus::engine
