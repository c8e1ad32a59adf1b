#include "engine/engine.h"

#include <bit>
#include <cstdio>
#include <cstring>

namespace stratus::engine {

std::string_view to_string(ValType type) {
  switch (type) {
    case ValType::I32: return "i32";
    case ValType::I64: return "i64";
    case ValType::F32: return "f32";
    case ValType::F64: return "f64";
    case ValType::V128: return "v128";
    case ValType::FuncRef: return "funcref";
    case ValType::ExternRef: return "externref";
  }
  return "?";
}

std::string to_string(const FuncType& type) {
  auto list = [](const std::vector<ValType>& types) {
    std::string out = "(";
    for (size_t i = 0; i < types.size(); ++i) {
      if (i) out += ", ";
      out += to_string(types[i]);
    }
    return out + ")";
  };
  return list(type.params) + " -> " + list(type.results);
}

std::string_view to_string(ExternKind kind) {
  switch (kind) {
    case ExternKind::Func: return "func";
    case ExternKind::Table: return "table";
    case ExternKind::Memory: return "memory";
    case ExternKind::Global: return "global";
    case ExternKind::Tag: return "tag";
  }
  return "?";
}

ExternKind kind_of(const ExternType& type) { return static_cast<ExternKind>(type.index()); }
ExternKind kind_of(const Extern& ext) { return static_cast<ExternKind>(ext.index()); }

std::string_view to_string(TrapKind kind) {
  switch (kind) {
    case TrapKind::Unreachable: return "unreachable";
    case TrapKind::MemoryOutOfBounds: return "memory out of bounds";
    case TrapKind::TableOutOfBounds: return "table out of bounds";
    case TrapKind::IndirectCallNull: return "indirect call to null";
    case TrapKind::IndirectCallMismatch: return "indirect call type mismatch";
    case TrapKind::IntegerOverflow: return "integer overflow";
    case TrapKind::IntegerDivideByZero: return "integer divide by zero";
    case TrapKind::InvalidConversion: return "invalid conversion to integer";
    case TrapKind::StackExhausted: return "call stack exhausted";
    case TrapKind::Deadline: return "deadline exceeded";
    case TrapKind::HostError: return "host error";
    case TrapKind::Exit: return "exit";
    case TrapKind::Other: return "trap";
  }
  return "?";
}

Value Value::zero(ValType type) {
  switch (type) {
    case ValType::I32: return i32(0);
    case ValType::I64: return i64(0);
    case ValType::F32: return f32_bits(0);
    case ValType::F64: return f64_bits(0);
    case ValType::V128: return v128(V128{});
    case ValType::FuncRef:
    case ValType::ExternRef: return ref(type, Ref::null());
  }
  return Value();
}

Value Value::f32(float v) { return f32_bits(std::bit_cast<uint32_t>(v)); }
Value Value::f64(double v) { return f64_bits(std::bit_cast<uint64_t>(v)); }
float Value::f32() const { return std::bit_cast<float>(f32_bits()); }
double Value::f64() const { return std::bit_cast<double>(f64_bits()); }

std::string Value::to_string() const {
  char buf[80];
  switch (type_) {
    case ValType::I32: std::snprintf(buf, sizeof buf, "i32:%u", i32()); break;
    case ValType::I64: std::snprintf(buf, sizeof buf, "i64:%llu", static_cast<unsigned long long>(i64())); break;
    case ValType::F32: std::snprintf(buf, sizeof buf, "f32:%g(0x%08x)", static_cast<double>(f32()), f32_bits()); break;
    case ValType::F64:
      std::snprintf(buf, sizeof buf, "f64:%g(0x%016llx)", f64(), static_cast<unsigned long long>(f64_bits()));
      break;
    case ValType::V128: {
      std::string out = "v128:0x";
      for (int i = 15; i >= 0; --i) {
        std::snprintf(buf, sizeof buf, "%02x", bits_.v128.bytes[i]);
        out += buf;
      }
      return out;
    }
    case ValType::FuncRef:
    case ValType::ExternRef:
      if (ref_.is_null) return std::string(engine::to_string(type_)) + ":null";
      if (type_ == ValType::ExternRef) {
        std::snprintf(buf, sizeof buf, "externref:%zu", static_cast<size_t>(ref_.host));
        break;
      }
      return "funcref:func";
  }
  return buf;
}

std::string CallResult::describe() const {
  if (ok()) return "ok";
  if (trapped()) {
    std::string out = "trap: " + std::string(to_string(trap().kind));
    if (!trap().message.empty()) out += ": " + trap().message;
    return out;
  }
  return "error: " + error().message;
}

Result<void> Memory::read(uint64_t offset, std::span<uint8_t> out) {
  auto v = view(offset, out.size());
  if (!v) return make_error("memory read out of bounds at " + std::to_string(offset));
  std::memcpy(out.data(), v->data(), out.size());
  return {};
}

Result<void> Memory::write(uint64_t offset, std::span<const uint8_t> in) {
  auto v = view(offset, in.size());
  if (!v) return make_error("memory write out of bounds at " + std::to_string(offset));
  std::memcpy(v->data(), in.data(), in.size());
  return {};
}

std::shared_ptr<Func> Instance::func(std::string_view name) {
  auto e = get_export(name);
  if (!e || kind_of(*e) != ExternKind::Func) return nullptr;
  return std::get<std::shared_ptr<Func>>(*e);
}

std::shared_ptr<Memory> Instance::memory(std::string_view name) {
  auto e = get_export(name);
  if (!e || kind_of(*e) != ExternKind::Memory) return nullptr;
  return std::get<std::shared_ptr<Memory>>(*e);
}

std::variant<std::monostate, Trap, Error> Instance::reinitialize() {
  return make_error("this engine cannot reinitialize an instance in place");
}

CallResult Instance::call(std::string_view name, std::span<const Value> args) {
  auto f = func(name);
  if (!f) return make_error("no exported function named '" + std::string(name) + "'");
  return f->call(args);
}

std::vector<Result<std::shared_ptr<Module>>> Engine::compile_many(std::span<const std::span<const uint8_t>> modules,
                                                                  const CompileOptions& options) {
  std::vector<Result<std::shared_ptr<Module>>> out;
  out.reserve(modules.size());
  for (auto bytes : modules) out.push_back(compile(bytes, options));
  return out;
}

}  // namespace stratus::engine
