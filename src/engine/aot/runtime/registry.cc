#include "engine/aot/runtime/registry.h"

#include <cstdarg>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace stratus::engine::aot {
namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<std::string> sigs{""};  // id 0 is "no type" (null funcref)
  std::unordered_map<uint32_t, SigCode> code;
};

Registry& registry() {
  static Registry* r = new Registry;  // NOLINT: leaked on purpose, used until process exit
  return *r;
}

char code_of(ValType t) {
  switch (t) {
    case ValType::I32: return 'i';
    case ValType::I64: return 'j';
    case ValType::F32: return 'f';
    case ValType::F64: return 'd';
    case ValType::V128: return 'o';
    case ValType::FuncRef: return 'r';
    case ValType::ExternRef: return 'e';
  }
  return '?';
}

char code_of_rt(int t) {
  switch (t) {
    case WASM_RT_I32: return 'i';
    case WASM_RT_I64: return 'j';
    case WASM_RT_F32: return 'f';
    case WASM_RT_F64: return 'd';
    case WASM_RT_FUNCREF: return 'r';
    case WASM_RT_EXTERNREF: return 'e';
  }
  return '?';
}

std::optional<ValType> type_of_code(char c) {
  switch (c) {
    case 'i': return ValType::I32;
    case 'j': return ValType::I64;
    case 'f': return ValType::F32;
    case 'd': return ValType::F64;
    case 'o': return ValType::V128;
    case 'r': return ValType::FuncRef;
    case 'e': return ValType::ExternRef;
  }
  return std::nullopt;
}

}  // namespace

std::string signature_of(const FuncType& type) {
  std::string s;
  for (auto t : type.params) s += code_of(t);
  s += ':';
  for (auto t : type.results) s += code_of(t);
  return s;
}

std::optional<FuncType> type_of_signature(std::string_view signature) {
  FuncType out;
  bool results = false;
  for (char c : signature) {
    if (c == ':') {
      results = true;
      continue;
    }
    auto t = type_of_code(c);
    if (!t) return std::nullopt;
    (results ? out.results : out.params).push_back(*t);
  }
  return out;
}

uint32_t type_id(std::string_view signature) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto [it, inserted] = r.ids.try_emplace(std::string(signature), static_cast<uint32_t>(r.sigs.size()));
  if (inserted) r.sigs.emplace_back(signature);
  return it->second;
}

std::string signature_of_id(uint32_t id) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  return id < r.sigs.size() ? r.sigs[id] : std::string();
}

void register_sig_code(uint32_t id, SigCode code) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.code.try_emplace(id, code);
}

std::optional<SigCode> sig_code(uint32_t id) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.code.find(id);
  if (it == r.code.end()) return std::nullopt;
  return it->second;
}

}  // namespace stratus::engine::aot

extern "C" uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  std::string sig;
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < params + results; ++i) {
    if (i == params) sig += ':';
    sig += stratus::engine::aot::code_of_rt(va_arg(ap, int));
  }
  va_end(ap);
  if (results == 0) sig += ':';
  return stratus::engine::aot::type_id(sig);
}
