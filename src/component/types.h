// The Component Model's type model, resolved: value types as trees (no type
// indices left), function types, resource types, and the extern types of
// imports and exports. The decoder's validator produces these; the canonical
// ABI, the runtime and the WIT printer consume them.
//
// Value types are structural (two equal trees are the same type), except
// resource types, which are generative: each `ResourceType` object is its own
// type, compared by address.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/engine.h"
#include "support/result.h"

namespace stratus::component {

enum class PrimType : uint8_t {
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
  ErrorContext,
};

const char* prim_name(PrimType t);  // the WIT spelling: "u32", "string", ...

// A resource type. In a decoded component it is the static type introduced by
// a `(type (resource ...))` definition or by an import or export bounded by
// `(sub resource)`; instantiation maps each static resource type to the
// runtime one it stands for (fresh for definitions, the argument's for
// imports).
struct ResourceType {
  std::string name;  // the name it was imported or exported under, for messages and printing
  // For defined resources: the core function index (in the defining
  // component's core func index space) of the destructor, if any.
  std::optional<uint32_t> dtor_core_func;
  bool defined = false;  // true for `(type (resource ...))`, false for abstract (imported/exported bound)
  // Runtime resource types only: the component instance that implements the
  // resource (null for host-implemented ones) and how to destroy a rep.
  const void* implementer = nullptr;
  std::function<Result<void>(uint32_t rep)> destructor;
  // Runtime placeholders only: a resource type handed to an importer before
  // the instance that implements it exists (a lazy link,
  // Linker::define_lazy_export), then set, once, to the runtime type it
  // stands for when that instance is made. Read through settled().
  mutable std::shared_ptr<const ResourceType> stands_for;
};
using ResourceTypePtr = std::shared_ptr<const ResourceType>;

// The runtime type `t` is: what a placeholder stands for once settled, else
// `t` itself. Identity comparisons of runtime resource types go through it.
inline const ResourceTypePtr& settled(const ResourceTypePtr& t) { return t && t->stands_for ? t->stands_for : t; }

struct DefinedType;
using DefinedTypePtr = std::shared_ptr<const DefinedType>;

// The name a type export gave a value type (`type instant = u64;` exported
// as "instant"). Each export creates one; references to the exported type
// share it, so the WIT printer can tell which export a type came from.
struct TypeName {
  std::string name;
  bool exported = false;  // given by a component's export (imports may not refer to it)
  uint64_t owner = 0;     // the decoder's id of the component whose import or export gave it
};
using TypeNamePtr = std::shared_ptr<const TypeName>;

// A component-level value type: a primitive or a defined (compound) type.
class ValType {
 public:
  ValType() = default;                                   // bool; exists for containers
  ValType(PrimType p) : prim_(p) {}                      // NOLINT(google-explicit-constructor)
  ValType(DefinedTypePtr d) : defined_(std::move(d)) {}  // NOLINT(google-explicit-constructor)

  bool is_primitive() const { return defined_ == nullptr; }
  PrimType primitive() const { return prim_; }
  const DefinedType& defined() const { return *defined_; }
  const DefinedTypePtr& defined_ptr() const { return defined_; }

  // The type export this type was referenced through, if any. Names are not
  // part of a type's identity: types that differ only in names are equal.
  const TypeName* name() const { return name_.get(); }
  const TypeNamePtr& name_ptr() const { return name_; }
  ValType with_name(TypeNamePtr name) const {
    ValType t = *this;
    t.name_ = std::move(name);
    return t;
  }

