// Conversions between the engine-neutral types and values of engine.h and
// wabt's interpreter types. Value conversions run with the store locked.
#pragma once

#include <optional>

#include <wabt/interp/interp.h>

#include "engine/engine.h"
#include "engine/interp/store.h"

namespace stratus::engine::interp {

wabt::Type to_wabt(ValType type);
std::optional<ValType> from_wabt(wabt::Type type);
wabt::Limits to_wabt(const Limits& limits);
Limits from_wabt(const wabt::Limits& limits);
wi::FuncType to_wabt(const FuncType& type);
Result<FuncType> from_wabt(const wi::FuncType& type);
Result<ExternType> from_wabt(const wi::ExternType& type);

// A value of type `expected` for wabt. Errors if the value has another type or
// is a funcref of another engine. Externrefs become wabt Foreign objects
// holding the host word; the caller roots them (push them on a thread) before
// anything can collect.
Result<wi::Value> to_wabt(StoreState& store, const Value& value, ValType expected);
Result<wi::Ref> ref_to_wabt(StoreState& store, const Ref& ref, ValType expected);

Value from_wabt(StoreState& store, ValType type, const wi::Value& value);
Ref ref_from_wabt(StoreState& store, ValType type, wi::Ref ref);

// Checks `args` against `types` and converts them.
Result<wi::Values> args_to_wabt(StoreState& store, std::span<const Value> args, const std::vector<ValType>& types);

}  // namespace stratus::engine::interp
