// Aliases (Binary.md, "Alias Definitions"): export aliases of component and
// core instances, and outer aliases, which are resolved here into the
// definition they name.
#include <algorithm>
#include <set>

#include "component/binary/scope.h"

namespace stratus::component::binary {
namespace {

Sort sort_from_bytes(uint8_t b, uint8_t core) {
  if (b == 0x00) {
    switch (core) {
      case 0x00: return Sort::CoreFunc;
      case 0x01: return Sort::CoreTable;
      case 0x02: return Sort::CoreMemory;
      case 0x03: return Sort::CoreGlobal;
      case 0x04: return Sort::CoreTag;
      case 0x10: return Sort::CoreType;
      case 0x11: return Sort::CoreModule;
      default: return Sort::CoreInstance;
    }
  }
  switch (b) {
    case 0x01: return Sort::Func;
    case 0x02: return Sort::Value;
    case 0x03: return Sort::Type;
    case 0x04: return Sort::Component;
    default: return Sort::Instance;
  }
}

// The resources a type mentions, and those it introduces itself (the
// `(sub resource)` bounds of a component or instance type): a type refers to
// resources when it mentions one it does not introduce.
struct ResourceScan {
  std::set<const ResourceType*> introduced;
  std::vector<const ResourceType*> mentioned;
  std::set<const DefinedType*> visited;

  void val(const std::optional<ValType>& t) {
    if (t) val(*t);
  }
  void val(const ValType& t) {
    if (t.is_primitive()) return;
    if (!visited.insert(t.defined_ptr().get()).second) return;  // shared subtrees once
    std::visit(
        [this](const auto& k) {
          using K = std::decay_t<decltype(k)>;
          if constexpr (std::is_same_v<K, OwnType> || std::is_same_v<K, BorrowType>) {
            mentioned.push_back(k.resource.get());
          } else if constexpr (std::is_same_v<K, RecordType>) {
            for (const auto& f : k.fields) val(f.type);
          } else if constexpr (std::is_same_v<K, VariantType>) {
            for (const auto& c : k.cases) val(c.type);
          } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType> ||
                               std::is_same_v<K, StreamType> || std::is_same_v<K, FutureType>) {
            val(k.element);
          } else if constexpr (std::is_same_v<K, TupleType>) {
            for (const auto& e : k.elements) val(e);
          } else if constexpr (std::is_same_v<K, ResultType>) {
            val(k.ok);
            val(k.err);
          } else if constexpr (std::is_same_v<K, MapType>) {
            val(k.key);
            val(k.value);
          }
        },
        t.defined().kind);
  }
  void func(const FuncType& f) {
    for (const auto& p : f.params) val(p.type);
    val(f.result);
  }
  void externs(const std::vector<NamedExtern>& list) {
    for (const auto& e : list) ext(e.type);
  }
  void ext(const ExternType& t) {
    if (const auto* f = std::get_if<FuncTypePtr>(&t)) {
      func(**f);
    } else if (const auto* v = std::get_if<ValueBound>(&t)) {
      val(v->type);
    } else if (const auto* b = std::get_if<TypeBound>(&t)) {
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) {
        if (b->sub_resource) {
          introduced.insert(r->get());
        } else {
          mentioned.push_back(r->get());
        }
      } else {
        val(std::get<ValType>(b->type));
      }
    } else if (const auto* i = std::get_if<InstanceTypePtr>(&t)) {
      externs((*i)->exports);
    } else if (const auto* c = std::get_if<ComponentTypePtr>(&t)) {
      externs((*c)->imports);
      externs((*c)->exports);
    }
  }
  void entry(const TypeEntry& t) {
    if (const auto* r = std::get_if<ResourceTypePtr>(&t)) {
      mentioned.push_back(r->get());
    } else if (const auto* v = std::get_if<ValType>(&t)) {
      val(*v);
    } else if (const auto* f = std::get_if<FuncTypePtr>(&t)) {
      func(**f);
    } else if (const auto* i = std::get_if<InstanceTypePtr>(&t)) {
      ext(*i);
    } else {
      ext(std::get<ComponentTypePtr>(t));
    }
  }
};

