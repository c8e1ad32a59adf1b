// Fuzzes the WAVE value parser (component/val_text.h) with arbitrary text
// against a type that has every kind WAVE writes: it must return a value or
// an error saying where, never crash or recurse without bound; a value it
// reads is written back to text that reads to the same text again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "component/val_text.h"

namespace {

using namespace stratus::component;

ValType fuzz_type() {
  ValType leaf = make_type(
      VariantType{{{"none-case", std::nullopt},
                   {"num", ValType(PrimType::S32)},
                   {"bytes", make_type(ListType{make_type(ListType{PrimType::U8, std::nullopt}), std::nullopt})}}});
  return make_type(RecordType{{{"a", PrimType::U8},
                               {"b", PrimType::S64},
                               {"c", PrimType::F32},
                               {"d", PrimType::F64},
                               {"e", PrimType::Char},
                               {"f", PrimType::String},
                               {"g", make_type(ListType{make_type(OptionType{PrimType::U32}), std::nullopt})},
                               {"h", make_type(TupleType{{PrimType::Bool, PrimType::S16}})},
                               {"i", make_type(FlagsType{{"x", "y"}})},
                               {"j", make_type(EnumType{{"red", "green"}})},
                               {"k", make_type(ResultType{ValType(PrimType::String), ValType(PrimType::U16)})},
                               {"l", make_type(ListType{leaf, std::nullopt})}}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ValType type = fuzz_type();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = parse_wave(text, type);
  if (!v) {
    if (v.error().message.rfind("at byte ", 0) != 0) __builtin_trap();  // every error says where
    return 0;
  }
  auto written = to_wave(*v, type);
  if (!written) __builtin_trap();
  auto again = parse_wave(*written, type);
  if (!again) __builtin_trap();
  auto rewritten = to_wave(*again, type);
  if (!rewritten || *rewritten != *written) __builtin_trap();
  return 0;
}
