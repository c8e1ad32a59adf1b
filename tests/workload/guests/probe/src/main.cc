// Answers what its grants let it see; made by the instances service.
#include <optional>
#include <string>
#include <tuple>

#include "bindings.h"

namespace {
uint32_t calls = 0;
}  // namespace

namespace exports::test::probe::probe {

std::optional<std::string> config(std::string_view key) {
  ++calls;
  auto value = ::wasi::config::store::get(std::string(key));
  if (!value) return std::nullopt;
  return *value;
}

std::tuple<int32_t, uint32_t> add(int32_t a, int32_t b) { return {a + b, ++calls}; }

void boom() { __builtin_trap(); }

void spin() {
  for (volatile uint32_t i = 0;; i = i + 1) {
  }
}

bool grow(uint32_t pages) { return __builtin_wasm_memory_grow(0, pages) != static_cast<size_t>(-1); }

stratus_guest::Task<int32_t> add_async(int32_t a, int32_t b) {
  ++calls;
  co_return a + b;
}

}  // namespace exports::test::probe::probe
