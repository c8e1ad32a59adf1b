#include "spec_value.h"

#include <cstring>

namespace stratus::conformance {
namespace {

using engine::ValType;
using engine::Value;
using nlohmann::json;

Result<uint64_t> parse_bits(const json& text) {
  if (!text.is_string()) return make_error("expected a string value, got " + text.dump());
  const std::string& s = text.get_ref<const std::string&>();
  try {
    size_t used = 0;
    uint64_t v = std::stoull(s, &used, 10);
    if (used != s.size()) return make_error("bad number '" + s + "'");
    return v;
  } catch (const std::exception&) {
    return make_error("bad number '" + s + "'");
  }
}

int lane_bytes(const std::string& lane_type) {
  if (lane_type == "i8") return 1;
  if (lane_type == "i16") return 2;
  if (lane_type == "i32" || lane_type == "f32") return 4;
  if (lane_type == "i64" || lane_type == "f64") return 8;
  return 0;
}

bool is_nan_pattern(const json& v) { return v.is_string() && v.get_ref<const std::string&>().rfind("nan:", 0) == 0; }

// Checks a float's bits against "nan:canonical" / "nan:arithmetic".
bool nan_matches(const std::string& pattern, uint64_t bits, int width) {
  uint64_t sign_cleared = width == 4 ? (bits & 0x7fffffffu) : (bits & 0x7fffffffffffffffull);
  uint64_t canonical = width == 4 ? 0x7fc00000u : 0x7ff8000000000000ull;
  if (pattern == "nan:canonical") return sign_cleared == canonical;
  if (pattern == "nan:arithmetic") return (sign_cleared & canonical) == canonical;
  return false;
}

std::string hex(uint64_t bits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(bits));
  return buf;
}

uint64_t lane_of(const engine::V128& v, int index, int width) {
  uint64_t out = 0;
  std::memcpy(&out, v.bytes + index * width, width);
  return out;
}

}  // namespace

Result<ValType> parse_type(const std::string& name) {
  if (name == "i32") return ValType::I32;
  if (name == "i64") return ValType::I64;
  if (name == "f32") return ValType::F32;
  if (name == "f64") return ValType::F64;
  if (name == "v128") return ValType::V128;
  if (name == "funcref") return ValType::FuncRef;
  if (name == "externref") return ValType::ExternRef;
  return make_error("unknown value type '" + name + "'");
}

Result<Value> parse_value(const json& value) {
  auto type = parse_type(value.value("type", ""));
  if (!type) return std::move(type).error();
  const json& v = value.contains("value") ? value["value"] : json();
  switch (*type) {
    case ValType::I32:
    case ValType::I64:
    case ValType::F32:
    case ValType::F64: {
      auto bits = parse_bits(v);
      if (!bits) return std::move(bits).error();
      if (*type == ValType::I32) return Value::i32(static_cast<uint32_t>(*bits));
      if (*type == ValType::I64) return Value::i64(*bits);
      if (*type == ValType::F32) return Value::f32_bits(static_cast<uint32_t>(*bits));
      return Value::f64_bits(*bits);
    }
    case ValType::V128: {
      int width = lane_bytes(value.value("lane_type", ""));
      if (!width || !v.is_array() || v.size() * width != 16) return make_error("bad v128 value " + value.dump());
      engine::V128 out;
      for (size_t i = 0; i < v.size(); ++i) {
        auto bits = parse_bits(v[i]);
        if (!bits) return std::move(bits).error();
        std::memcpy(out.bytes + i * width, &*bits, width);  // little-endian host
      }
      return Value::v128(out);
    }
    case ValType::FuncRef:
    case ValType::ExternRef: {
      if (v.is_string() && v.get_ref<const std::string&>() == "null") return Value::ref(*type, engine::Ref::null());
      if (*type == ValType::FuncRef) return make_error("funcref arguments other than null are not expressible");
      auto bits = parse_bits(v);
      if (!bits) return std::move(bits).error();
      return Value::ref(*type, engine::Ref::extern_ref(static_cast<uintptr_t>(*bits)));
    }
  }
  return make_error("unknown value");
}

std::optional<std::string> check_value(const json& expected, const Value& actual) {
  auto type = parse_type(expected.value("type", ""));
  if (!type) return type.error().message;
  if (actual.type() != *type) {
    return "expected type " + std::string(engine::to_string(*type)) + ", got " + actual.to_string();
  }
  const json& v = expected.contains("value") ? expected["value"] : json();
  switch (*type) {
    case ValType::F32:
    case ValType::F64: {
      uint64_t bits = *type == ValType::F32 ? actual.f32_bits() : actual.f64_bits();
      if (is_nan_pattern(v)) {
        if (nan_matches(v.get_ref<const std::string&>(), bits, *type == ValType::F32 ? 4 : 8)) return std::nullopt;
        return "expected " + v.get<std::string>() + ", got " + actual.to_string();
      }
      break;
    }
    case ValType::V128: {
      std::string lane_type = expected.value("lane_type", "");
      int width = lane_bytes(lane_type);
      if (!width || !v.is_array() || v.size() * width != 16) return "bad expected v128 " + expected.dump();
      for (size_t i = 0; i < v.size(); ++i) {
        uint64_t got = lane_of(actual.v128(), static_cast<int>(i), width);
        bool ok;
        if (is_nan_pattern(v[i])) {
          ok = lane_type[0] == 'f' && nan_matches(v[i].get_ref<const std::string&>(), got, width);
        } else {
          auto want = parse_bits(v[i]);
          if (!want) return want.error().message;
          ok = lane_of(actual.v128(), static_cast<int>(i), width) ==
               (width == 8 ? *want : (*want & ((uint64_t{1} << (width * 8)) - 1)));
        }
        if (!ok) {
          return "lane " + std::to_string(i) + " (" + lane_type + "): expected " + v[i].dump() + ", got " + hex(got) +
                 " in " + actual.to_string();
        }
      }
      return std::nullopt;
    }
    case ValType::FuncRef:
    case ValType::ExternRef: {
      bool want_null = v.is_string() && v.get_ref<const std::string&>() == "null";
      if (want_null != actual.ref().is_null) return "expected " + expected.dump() + ", got " + actual.to_string();
      if (want_null || *type == ValType::FuncRef || v.is_null()) return std::nullopt;
      auto want = parse_bits(v);
      if (!want) return want.error().message;
      if (actual.ref().host != *want) return "expected " + expected.dump() + ", got " + actual.to_string();
      return std::nullopt;
    }
    default: break;
  }
  auto want = parse_value(expected);
  if (!want) return want.error().message;
  bool same =
      *type == ValType::I32 || *type == ValType::F32 ? want->i32() == actual.i32() : want->i64() == actual.i64();
  if (same) return std::nullopt;
  return "expected " + want->to_string() + ", got " + actual.to_string();
}

}  // namespace stratus::conformance
