// Running wasm: calls in time slices (for deadlines and interrupt()), trap
// mapping, and host functions with their Caller.
#pragma once

#include <wabt/interp/interp.h>

#include "engine/engine.h"
#include "engine/interp/store.h"

namespace stratus::engine::interp {

// Calls `func` (of engine type `type`) with the store locked by the caller.
// `core`, if given, supplies the limits and the interrupt flag.
CallResult call_func(StoreState& store, const wi::Func::Ptr& func, const FuncType& type, std::span<const Value> args,
                     InstanceCore* core);

// The engine Trap for a wabt trap; host-made traps keep their kind.
Trap to_trap(StoreState& store, const wi::Trap::Ptr& trap);

wi::HostFunc::Ptr make_host_func(StoreState& store, const FuncType& type, HostCallback callback);

}  // namespace stratus::engine::interp
