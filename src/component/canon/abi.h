// The Canonical ABI (CanonicalABI.md, definitions.py): layout, flattening,
// and lifting and lowering values between core Wasm (flat values and linear
// memory) and component values (`Val`). Every failure here is a trap the
// spec names; the error message says which ("string pointer out of bounds",
// "invalid variant discriminant 7", ...).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "component/ast.h"
#include "component/types.h"
#include "component/val.h"
#include "engine/engine.h"
#include "support/result.h"

namespace stratus::component::canon {

constexpr size_t kMaxFlatParams = 16;
constexpr size_t kMaxFlatResults = 1;
constexpr size_t kMaxFlatAsyncParams = 4;

// Layout in linear memory.
uint32_t alignment(const ValType& t);
uint32_t elem_size(const ValType& t);
// The parts of the layout rules the validator also needs (its size limit is
// computed with 64-bit pointers).
uint32_t discriminant_size(size_t num_cases);
uint32_t flags_size(size_t num_flags);
// A variant-like type (variant, enum, option, result) as its cases: the
// payload type of each, null when the case has none.
struct CaseView {
  const ValType* type;
};
std::vector<CaseView> variant_cases(const DefinedType& d);

// The core value types a component value flattens to.
std::vector<engine::ValType> flatten(const ValType& t);
// Appends flatten(t) to `out`.
void flatten_into(const ValType& t, std::vector<engine::ValType>& out);
// How many core values `t` flattens to (what flatten_into would append),
// from the cached flattening: nothing is allocated.
size_t flat_size(const ValType& t);

// The core signature of a lifted or lowered function (flatten_functype for
// sync functions). When `params_indirect`, the parameters travel as one i32
// pointer to a tuple in memory; when `results_indirect`, the result travels
// through memory: a lifted function returns an i32 pointer to it, a lowered
// function takes an extra i32 out-pointer parameter.
enum class Direction { Lift, Lower };
struct FlatSignature {
  std::vector<engine::ValType> params;
  std::vector<engine::ValType> results;
  bool params_indirect = false;
  bool results_indirect = false;
};
FlatSignature flatten_func(const FuncType& type, Direction direction);

// What lifting and lowering handles needs from the runtime: the handle
// tables of the instance on this side of the call. `type` is the resource
// type as written in the function's (static) type.
class ResourceHooks {
 public:
  virtual ~ResourceHooks() = default;
  virtual Result<ResourceRef> lift_own(const ResourceTypePtr& type, uint32_t handle) = 0;
  virtual Result<ResourceRef> lift_borrow(const ResourceTypePtr& type, uint32_t handle) = 0;
  virtual Result<uint32_t> lower_own(const ResourceTypePtr& type, const ResourceRef& resource) = 0;
  virtual Result<uint32_t> lower_borrow(const ResourceTypePtr& type, const ResourceRef& resource) = 0;
  // Streams, futures and error contexts (`type` is the stream or future
  // type, or error-context): lifting takes the readable end or the error
  // context out of the table, lowering adds one.
  virtual Result<Val> lift_async(const ValType& type, uint32_t handle) {
    return make_error("stream, future and error-context values need the async runtime");
  }
  virtual Result<uint32_t> lower_async(const ValType& type, const Val& value) {
    return make_error("stream, future and error-context values need the async runtime");
  }
};

// The canonical options of one side of a call, made concrete.
struct Context {
  engine::Memory* memory = nullptr;  // required when a value touches memory
  // realloc(old_ptr, old_size, align, new_size) -> new pointer; an error is a
  // trap (including a trap inside the guest's realloc).
  std::function<Result<uint32_t>(uint32_t, uint32_t, uint32_t, uint32_t)> realloc;
  StringEncoding encoding = StringEncoding::Utf8;
  ResourceHooks* resources = nullptr;  // required when a value holds a handle
};

// Loads and stores one value at `ptr` (alignment and bounds are checked).
Result<Val> load(Context& cx, uint32_t ptr, const ValType& t);
Result<void> store(Context& cx, const Val& v, const ValType& t, uint32_t ptr);

// lift_flat_values / lower_flat_values of definitions.py. When the types
// flatten to more than `max_flat` core values, they travel through memory:
// lifting reads an i32 pointer from `flat`; lowering allocates with realloc
// (or, when `out_param` is given, stores at that pointer and returns no core
// values).
Result<std::vector<Val>> lift_flat_values(Context& cx, size_t max_flat, std::span<const engine::Value> flat,
                                          std::span<const ValType> types);
Result<std::vector<engine::Value>> lower_flat_values(Context& cx, size_t max_flat, std::span<const Val> vals,
                                                     std::span<const ValType> types,
                                                     std::optional<uint32_t> out_param = std::nullopt);

// A call between two components: moves values of `types` from one side
// (flat values `flat` and memory of `src`) to the other (`dst`), with the
// same checks and realloc calls as lift_flat_values followed by
// lower_flat_values, but copying each value once: strings whose encodings
// match and lists of numbers are copied as bytes, the rest go through Val.
Result<std::vector<engine::Value>> transfer_flat_values(Context& src, Context& dst, size_t max_flat,
                                                        std::span<const engine::Value> flat,
                                                        std::span<const ValType> types,
                                                        std::optional<uint32_t> out_param = std::nullopt);

}  // namespace stratus::component::canon