bool refers_to_resources(const TypeEntry& t) {
  ResourceScan scan;
  scan.entry(t);
  return std::any_of(scan.mentioned.begin(), scan.mentioned.end(),
                     [&](const ResourceType* r) { return scan.introduced.count(r) == 0; });
}

void add_core_extern(Scope& s, const engine::ExternType& t) {
  if (const auto* f = std::get_if<engine::FuncType>(&t)) {
    s.core_funcs.push_back(*f);
  } else if (const auto* table = std::get_if<engine::TableType>(&t)) {
    s.core_tables.push_back(*table);
  } else if (const auto* memory = std::get_if<engine::MemoryType>(&t)) {
    s.core_memories.push_back(*memory);
  } else if (const auto* global = std::get_if<engine::GlobalType>(&t)) {
    s.core_globals.push_back(*global);
  } else {
    s.core_tags.push_back(std::get<engine::TagType>(t));
  }
}

// An outer alias resolved at instantiation. Every component it reaches out
// of becomes a closure over the instance it is defined in.
OuterAliasDef capture(Scope& s, Sort sort, uint32_t count, uint32_t index) {
  Scope* p = &s;
  for (uint32_t k = 0; k < count; ++k, p = p->parent) p->captures = true;
  return OuterAliasDef{sort, count, index};
}

}  // namespace

