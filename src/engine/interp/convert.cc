#include "engine/interp/convert.h"

#include "engine/wabt_types.h"

#include <cstring>

#include "engine/interp/externals.h"

namespace stratus::engine::interp {

wabt::Type to_wabt(ValType type) {
  switch (type) {
    case ValType::I32: return wabt::Type::I32;
    case ValType::I64: return wabt::Type::I64;
    case ValType::F32: return wabt::Type::F32;
    case ValType::F64: return wabt::Type::F64;
    case ValType::V128: return wabt::Type::V128;
    case ValType::FuncRef: return wabt::Type::FuncRef;
    case ValType::ExternRef: return wabt::Type::ExternRef;
  }
  return wabt::Type::Void;
}

std::optional<ValType> from_wabt(wabt::Type type) { return val_type_from_wabt(type); }

wabt::Limits to_wabt(const Limits& limits) {
  wabt::Limits out(limits.min);
  if (limits.max) {
    out.max = *limits.max;
    out.has_max = true;
  }
  return out;
}

Limits from_wabt(const wabt::Limits& limits) {
  Limits out{limits.initial, std::nullopt};
  if (limits.has_max) out.max = limits.max;
  return out;
}

wi::FuncType to_wabt(const FuncType& type) {
  wi::ValueTypes params, results;
  for (auto t : type.params) params.push_back(to_wabt(t));
  for (auto t : type.results) results.push_back(to_wabt(t));
  return wi::FuncType(std::move(params), std::move(results));
}

static Result<std::vector<ValType>> from_wabt(const wi::ValueTypes& types) {
  std::vector<ValType> out;
  for (auto t : types) {
    auto v = from_wabt(t);
    if (!v) return make_error("unsupported value type " + t.GetName());
    out.push_back(*v);
  }
  return out;
}

Result<FuncType> from_wabt(const wi::FuncType& type) {
  auto params = from_wabt(type.params);
  if (!params) return std::move(params).error();
  auto results = from_wabt(type.results);
  if (!results) return std::move(results).error();
  return FuncType{std::move(*params), std::move(*results)};
}

Result<ExternType> from_wabt(const wi::ExternType& type) {
  switch (type.kind) {
    case wabt::ExternalKind::Func: {
      auto f = from_wabt(static_cast<const wi::FuncType&>(type));
      if (!f) return std::move(f).error();
      return ExternType{std::move(*f)};
    }
    case wabt::ExternalKind::Table: {
      auto& t = static_cast<const wi::TableType&>(type);
      auto element = from_wabt(t.element);
      if (!element) return make_error("unsupported table element type " + t.element.GetName());
      return ExternType{TableType{*element, from_wabt(t.limits)}};
    }
    case wabt::ExternalKind::Memory:
      return ExternType{MemoryType{from_wabt(static_cast<const wi::MemoryType&>(type).limits)}};
    case wabt::ExternalKind::Global: {
      auto& g = static_cast<const wi::GlobalType&>(type);
      auto value = from_wabt(g.type);
      if (!value) return make_error("unsupported global type " + g.type.GetName());
      return ExternType{GlobalType{*value, g.mut == wi::Mutability::Var}};
    }
    case wabt::ExternalKind::Tag: {
      auto params = from_wabt(static_cast<const wi::TagType&>(type).signature);
      if (!params) return std::move(params).error();
      return ExternType{TagType{std::move(*params)}};
    }
  }
  return make_error("unsupported extern kind");
}

Result<wi::Ref> ref_to_wabt(StoreState& store, const Ref& ref, ValType expected) {
  if (ref.is_null) return wi::Ref::Null;
  if (expected == ValType::ExternRef) {
    // A Foreign object per conversion: wabt compares externrefs by object, but
    // only the host word matters to the host, and ref_from_wabt returns it.
    return wi::Foreign::New(store.store, reinterpret_cast<void*>(ref.host)).ref();
  }
  auto* func = dynamic_cast<InterpFunc*>(ref.func.get());
  if (!func) return make_error("funcref does not hold a function of this interp engine");
  if (func->store().get() != &store) return make_error("funcref belongs to another interp engine");
  return func->ref();
}

Result<wi::Value> to_wabt(StoreState& store, const Value& value, ValType expected) {
  if (value.type() != expected) {
    return make_error("expected a value of type " + std::string(to_string(expected)) + ", got " + value.to_string());
  }
  switch (expected) {
    case ValType::I32: return wi::Value::Make(value.i32());
    case ValType::I64: return wi::Value::Make(value.i64());
    case ValType::F32: {
      wi::Value v;
      v.Set(value.f32_bits());  // raw bits: NaN payloads survive
      return v;
    }
    case ValType::F64: {
      wi::Value v;
      v.Set(value.f64_bits());
      return v;
    }
    case ValType::V128: {
      ::v128 bits;
      static_assert(sizeof bits == sizeof value.v128().bytes);
      std::memcpy(&bits, value.v128().bytes, sizeof bits);
      return wi::Value::Make(bits);
    }
    case ValType::FuncRef:
    case ValType::ExternRef: {
      auto ref = ref_to_wabt(store, value.ref(), expected);
      if (!ref) return std::move(ref).error();
      return wi::Value::Make(*ref);
    }
  }
  return make_error("unknown value type");
}

Ref ref_from_wabt(StoreState& store, ValType type, wi::Ref ref) {
  if (ref == wi::Ref::Null || !store.store.IsValid(ref)) return Ref::null();
  if (type == ValType::ExternRef) {
    if (store.store.Is<wi::Foreign>(ref)) {
      return Ref::extern_ref(reinterpret_cast<uintptr_t>(store.store.UnsafeGet<wi::Foreign>(ref)->ptr()));
    }
    // Only host code makes externrefs, and it always makes Foreign objects;
    // anything else still round-trips as an opaque word.
    return Ref::extern_ref(ref.index);
  }
  return Ref::func_ref(wrap_func(store, ref));
}

Value from_wabt(StoreState& store, ValType type, const wi::Value& value) {
  switch (type) {
    case ValType::I32: return Value::i32(value.Get<uint32_t>());
    case ValType::I64: return Value::i64(value.Get<uint64_t>());
    case ValType::F32: return Value::f32_bits(value.Get<uint32_t>());
    case ValType::F64: return Value::f64_bits(value.Get<uint64_t>());
    case ValType::V128: {
      V128 out;
      auto bits = value.Get<::v128>();
      std::memcpy(out.bytes, &bits, sizeof out.bytes);
      return Value::v128(out);
    }
    case ValType::FuncRef:
    case ValType::ExternRef: return Value::ref(type, ref_from_wabt(store, type, value.Get<wi::Ref>()));
  }
  return Value();
}

Result<wi::Values> args_to_wabt(StoreState& store, std::span<const Value> args, const std::vector<ValType>& types) {
  if (args.size() != types.size()) {
    return make_error("expected " + std::to_string(types.size()) + " arguments, got " + std::to_string(args.size()));
  }
  wi::Values out;
  out.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    auto v = to_wabt(store, args[i], types[i]);
    if (!v) return std::move(v).error().context("argument " + std::to_string(i));
    out.push_back(*v);
  }
  return out;
}

}  // namespace stratus::engine::interp
