// The decoder's index spaces for one scope: a component being decoded, or a
// component or instance type's declarators. Private to binary/.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "component/ast.h"
#include "component/binary/reader.h"

namespace stratus::component::binary {

using TypeEntry = std::variant<ValType, FuncTypePtr, ComponentTypePtr, InstanceTypePtr, ResourceTypePtr>;
using CoreTypeEntry = std::variant<engine::FuncType, CoreModuleTypePtr>;

struct CoreInstanceInfo {
  std::map<std::string, engine::ExternType> exports;
  // Exports whose core type the decoder does not compute (the async
  // built-ins); instantiation does not type-check them.
  std::set<std::string> untyped;
};

struct Scope {
  Scope* parent = nullptr;
  bool is_component = true;  // false: a component or instance type's declarators
  int depth = 0;

  std::vector<CoreModulePtr> core_modules;  // null entries in type scopes
  std::vector<CoreModuleTypePtr> core_module_types;
  std::vector<std::shared_ptr<const CoreInstanceInfo>> core_instances;
  std::vector<CoreTypeEntry> core_types;
  std::vector<engine::FuncType> core_funcs;
  std::set<size_t> untyped_core_funcs;
  size_t core_tables = 0, core_memories = 0, core_globals = 0;
  std::vector<FuncTypePtr> funcs;
  std::vector<ValType> values;
  std::vector<TypeEntry> types;
  std::vector<ComponentPtr> components;  // null entries for imported components
  std::vector<ComponentTypePtr> component_types;
  std::vector<InstanceTypePtr> instances;

  std::vector<NamedExtern> imports;
  std::vector<NamedExtern> exports;
  std::set<std::string> import_names;
  std::set<std::string> export_names;
};

constexpr int kMaxDepth = 64;

// Types (types.cc).
Result<ValType> read_valtype(Reader& r, Scope& s);
Result<TypeEntry> read_deftype(Reader& r, Scope& s);
Result<CoreTypeEntry> read_core_type(Reader& r, Scope& s);
Result<ExternType> read_externtype(Reader& r, Scope& s, const std::string& name);
Result<std::string> read_extern_name(Reader& r);
// Adds an import or export of `type` to the scope's index spaces.
void add_extern_to_spaces(Scope& s, const ExternType& type);
Result<void> check_name_unique(std::set<std::string>& names, const std::string& name, const Reader& r,
                               const char* what);

// Replaces the resource types that `map` names, deep, keeping unchanged
// subtrees shared.
using ResourceMap = std::map<const ResourceType*, ResourceTypePtr>;
ValType substitute(const ValType& t, const ResourceMap& map);
ExternType substitute(const ExternType& t, const ResourceMap& map);

// Reads an alias (section 6 entry or a type declarator), resolving outer
// aliases. Returns the definition the component records, if any.
Result<std::optional<Definition>> read_alias(Reader& r, Scope& s);

}  // namespace stratus::component::binary