 private:
  PrimType prim_ = PrimType::Bool;
  DefinedTypePtr defined_;
  TypeNamePtr name_;
};

struct Field {
  std::string name;
  ValType type;
};
struct Case {
  std::string name;
  std::optional<ValType> type;
};

struct RecordType {
  std::vector<Field> fields;
};
struct VariantType {
  std::vector<Case> cases;
};
struct ListType {
  ValType element;
  std::optional<uint32_t> length;  // fixed-length list (🔧) when set
};
struct TupleType {
  std::vector<ValType> elements;
};
struct FlagsType {
  std::vector<std::string> names;
};
struct EnumType {
  std::vector<std::string> names;
};
struct OptionType {
  ValType element;
};
struct ResultType {
  std::optional<ValType> ok;
  std::optional<ValType> err;
};
// `alias`: the name of the type export the handle was written against when
// that is not the resource's own (`type headers = fields;`), for printing.
struct OwnType {
  ResourceTypePtr resource;
  TypeNamePtr alias;
};
struct BorrowType {
  ResourceTypePtr resource;
  TypeNamePtr alias;
};
struct StreamType {
  std::optional<ValType> element;
};
struct FutureType {
  std::optional<ValType> element;
};
// `entries` is list<tuple<key, value>>: what a map is in the Canonical ABI
// (CanonicalABI.md despecialize) and in Val. Build maps with make_map.
struct MapType {
  ValType key;
  ValType value;
  ValType entries;
};

// The Canonical ABI alignment, size and flattening of a defined type, worked out on its
// first use (canon/layout.cc) instead of on every value lifted or lowered.
// Copies start empty.
struct LayoutCache {
  static constexpr uint32_t kUnknown = UINT32_MAX;
  mutable std::atomic<uint32_t> alignment{kUnknown};
  mutable std::atomic<uint32_t> size{kUnknown};
  // The core types it flattens to (engine::ValType values), once worked out.
  mutable std::once_flag flat_once;
  mutable std::vector<uint8_t> flat;
  LayoutCache() = default;
  LayoutCache(const LayoutCache&) {}
  LayoutCache& operator=(const LayoutCache&) { return *this; }
};

struct DefinedType {
  std::variant<RecordType, VariantType, ListType, TupleType, FlagsType, EnumType, OptionType, ResultType, OwnType,
               BorrowType, StreamType, FutureType, MapType>
      kind;
  LayoutCache layout = {};
};

template <class T>
ValType make_type(T kind) {
  return ValType(std::make_shared<const DefinedType>(DefinedType{std::move(kind)}));
}

// map<key, value>, with its entries type.
MapType make_map(ValType key, ValType value);

struct FuncType {
  std::vector<Field> params;
  std::optional<ValType> result;
  bool async = false;
};
using FuncTypePtr = std::shared_ptr<const FuncType>;

struct ComponentType;
struct InstanceType;
using ComponentTypePtr = std::shared_ptr<const ComponentType>;
using InstanceTypePtr = std::shared_ptr<const InstanceType>;

// The type of a core module as seen from a component: its imports and exports.
struct CoreModuleType {
  std::vector<engine::ImportDesc> imports;
  std::vector<engine::ExportDesc> exports;
};
using CoreModuleTypePtr = std::shared_ptr<const CoreModuleType>;

// `(type (eq T))` or `(type (sub resource))` in an import or export.
struct TypeBound {
  // For `(eq T)`: the value type or resource type it equals. For
  // `(sub resource)`: a fresh abstract resource type.
  std::variant<ValType, ResourceTypePtr> type;
  bool sub_resource = false;
  // The name this import or export gives the type: the index it adds refers
  // to `type` carrying this name.
  TypeNamePtr name;
};

struct ValueBound {
  ValType type;
};

using ExternType =
    std::variant<CoreModuleTypePtr, FuncTypePtr, ValueBound, TypeBound, ComponentTypePtr, InstanceTypePtr>;

struct NamedExtern {
  std::string name;  // the plain extern name ("wasi:http/types@0.2.3", "[method]r.get", "run")
  ExternType type;
};

struct InstanceType {
  std::vector<NamedExtern> exports;
};

struct ComponentType {
  std::vector<NamedExtern> imports;
  std::vector<NamedExtern> exports;
};

}  // namespace stratus::component
