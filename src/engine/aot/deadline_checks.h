// Deadline checks in a module's IR, before wasm2c writes it as C (Wasmtime's
// epoch interruption is the model): a check reads an exported i32 global and
// calls an imported hook when it is set; codegen.cc then rewrites each check
// in the C text into a read of the thread's interrupt flag and a trap.
#pragma once

#include <cstddef>
#include <string>

#include "wabt/ir.h"

namespace stratus::engine::aot {

// Adds the hook import `<import_module>.hook` (as the last imported function,
// renumbering the defined ones), the flag global exported as "ix", and a check
// at every loop header and at the entry of every function that calls, except
// where an inner loop's check always runs first. Returns the number of checks.
size_t add_deadline_checks(wabt::Module& m, const std::string& import_module);

}  // namespace stratus::engine::aot
