// The decoder's index spaces for one scope: a component being decoded, or a
// component or instance type's declarators. Private to binary/.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "component/ast.h"
#include "component/binary/names.h"
#include "component/binary/reader.h"
#include "component/binary/subtype.h"

namespace stratus::component::binary {

using TypeEntry = std::variant<ValType, FuncTypePtr, ComponentTypePtr, InstanceTypePtr, ResourceTypePtr>;
using CoreTypeEntry = std::variant<engine::FuncType, CoreModuleTypePtr>;

struct CoreInstanceInfo {
  std::map<std::string, engine::ExternType> exports;
  // Exports whose core type the decoder does not compute (the async
  // built-ins); instantiation does not type-check them.
  std::set<std::string> untyped;
};

// One namespace of extern names (a scope's imports, or its exports): strong
// uniqueness, and the resource names [constructor]/[method]/[static] refer to.
struct NameContext {
  std::map<std::string, std::string> keys;  // canonical key -> the name that took it
  std::map<const ResourceType*, std::string> resource_names;
  std::set<std::string> all_resource_names;
};

using TypeDepths = std::map<const DefinedType*, std::pair<DefinedTypePtr, uint32_t>>;

struct Scope {
  Scope* parent = nullptr;
  bool is_component = true;  // false: a component or instance type's declarators
  int depth = 0;
  // The component this scope belongs to (a type scope: its enclosing
  // component's), unique per decoded component: the owner of the type names
  // its imports and exports give (external visibility).
  uint64_t component_id = 0;
  // Defined types this component's imports and exports have named so far
  // (also as type exports of an imported or exported instance): explicit
  // in it for the visibility check of later ones, whoever named them first.
  std::set<const DefinedType*> named_types;

  std::vector<CoreModulePtr> core_modules;  // null entries in type scopes
  std::vector<CoreModuleTypePtr> core_module_types;
  std::vector<std::shared_ptr<const CoreInstanceInfo>> core_instances;
  std::vector<CoreTypeEntry> core_types;
  std::vector<engine::FuncType> core_funcs;
  std::set<size_t> untyped_core_funcs;
  std::vector<engine::TableType> core_tables;
  std::vector<engine::MemoryType> core_memories;
  std::vector<engine::GlobalType> core_globals;
  std::vector<engine::TagType> core_tags;
  std::vector<FuncTypePtr> funcs;
  std::vector<ValType> values;
  std::vector<TypeEntry> types;
  // Type index -> the name a resource type was imported, exported or aliased
  // under there (handles written against that index keep it, for printing).
  std::map<size_t, TypeNamePtr> resource_names;
  std::vector<ComponentPtr> components;  // null entries for imported components
  std::vector<ComponentTypePtr> component_types;
  std::vector<InstanceTypePtr> instances;

  // An outer alias in this component (at any depth) reaches past it to an
  // item known only at instantiation (Component::captures).
  bool captures = false;

  std::vector<NamedExtern> imports;
  std::vector<NamedExtern> exports;
  // Exported local resources: the abstract type the export introduces (what
  // the outside sees) -> the resource it exports.
  ResourceMap export_alias;
  ResourceMap exported_local;  // the inverse

  // The root scope's memo of value type nesting depths (types.cc).
  TypeDepths type_depths;
  // The root scope's memo of value type byte sizes and alignments with
  // 64-bit pointers, capped at the limit (types.cc).
  std::map<const DefinedType*, std::pair<DefinedTypePtr, std::pair<uint64_t, uint32_t>>> type_sizes;
  // And of their effective sizes (node counts as trees, types.cc).
  std::map<const DefinedType*, std::pair<DefinedTypePtr, uint64_t>> effective_sizes;

  NameContext import_names;
  NameContext export_names;
};

constexpr int kMaxDepth = 64;
constexpr uint32_t kMaxTypeDepth = 100;

// Types (types.cc).
Result<ValType> read_valtype(Reader& r, Scope& s);
Result<TypeEntry> read_deftype(Reader& r, Scope& s);
Result<CoreTypeEntry> read_core_type(Reader& r, Scope& s);
// A core module's imports and exports from its type, import, function,
// table, memory, global, tag and export sections, without reading or
// validating its code (DecodeOptions::validate_core_code false): the
// engines validate the whole module when they compile it. Offsets in errors
// count from `base`.
Result<engine::ModuleTypeInfo> read_core_module_header(std::span<const uint8_t> bytes, size_t base);
Result<ExternType> read_externtype(Reader& r, Scope& s, const std::string& name);
// Gives a type bound the name of the import or export it belongs to (a fresh
// TypeName), unless it has one.
uint64_t next_component_id();
void name_type_bound(ExternType& type, const std::string& name, uint64_t owner, bool exported = false);
// The external visibility rule (Explainer.md, "External Visibility of
// Types"): every resource and every record, variant, enum and flags type the
// type of a component's import or export uses must be referred to through a
// type import or export (for imports: an import).
Result<void> check_visibility(const ExternType& type, bool import, uint64_t component_id,
                              const std::set<const DefinedType*>* named = nullptr);
// Adds the defined types `type` names (a type bound, or an instance's type
// exports) to `named`.
void collect_named_types(const ExternType& type, std::set<const DefinedType*>& named);
// An instance as a component exports it: its type exports get new names of
// this component, so that types aliased out of the exported instance are
// externally visible.
ExternType renamed_for_export(const ExternType& type, uint64_t component_id);
// Adds an import or export of `type` to the scope's index spaces.
void add_extern_to_spaces(Scope& s, const ExternType& type);
// The name rules for an import or export of `type` in `cx` (externs.cc):
// strong uniqueness, `implements` only on instances, and the function types
// [constructor]/[method]/[static] names require. Registers resource names.
Result<void> check_extern(NameContext& cx, const ExternName& name, const ExternType& type, const char* what);

// Type names to replace: an instantiated component's type imports by the
// names of its arguments, so that its exports refer to the types it was given.
using NameMap = std::map<const TypeName*, TypeNamePtr>;
ExternType rename_types(const ExternType& t, const NameMap& names);

// One canon section entry (canon.cc).
Result<void> read_canon(Reader& r, Scope& s, Component& out);

// Reads an alias (section 6 entry or a type declarator), resolving outer
// aliases. Returns the definition the component records, if any.
Result<std::optional<Definition>> read_alias(Reader& r, Scope& s);

}  // namespace stratus::component::binary
