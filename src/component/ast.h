// A decoded and validated component: its definitions in binary order, each
// creating entries in the index spaces the Binary.md explainer describes,
// with every type already resolved (types.h) so that the runtime never looks
// at a type index. Produced by decode_component (decoder.h); consumed by the
// runtime (instantiation) and the WIT printer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "component/types.h"
#include "support/result.h"

namespace stratus::component {

enum class Sort : uint8_t {
  CoreFunc,
  CoreTable,
  CoreMemory,
  CoreGlobal,
  CoreTag,
  CoreType,
  CoreModule,
  CoreInstance,
  Func,
  Value,
  Type,
  Component,
  Instance,
};

const char* sort_name(Sort s);  // "core func", "func", "instance", ...

struct SortIndex {
  Sort sort = Sort::Func;
  uint32_t index = 0;
};

struct CoreModule {
  std::vector<uint8_t> bytes;  // the module's own binary, `\0asm` header included
  CoreModuleTypePtr type;
};
using CoreModulePtr = std::shared_ptr<const CoreModule>;

struct Component;
using ComponentPtr = std::shared_ptr<const Component>;

// ---------------------------------------------------------- definitions

// Section 1 (or an outer alias of a module): adds a core module.
struct CoreModuleDef {
  CoreModulePtr module;
};

// Section 2.
struct CoreInstantiate {
  uint32_t module = 0;  // core module index
  struct Arg {
    std::string name;
    uint32_t instance = 0;  // core instance index
  };
  std::vector<Arg> args;
};
struct CoreInlineExport {
  std::string name;
  SortIndex target;  // a core sort
};
struct CoreInstanceDef {
  std::variant<CoreInstantiate, std::vector<CoreInlineExport>> expr;
};

// Section 3: core types (function types, module types). Only validation
// needs them; kept so that index spaces line up.
struct CoreTypeDef {
  std::variant<engine::FuncType, CoreModuleTypePtr> type;
};

// Section 4 (or an outer alias of a component): adds a component.
struct ComponentDef {
  ComponentPtr component;
};

// Section 5.
struct Instantiate {
  uint32_t component = 0;  // component index
  struct Arg {
    std::string name;
    SortIndex value;
  };
  std::vector<Arg> args;
};
struct InlineExport {
  std::string name;
  SortIndex target;
};
struct InstanceDef {
  std::variant<Instantiate, std::vector<InlineExport>> expr;
};

// Section 6. Outer aliases of types, modules and components are resolved by
// the decoder into the definition they name (TypeDef, CoreModuleDef,
// ComponentDef, CoreTypeDef) where it can; see OuterAliasDef for the rest.
struct AliasExport {
  Sort sort = Sort::Func;  // the sort added to (core sorts for core exports)
  uint32_t instance = 0;   // component instance index, or core instance index for core sorts
  std::string name;
};
struct AliasDef {
  AliasExport alias;
  // For component-level sorts: the aliased item's type as this component
  // sees it (the validator's view: resource types in it are this
  // component's static ones). The runtime maps those to the runtime types of
  // what the instance actually exports.
  std::optional<ExternType> type;
};

// An outer alias of a core module or component that the decoder cannot
// resolve statically: an import of an enclosing component (or an item
// aliased out of one of its instances), or a nested component that itself
// captures such an item. The enclosing instance substitutes its runtime
// item when it defines the component holding this alias (a closure).
struct OuterAliasDef {
  Sort sort = Sort::CoreModule;  // CoreModule or Component
  uint32_t count = 0;            // enclosing components to skip, at least 1
  uint32_t index = 0;            // into that component's index space of `sort`
};

// Section 7 (and outer type aliases, and the type index an import or export
// of a type introduces).
struct TypeDef {
  std::variant<ValType, FuncTypePtr, ComponentTypePtr, InstanceTypePtr, ResourceTypePtr> type;
};

// Section 8.
enum class StringEncoding : uint8_t { Utf8, Utf16, Latin1Utf16 };
struct CanonOptions {
  StringEncoding encoding = StringEncoding::Utf8;
  std::optional<uint32_t> memory;       // core memory index
  std::optional<uint32_t> realloc;      // core func index
  std::optional<uint32_t> post_return;  // core func index
  bool async = false;
  std::optional<uint32_t> callback;  // core func index
};
struct CanonLift {
  uint32_t core_func = 0;
  CanonOptions options;
  FuncTypePtr type;
};
struct CanonLower {
  uint32_t func = 0;  // component func index
  CanonOptions options;
};
struct CanonResourceNew {
  ResourceTypePtr resource;
};
struct CanonResourceDrop {
  ResourceTypePtr resource;
  bool async = false;
};
struct CanonResourceRep {
  ResourceTypePtr resource;
};
// The async, stream, future, error-context and thread built-ins: decoded and
// validated, kept by opcode. The sync runtime runs context.get/set,
// backpressure.inc/dec and task.return; the others link and trap when called
// (runtime/funcs.h).
struct CanonBuiltin {
  uint8_t opcode = 0;
  std::string name;             // "stream.new", "task.return", ...
  std::optional<ValType> type;  // the stream/future element type or task.return result, where there is one
  CanonOptions options;
  uint32_t slot = 0;  // context.get/set: the thread-local storage slot
  // `cancellable` (waitable-set.wait/poll, thread.*), `async` (subtask.cancel,
  // {stream,future}.cancel-*).
  bool flag = false;
  uint32_t table = 0;  // thread.new-indirect: the core table of functions
  // The core function type the built-in has (Explainer.md gives each one's
  // signature); none for those whose type involves reference types.
  std::optional<engine::FuncType> core_type;
};
struct CanonDef {
  // Lift adds a component func; the others add a core func.
  std::variant<CanonLift, CanonLower, CanonResourceNew, CanonResourceDrop, CanonResourceRep, CanonBuiltin> canon;
};

// Section 9 (🪙 value start functions): decoded, refused by the runtime.
struct StartDef {
  uint32_t func = 0;
  std::vector<uint32_t> args;
  uint32_t results = 0;
};

// Section 10.
struct ImportDef {
  std::string name;
  ExternType type;
};

// Section 11.
struct ExportDef {
  std::string name;
  SortIndex target;
  ExternType type;  // the ascribed type if one was given, else the inferred one
};

using Definition = std::variant<CoreModuleDef, CoreInstanceDef, CoreTypeDef, ComponentDef, InstanceDef, AliasDef,
                                OuterAliasDef, TypeDef, CanonDef, StartDef, ImportDef, ExportDef>;

struct CustomSection {
  std::string name;
  std::vector<uint8_t> data;
};

struct Component {
  std::vector<Definition> definitions;  // in binary order
  std::vector<CustomSection> custom_sections;
  ComponentTypePtr type;  // the component's imports and exports
  // Holds an OuterAliasDef (at any depth) that reaches past this component:
  // each definition of it is a closure over its enclosing instance.
  bool captures = false;
};

}  // namespace stratus::component
