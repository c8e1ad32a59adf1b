// Helpers shared by the canonical ABI's files. Private to canon/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "component/canon/abi.h"

namespace stratus::component::canon {

uint32_t align_to(uint32_t ptr, uint32_t alignment);
uint64_t align_to64(uint64_t ptr, uint32_t alignment);
uint32_t max_case_alignment(const std::vector<CaseView>& cases);

// The case index and payload of a variant-like value, checked against the
// number of cases.
Result<std::pair<uint32_t, const Val*>> match_case(const Val& v, const DefinedType& d);
// Error "expected a u32 value, got string" unless `v` is of kind `k`.
Result<void> expect_kind(const Val& v, ValKind k);
// Stores a list's elements into memory from realloc (store_list_into_range
// in definitions.py); returns where.
Result<uint32_t> store_list_into_range(Context& cx, const std::vector<Val>& items, const ValType& elem);
// Builds the value of a variant-like type from a case index and payload.
Val make_case(const DefinedType& d, uint32_t case_index, std::optional<Val> payload);

constexpr uint32_t kUtf16Tag = 1u << 31;
constexpr uint64_t kMaxStringByteLength = (1u << 28) - 1;
constexpr uint64_t kMaxListByteLength = (1u << 28) - 1;

// Strings in memory (strings.cc).
bool valid_utf8(const uint8_t* s, size_t n);
Result<std::string> load_string_from_range(Context& cx, uint32_t ptr, uint32_t tagged_code_units);
Result<std::pair<uint32_t, uint32_t>> store_string_into_range(Context& cx, const std::string& utf8);

// Memory access with the spec's bounds checks turned into errors.
Result<uint64_t> load_int(Context& cx, uint64_t ptr, uint32_t bytes);
Result<void> store_int(Context& cx, uint64_t value, uint64_t ptr, uint32_t bytes);
Result<void> check_range(Context& cx, uint64_t ptr, uint64_t length, const char* what);
Result<uint32_t> allocate(Context& cx, uint32_t old_ptr, uint32_t old_size, uint32_t align, uint32_t new_size);

uint32_t canonicalize_nan32(uint32_t bits);
uint64_t canonicalize_nan64(uint64_t bits);
Result<char32_t> convert_i32_to_char(uint32_t i);

}  // namespace stratus::component::canon
