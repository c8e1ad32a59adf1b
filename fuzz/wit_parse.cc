// Fuzzes the WIT parser with arbitrary text: it must return a syntax tree or
// an error naming file:line:column, never crash, hang or recurse without
// bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wit/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = stratus::wit::parse_file(text, "fuzz.wit");
  if (!file.ok() && file.error().message.rfind("fuzz.wit:", 0) != 0) __builtin_trap();  // every error says where
  return 0;
}