Result<std::optional<Definition>> read_alias(Reader& r, Scope& s) {
  auto b = r.u8();
  if (!b.ok()) return std::move(b).error();
  uint8_t core = 0;
  if (*b == 0x00) {
    auto c = r.u8();
    if (!c.ok()) return std::move(c).error();
    core = *c;
    if (core > 0x04 && core != 0x10 && core != 0x11 && core != 0x12) return r.error("invalid core sort");
  } else if (*b > 0x05) {
    return r.error("invalid sort");
  }
  Sort sort = sort_from_bytes(*b, core);
  auto target = r.u8();
  if (!target.ok()) return std::move(target).error();
  if (*target == 0x00 || *target == 0x01) {
    auto inst = r.u32();
    if (!inst.ok()) return std::move(inst).error();
    auto name = r.name();
    if (!name.ok()) return std::move(name).error();
    bool core_export = *target == 0x01;
    bool core_sort = *b == 0x00 && sort != Sort::CoreModule;
    if (core_export != core_sort) return r.error("alias sort does not match the instance kind");
    if (core_export) {
      if (*inst >= s.core_instances.size())
        return r.error("core instance index " + std::to_string(*inst) + " out of range");
      auto it = s.core_instances[*inst]->exports.find(*name);
      if (it == s.core_instances[*inst]->exports.end())
        return r.error("core instance " + std::to_string(*inst) + " has no export named `" + *name + "`");
      engine::ExternKind want = sort == Sort::CoreFunc     ? engine::ExternKind::Func
                                : sort == Sort::CoreTable  ? engine::ExternKind::Table
                                : sort == Sort::CoreMemory ? engine::ExternKind::Memory
                                : sort == Sort::CoreGlobal ? engine::ExternKind::Global
                                                           : engine::ExternKind::Tag;
      if (sort != Sort::CoreFunc && sort != Sort::CoreTable && sort != Sort::CoreMemory && sort != Sort::CoreGlobal &&
          sort != Sort::CoreTag)
        return r.error(std::string("cannot alias a ") + sort_name(sort) + " from a core instance");
      if (engine::kind_of(it->second) != want)
        return r.error("export `" + *name + "` for core instance " + std::to_string(*inst) + " is not a " +
                       sort_name(sort));
      add_core_extern(s, it->second);
      return std::optional<Definition>(AliasDef{AliasExport{sort, *inst, *name}, std::nullopt});
    }
    if (*inst >= s.instances.size()) return r.error("instance index " + std::to_string(*inst) + " out of range");
    const auto& exports = s.instances[*inst]->exports;
    auto it = std::find_if(exports.begin(), exports.end(), [&](const NamedExtern& e) { return e.name == *name; });
    if (it == exports.end())
      return r.error("instance " + std::to_string(*inst) + " has no export named `" + *name + "`");
    bool matches = (sort == Sort::Func && std::holds_alternative<FuncTypePtr>(it->type)) ||
                   (sort == Sort::Type && std::holds_alternative<TypeBound>(it->type)) ||
                   (sort == Sort::Instance && std::holds_alternative<InstanceTypePtr>(it->type)) ||
                   (sort == Sort::Component && std::holds_alternative<ComponentTypePtr>(it->type)) ||
                   (sort == Sort::CoreModule && std::holds_alternative<CoreModuleTypePtr>(it->type)) ||
                   (sort == Sort::Value && std::holds_alternative<ValueBound>(it->type));
    if (!matches) return r.error("export `" + *name + "` is not a " + sort_name(sort));
    if (!s.is_component && sort != Sort::Type && sort != Sort::Instance)
      return r.error("type declarators may only alias types and instances");
    add_extern_to_spaces(s, it->type);
    return std::optional<Definition>(AliasDef{AliasExport{sort, *inst, *name}, it->type});
  }
  if (*target != 0x02) return r.error("invalid alias target");
  auto ct = r.u32();
  if (!ct.ok()) return std::move(ct).error();
  auto idx = r.u32();
  if (!idx.ok()) return std::move(idx).error();
  Scope* scope = &s;
  for (uint32_t k = 0; k < *ct && scope != nullptr; ++k) scope = scope->parent;
  if (scope == nullptr) return r.error("outer alias count " + std::to_string(*ct) + " exceeds the enclosing scopes");
  switch (sort) {
    case Sort::Type: {
      if (*idx >= scope->types.size()) return r.error("outer alias type index out of range");
      TypeEntry t = scope->types[*idx];  // a copy: with count 0, push_back below reallocates the same vector
      // Resources are generative: only resource-free types may be aliased
      // across a component boundary.
      bool crosses_component = false;
      for (const Scope* p = &s; p != scope; p = p->parent) crosses_component = crosses_component || p->is_component;
      if (crosses_component && refers_to_resources(t))
        return r.error("outer alias of type " + std::to_string(*idx) +
                       " across a component boundary: it transitively refers to resources");
      if (auto named = scope->resource_names.find(*idx); named != scope->resource_names.end())
        s.resource_names[s.types.size()] = named->second;
      s.types.push_back(t);
      TypeDef def;
      std::visit([&](const auto& x) { def.type = x; }, t);
      return std::optional<Definition>(def);
    }
    case Sort::CoreType: {
      if (*idx >= scope->core_types.size()) return r.error("outer alias core type index out of range");
      CoreTypeEntry t = scope->core_types[*idx];
      s.core_types.push_back(t);
      CoreTypeDef def;
      std::visit([&](const auto& x) { def.type = x; }, t);
      return std::optional<Definition>(def);
    }
    case Sort::CoreModule: {
      if (!s.is_component) return r.error("outer aliases in types may only alias types");
      if (*idx >= scope->core_modules.size()) return r.error("outer alias core module index out of range");
      CoreModulePtr module = scope->core_modules[*idx];
      CoreModuleTypePtr type = scope->core_module_types[*idx];
      s.core_modules.push_back(module);
      s.core_module_types.push_back(type);
      if (module == nullptr) return std::optional<Definition>(capture(s, Sort::CoreModule, *ct, *idx));
      return std::optional<Definition>(CoreModuleDef{module});
    }
    case Sort::Component: {
      if (!s.is_component) return r.error("outer aliases in types may only alias types");
      if (*idx >= scope->components.size()) return r.error("outer alias component index out of range");
      ComponentPtr component = scope->components[*idx];
      ComponentTypePtr type = scope->component_types[*idx];
      s.components.push_back(component);
      s.component_types.push_back(type);
      if (component == nullptr || component->captures)
        return std::optional<Definition>(capture(s, Sort::Component, *ct, *idx));
      return std::optional<Definition>(ComponentDef{component});
    }
    default: return r.error(std::string("outer aliases of a ") + sort_name(sort) + " are not allowed");
  }
}

}  // namespace stratus::component::binary
