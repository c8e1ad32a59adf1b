// Value types as wabt spells them, for the two backends built on wabt
// (aot decodes with wabt's IR, interp runs wabt's interpreter).
#pragma once

#include <wabt/type.h>

#include <optional>

#include "engine/engine.h"

namespace stratus::engine {

// nullopt for types outside the WebAssembly 2.0 set (typed references, ...).
inline std::optional<ValType> val_type_from_wabt(wabt::Type type) {
  switch (static_cast<wabt::Type::Enum>(type)) {
    case wabt::Type::I32: return ValType::I32;
    case wabt::Type::I64: return ValType::I64;
    case wabt::Type::F32: return ValType::F32;
    case wabt::Type::F64: return ValType::F64;
    case wabt::Type::V128: return ValType::V128;
    case wabt::Type::FuncRef: return ValType::FuncRef;
    case wabt::Type::ExternRef: return ValType::ExternRef;
    default: return std::nullopt;
  }
}

}  // namespace stratus::engine
