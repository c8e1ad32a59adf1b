// A dynamically typed component value (like Wasmtime's `component::Val`):
// what generic callers (the spec-test runner, `stratus` CLI invocations, the
// fuzzers) pass to and get from component functions. Typed host bindings do
// not go through it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "component/types.h"

namespace stratus::component {

enum class ValKind : uint8_t {
  Bool,
  S8,
  U8,
  S16,
  U16,
  S32,
  U32,
  S64,
  U64,
  F32,
  F64,
  Char,
  String,
  List,
  Record,
  Tuple,
  Variant,
  Enum,
  Option,
  Result,
  Flags,
  Own,
  Borrow,
  Stream,
  Future,
  ErrorContext,
};

const char* val_kind_name(ValKind k);
// The kind of the values of a primitive type.
ValKind val_kind_of(PrimType p);

// A resource crossing a component boundary, as definitions.py carries it
// between lift and lower: the (runtime) resource type and its representation.
// Lifting an `own` takes the handle out of the guest's table; lowering one
// puts a new handle in the receiver's table.
struct ResourceRef {
  ResourceTypePtr resource;
  uint32_t rep = 0;
  bool operator==(const ResourceRef& o) const { return resource == o.resource && rep == o.rep; }
};

// What a stream, future or error-context value carries across a boundary:
// the runtime's shared object (runtime/async.h defines them). Lifting moves
// the readable end (or the error context) out of the guest's table;
// lowering puts a new one in the receiver's.
class AsyncObject {
 public:
  virtual ~AsyncObject() = default;
};
using AsyncObjectPtr = std::shared_ptr<AsyncObject>;

class Val {
 public:
  Val() = default;  // bool false

  static Val boolean(bool b) { return scalar(ValKind::Bool, b ? 1 : 0); }
  static Val s8(int8_t v) { return scalar(ValKind::S8, static_cast<uint64_t>(static_cast<int64_t>(v))); }
  static Val u8(uint8_t v) { return scalar(ValKind::U8, v); }
  static Val s16(int16_t v) { return scalar(ValKind::S16, static_cast<uint64_t>(static_cast<int64_t>(v))); }
  static Val u16(uint16_t v) { return scalar(ValKind::U16, v); }
  static Val s32(int32_t v) { return scalar(ValKind::S32, static_cast<uint64_t>(static_cast<int64_t>(v))); }
  static Val u32(uint32_t v) { return scalar(ValKind::U32, v); }
  static Val s64(int64_t v) { return scalar(ValKind::S64, static_cast<uint64_t>(v)); }
  static Val u64(uint64_t v) { return scalar(ValKind::U64, v); }
  // Floats travel as raw bits (lifting canonicalises NaNs; the bits are kept
  // otherwise).
  static Val f32_bits(uint32_t bits) { return scalar(ValKind::F32, bits); }
  static Val f64_bits(uint64_t bits) { return scalar(ValKind::F64, bits); }
  static Val f32(float v);
  static Val f64(double v);
  static Val character(char32_t c) { return scalar(ValKind::Char, c); }
  static Val string(std::string utf8) {
    Val v(ValKind::String);
    v.str_ = std::move(utf8);
    return v;
  }
  static Val list(std::vector<Val> items) { return aggregate(ValKind::List, std::move(items)); }
  static Val record(std::vector<Val> fields) { return aggregate(ValKind::Record, std::move(fields)); }
  static Val tuple(std::vector<Val> elements) { return aggregate(ValKind::Tuple, std::move(elements)); }
  static Val variant(uint32_t case_index, std::optional<Val> payload) {
    return tagged(ValKind::Variant, case_index, std::move(payload));
  }
  static Val enumeration(uint32_t case_index) { return scalar(ValKind::Enum, case_index); }
  static Val option(std::optional<Val> value) {
    bool some = value.has_value();
    return tagged(ValKind::Option, some ? 1 : 0, std::move(value));
  }
  static Val ok(std::optional<Val> payload) { return tagged(ValKind::Result, 0, std::move(payload)); }
  static Val err(std::optional<Val> payload) { return tagged(ValKind::Result, 1, std::move(payload)); }
  // Flags: the set flags' indices, in any order.
  static Val flags(std::vector<uint32_t> set_indices);
  static Val own(ResourceRef h) { return handle(ValKind::Own, std::move(h)); }
  static Val borrow(ResourceRef h) { return handle(ValKind::Borrow, std::move(h)); }
  static Val stream(AsyncObjectPtr o) { return object(ValKind::Stream, std::move(o)); }
  static Val future(AsyncObjectPtr o) { return object(ValKind::Future, std::move(o)); }
  static Val error_context(AsyncObjectPtr o) { return object(ValKind::ErrorContext, std::move(o)); }

  ValKind kind() const { return kind_; }

  bool as_bool() const { return bits_ != 0; }
  int64_t as_signed() const { return static_cast<int64_t>(bits_); }  // S8..S64, sign-extended
  uint64_t as_unsigned() const { return bits_; }                     // U8..U64
  uint32_t f32_bits() const { return static_cast<uint32_t>(bits_); }
  uint64_t f64_bits() const { return bits_; }
  char32_t as_char() const { return static_cast<char32_t>(bits_); }
  const std::string& as_string() const { return str_; }
  // List elements, record fields (in declaration order), tuple elements.
  const std::vector<Val>& items() const { return items_; }
  // Variant and enum case, option (0 none, 1 some), result (0 ok, 1 err).
  uint32_t discriminant() const { return static_cast<uint32_t>(bits_); }
  // The payload of a variant case, some, ok or err; null when there is none.
  const Val* payload() const { return items_.empty() ? nullptr : &items_[0]; }
  // Flags: indices of the set flags, ascending.
  const std::vector<uint32_t>& set_flags() const { return flag_indices_; }
  const ResourceRef& as_handle() const { return handle_; }
  // Streams, futures and error contexts: the runtime's shared object.
  const AsyncObjectPtr& as_object() const { return object_; }

  bool operator==(const Val& o) const;

 private:
  explicit Val(ValKind k) : kind_(k) {}
  static Val scalar(ValKind k, uint64_t bits) {
    Val v(k);
    v.bits_ = bits;
    return v;
  }
  static Val aggregate(ValKind k, std::vector<Val> items) {
    Val v(k);
    v.items_ = std::move(items);
    return v;
  }
  static Val tagged(ValKind k, uint32_t disc, std::optional<Val> payload) {
    Val v(k);
    v.bits_ = disc;
    if (payload) v.items_.push_back(std::move(*payload));
    return v;
  }
  static Val object(ValKind k, AsyncObjectPtr o) {
    Val v(k);
    v.object_ = std::move(o);
    return v;
  }
  static Val handle(ValKind k, ResourceRef h) {
    Val v(k);
    v.handle_ = std::move(h);
    return v;
  }

  ValKind kind_ = ValKind::Bool;
  uint64_t bits_ = 0;
  std::string str_;
  std::vector<Val> items_;
  std::vector<uint32_t> flag_indices_;
  ResourceRef handle_;
  AsyncObjectPtr object_;
};

// A readable rendering for messages and test output: `42u32`, `"hi"`,
// `[1, 2]`, `{a: 1, b: 2}`, `some(3)`, `ok("x")`, `flags{0, 3}`.
std::string to_string(const Val& v);

// Whether `v` has the shape of `type` (kinds, arities, case indices, flag
// indices, char validity); the error names the path to the first mismatch.
Result<void> check_type(const Val& v, const ValType& type);

}  // namespace stratus::component
