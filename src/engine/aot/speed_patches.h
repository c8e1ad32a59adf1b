// Edits of wasm2c 1.0.32's C output that make it faster without changing what
// it computes. Each edit looks for the exact text wasm2c writes and leaves the
// code as it was where that text is missing, so another wasm2c gives slower
// code, never wrong code.
#pragma once

#include <string>

namespace stratus::engine::aot {

// Loads and stores take the memory's base address from a local read once per
// function instead of from the memory struct at every access (see the .cc).
void cache_memory_bases(std::string& c);

// f32/f64 sqrt call the compiler builtin (one instruction) instead of
// wasm2c's NaN-testing wrappers; the hardware already quiets a NaN operand.
void inline_sqrt(std::string& c);

}  // namespace stratus::engine::aot
