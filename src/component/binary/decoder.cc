// The component binary format's sections (Binary.md), decoded in order into
// ast.h definitions while the index spaces are tracked in a Scope, so every
// index is checked and every type resolved as it is read.
#include "component/binary/decoder.h"

#include <algorithm>

#include "component/binary/scope.h"
#include "component/binary/subtype.h"
#include "component/canon/abi.h"
#include "engine/validate.h"

namespace stratus::component {
namespace {

// Core extern subtyping (the core spec's import matching): why `actual`
// cannot satisfy an import of type `want`, or "".
bool limits_match(const engine::Limits& actual, const engine::Limits& want) {
  if (actual.min < want.min) return false;
  if (!want.max) return true;
  return actual.max && *actual.max <= *want.max;
}

std::string core_import_mismatch(const engine::ExternType& want, const engine::ExternType& actual) {
  if (const auto* f = std::get_if<engine::FuncType>(&want)) {
    return *f == std::get<engine::FuncType>(actual) ? "" : "function types differ";
  }
  if (const auto* g = std::get_if<engine::GlobalType>(&want)) {
    const auto& a = std::get<engine::GlobalType>(actual);
    if (a.type != g->type) return "global value types differ";
    return a.mutable_ == g->mutable_ ? "" : "global mutability differs";
  }
  if (const auto* tag = std::get_if<engine::TagType>(&want)) {
    return *tag == std::get<engine::TagType>(actual) ? "" : "tag types differ";
  }
  if (const auto* t = std::get_if<engine::TableType>(&want)) {
    const auto& a = std::get<engine::TableType>(actual);
    if (a.element != t->element) return "table element types differ";
    return limits_match(a.limits, t->limits) ? "" : "table limits do not match";
  }
  const auto& m = std::get<engine::MemoryType>(want);
  return limits_match(std::get<engine::MemoryType>(actual).limits, m.limits) ? "" : "memory limits do not match";
}

using binary::Reader;
using binary::ResourceMap;
using binary::Scope;

const char* section_name(uint8_t id) {
  static const char* names[] = {"custom", "core module", "core instance", "core type", "component", "instance", "alias",
                                "type",   "canon",       "start",         "import",    "export",    "value"};
  return id < 13 ? names[id] : "unknown";
}

class Decoder {
 public:
  Decoder(Scope& scope, Component& out, const DecodeOptions& options) : s_(scope), out_(out), options_(options) {}

  Result<void> decode(std::span<const uint8_t> bytes, size_t base) {
    Reader r(bytes, base);
    auto header = r.bytes(8);
    if (!header.ok()) return Reader::error_at(base, "too short to be a component (need the 8-byte preamble)");
    static const uint8_t magic[] = {0x00, 0x61, 0x73, 0x6d};
    if (!std::equal(magic, magic + 4, header->begin())) return Reader::error_at(base, "bad magic number");
    if ((*header)[4] != 0x0d || (*header)[5] != 0x00 || (*header)[6] != 0x01 || (*header)[7] != 0x00) {
      if ((*header)[6] == 0x00 && (*header)[7] == 0x00)
        return Reader::error_at(base + 4, "this is a core module, not a component");
      return Reader::error_at(base + 4, "unknown component version or layer");
    }
    while (!r.done()) {
      size_t section_start = r.offset();
      auto id = r.u8();
      if (!id.ok()) return std::move(id).error();
      auto size = r.u32();
      if (!size.ok()) return std::move(size).error();
      auto body = r.bytes(*size);
      if (!body.ok())
        return Reader::error_at(section_start, std::string(section_name(*id)) + " section: size " +
                                                   std::to_string(*size) + " runs past the end");
      Reader sr(*body, r.offset() - *size);
      auto done = section(*id, sr);
      if (!done.ok())
        return std::move(done).error().context(std::string(section_name(*id)) + " section at offset 0x" +
                                               hex(section_start));
      if (!sr.done()) return sr.error(std::string(section_name(*id)) + " section has trailing bytes");
    }
    auto type = std::make_shared<ComponentType>();
    type->imports = s_.imports;
    type->exports = s_.exports;
    out_.type = type;
    return {};
  }

 private:
  static std::string hex(size_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%zx", v);
    return buf;
  }

  Result<void> section(uint8_t id, Reader& r) {
    switch (id) {
      case 0: return custom(r);
      case 1: return core_module(r);
      case 2: return each(r, &Decoder::core_instance);
      case 3: return each(r, &Decoder::core_type);
      case 4: return component(r);
      case 5: return each(r, &Decoder::instance);
      case 6: return each(r, &Decoder::alias);
      case 7: return each(r, &Decoder::type);
      case 8: return each(r, &Decoder::canon);
      case 9: return start(r);
      case 10: return each(r, &Decoder::import);
      case 11: return each(r, &Decoder::export_);
      case 12: return r.error("value sections (🪙) are not supported");
      default: return r.error("unknown section id " + std::to_string(id));
    }
  }

  Result<void> each(Reader& r, Result<void> (Decoder::*f)(Reader&)) {
    auto n = r.count(1);
    if (!n.ok()) return std::move(n).error();
    for (uint32_t i = 0; i < *n; ++i) STRATUS_TRY((this->*f)(r));
    return {};
  }

  Result<void> custom(Reader& r) {
    auto name = r.name();
    if (!name.ok()) return std::move(name).error();
    auto rest = r.bytes(r.remaining());
    out_.custom_sections.push_back({*name, std::vector<uint8_t>(rest->begin(), rest->end())});
    return {};
  }

  Result<void> core_module(Reader& r) {
    size_t at = r.offset();
    auto bytes = r.bytes(r.remaining());
    auto info = options_.validate_core_code ? engine::validate_core_module(*bytes)
                                            : binary::read_core_module_header(*bytes, at);
    if (!info.ok()) return Reader::error_at(at, "invalid core module: " + info.error().message);
    // Two-level import names mangle to one in a component: they must differ.
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& i : info->imports) {
      if (!seen.emplace(i.module, i.name).second)
        return Reader::error_at(at, "invalid core module: duplicate import name `" + i.module + ":" + i.name + "`");
    }
    auto type = std::make_shared<CoreModuleType>();
    type->imports = std::move(info->imports);
    type->exports = std::move(info->exports);
    auto module = std::make_shared<CoreModule>();
    module->bytes.assign(bytes->begin(), bytes->end());
    module->type = type;
    s_.core_modules.push_back(module);
    s_.core_module_types.push_back(type);
    out_.definitions.push_back(CoreModuleDef{module});
    return {};
  }

  Result<void> core_instance(Reader& r) {
    auto kind = r.u8();
    if (!kind.ok()) return std::move(kind).error();
    auto info = std::make_shared<binary::CoreInstanceInfo>();
    if (*kind == 0x00) {
      auto m = r.u32();
      if (!m.ok()) return std::move(m).error();
      if (*m >= s_.core_module_types.size())
        return r.error("core module index " + std::to_string(*m) + " out of range");
      auto n = r.count(2);
      if (!n.ok()) return std::move(n).error();
      CoreInstantiate inst{*m, {}};
      std::set<std::string> names;
      for (uint32_t i = 0; i < *n; ++i) {
        auto name = r.name();
        if (!name.ok()) return std::move(name).error();
        auto sort = r.u8();
        if (!sort.ok()) return std::move(sort).error();
        if (*sort != 0x12) return r.error("core instantiation arguments must be instances");
        auto idx = r.u32();
        if (!idx.ok()) return std::move(idx).error();
        if (*idx >= s_.core_instances.size())
          return r.error("core instance index " + std::to_string(*idx) + " out of range");
        if (!names.insert(*name).second) return r.error("duplicate argument name `" + *name + "`");
        inst.args.push_back({*name, *idx});
      }
      const auto& type = *s_.core_module_types[*m];
      for (const auto& import : type.imports) {
        auto arg =
            std::find_if(inst.args.begin(), inst.args.end(), [&](const auto& a) { return a.name == import.module; });
        if (arg == inst.args.end())
          return r.error("missing module instantiation argument named `" + import.module + "`");
        const auto& exports = s_.core_instances[arg->instance]->exports;
        auto e = exports.find(import.name);
        if (e == exports.end())
          return r.error("module instantiation argument `" + import.module + "` does not export `" + import.name + "`");
        if (s_.core_instances[arg->instance]->untyped.count(import.name) != 0) continue;
        if (engine::kind_of(e->second) != engine::kind_of(import.type))
          return r.error("type mismatch for export `" + import.name + "` of module instantiation argument `" +
                         import.module + "`");
        auto why = core_import_mismatch(import.type, e->second);
        if (!why.empty())
          return r.error("type mismatch for export `" + import.name + "` of module instantiation argument `" +
                         import.module + "`: " + why);
      }
      for (const auto& e : type.exports) info->exports[e.name] = e.type;
      out_.definitions.push_back(CoreInstanceDef{inst});
    } else if (*kind == 0x01) {
      auto n = r.count(3);
      if (!n.ok()) return std::move(n).error();
      std::vector<CoreInlineExport> exports;
      for (uint32_t i = 0; i < *n; ++i) {
        auto name = r.name();
        if (!name.ok()) return std::move(name).error();
        auto sort = r.u8();
        if (!sort.ok()) return std::move(sort).error();
        auto idx = r.u32();
        if (!idx.ok()) return std::move(idx).error();
        if (info->exports.count(*name) != 0) return r.error("duplicate export name `" + *name + "`");
        engine::ExternType t;
        Sort st;
        switch (*sort) {
          case 0x00:
            if (*idx >= s_.core_funcs.size()) return r.error("core func index out of range");
            t = s_.core_funcs[*idx];
            st = Sort::CoreFunc;
            if (s_.untyped_core_funcs.count(*idx) != 0) info->untyped.insert(*name);
            break;
          case 0x01:
            if (*idx >= s_.core_tables.size()) return r.error("core table index out of range");
            t = s_.core_tables[*idx];
            st = Sort::CoreTable;
            break;
          case 0x02:
            if (*idx >= s_.core_memories.size()) return r.error("core memory index out of range");
            t = s_.core_memories[*idx];
            st = Sort::CoreMemory;
            break;
          case 0x03:
            if (*idx >= s_.core_globals.size()) return r.error("core global index out of range");
            t = s_.core_globals[*idx];
            st = Sort::CoreGlobal;
            break;
          case 0x04:
            if (*idx >= s_.core_tags.size())
              return r.error("unknown tag " + std::to_string(*idx) + ": tag index out of bounds");
            t = s_.core_tags[*idx];
            st = Sort::CoreTag;
            break;
          default: return r.error("invalid core sort in inline export");
        }
        info->exports[*name] = t;
        exports.push_back({*name, SortIndex{st, *idx}});
      }
      out_.definitions.push_back(CoreInstanceDef{exports});
    } else {
      return r.error("invalid core instance kind");
    }
    s_.core_instances.push_back(info);
    return {};
  }

  Result<void> core_type(Reader& r) {
    auto t = binary::read_core_type(r, s_);
    if (!t.ok()) return std::move(t).error();
    s_.core_types.push_back(*t);
    CoreTypeDef def;
    std::visit([&](const auto& x) { def.type = x; }, *t);
    out_.definitions.push_back(def);
    return {};
  }

  Result<void> component(Reader& r) {
    if (s_.depth + 1 > binary::kMaxDepth) return r.error("components nested too deeply");
    size_t base = r.offset();
    auto bytes = r.bytes(r.remaining());
    Scope inner;
    inner.parent = &s_;
    inner.depth = s_.depth + 1;
    inner.component_id = binary::next_component_id();
    auto nested = std::make_shared<Component>();
    Decoder d(inner, *nested, options_);
    STRATUS_TRY(d.decode(*bytes, base));
    nested->captures = inner.captures;
    s_.components.push_back(nested);
    s_.component_types.push_back(nested->type);
    out_.definitions.push_back(ComponentDef{nested});
    return {};
  }

  // The type of an item of this scope named by a sortidx.
  Result<ExternType> item_type(const Reader& r, Sort sort, uint32_t idx) {
    auto range = [&](size_t n) -> Result<void> {
      if (idx >= n) return r.error(std::string(sort_name(sort)) + " index " + std::to_string(idx) + " out of range");
      return {};
    };
    switch (sort) {
      case Sort::Func: STRATUS_TRY(range(s_.funcs.size())); return ExternType(s_.funcs[idx]);
      case Sort::Value: STRATUS_TRY(range(s_.values.size())); return ExternType(ValueBound{s_.values[idx]});
      case Sort::Type: {
        STRATUS_TRY(range(s_.types.size()));
        const auto& t = s_.types[idx];
        TypeBound b;
        if (const auto* res = std::get_if<ResourceTypePtr>(&t)) {
          b.type = *res;
        } else if (const auto* v = std::get_if<ValType>(&t)) {
          b.type = *v;
        } else {
          return r.error("only value and resource types can be exported or passed");
        }
        return ExternType(b);
      }
      case Sort::Component: STRATUS_TRY(range(s_.component_types.size())); return ExternType(s_.component_types[idx]);
      case Sort::Instance: STRATUS_TRY(range(s_.instances.size())); return ExternType(s_.instances[idx]);
      case Sort::CoreModule:
        STRATUS_TRY(range(s_.core_module_types.size()));
        return ExternType(s_.core_module_types[idx]);
      default: return r.error(std::string("a ") + sort_name(sort) + " cannot be used here");
    }
  }

  Result<SortIndex> sortidx(Reader& r) {
    auto b = r.u8();
    if (!b.ok()) return std::move(b).error();
    Sort sort;
    if (*b == 0x00) {
      auto c = r.u8();
      if (!c.ok()) return std::move(c).error();
      if (*c != 0x11) return r.error("only core modules can be used here among core sorts");
      sort = Sort::CoreModule;
    } else if (*b == 0x01) {
      sort = Sort::Func;
    } else if (*b == 0x02) {
      sort = Sort::Value;
    } else if (*b == 0x03) {
      sort = Sort::Type;
    } else if (*b == 0x04) {
      sort = Sort::Component;
    } else if (*b == 0x05) {
      sort = Sort::Instance;
    } else {
      return r.error("invalid sort");
    }
    auto idx = r.u32();
    if (!idx.ok()) return std::move(idx).error();
    return SortIndex{sort, *idx};
  }

  static bool same_kind(const ExternType& a, const ExternType& b) { return a.index() == b.index(); }

  Result<void> instance(Reader& r) {
    auto kind = r.u8();
    if (!kind.ok()) return std::move(kind).error();
    auto type = std::make_shared<InstanceType>();
    if (*kind == 0x00) {
      auto c = r.u32();
      if (!c.ok()) return std::move(c).error();
      if (*c >= s_.component_types.size()) return r.error("component index " + std::to_string(*c) + " out of range");
      auto n = r.count(3);
      if (!n.ok()) return std::move(n).error();
      Instantiate inst{*c, {}};
      std::map<std::string, ExternType> given;
      for (uint32_t i = 0; i < *n; ++i) {
        auto name = r.name();
        if (!name.ok()) return std::move(name).error();
        auto si = sortidx(r);
        if (!si.ok()) return std::move(si).error();
        auto t = item_type(r, si->sort, si->index);
        if (!t.ok()) return std::move(t).error();
        if (!given.emplace(*name, *t).second) return r.error("duplicate instantiation argument `" + *name + "`");
        inst.args.push_back({*name, *si});
      }
      const auto& ct = *s_.component_types[*c];
      ResourceMap map;
      binary::NameMap names;
      for (const auto& import : ct.imports) {
        auto it = given.find(import.name);
        if (it == given.end()) return r.error("missing instantiation argument named `" + import.name + "`");
        if (!same_kind(import.type, it->second))
          return r.error("instantiation argument `" + import.name + "` has the wrong kind");
        binary::bind_resources(import.type, it->second, map);
        const auto* ib = std::get_if<TypeBound>(&import.type);
        const auto* ab = std::get_if<TypeBound>(&it->second);
        if (ib != nullptr && ab != nullptr && ib->name != nullptr) {
          if (const auto* v = std::get_if<ValType>(&ab->type); v != nullptr && v->name() != nullptr)
            names.emplace(ib->name.get(), v->name_ptr());
        }
        auto ok = binary::check_subtype(binary::substitute(it->second, s_.export_alias),
                                        binary::substitute(binary::substitute(import.type, map), s_.export_alias));
        if (!ok.ok()) return r.error("instantiation argument `" + import.name + "`: " + ok.error().message);
      }
      for (const auto& e : ct.exports) binary::freshen_exports(e.type, map);
      for (const auto& e : ct.exports)
        type->exports.push_back({e.name, binary::rename_types(binary::substitute(e.type, map), names)});
      out_.definitions.push_back(InstanceDef{inst});
    } else if (*kind == 0x01) {
      auto n = r.count(3);
      if (!n.ok()) return std::move(n).error();
      std::vector<InlineExport> exports;
      binary::NameContext names;
      for (uint32_t i = 0; i < *n; ++i) {
        auto name = binary::read_extern_name(r);
        if (!name.ok()) return std::move(name).error();
        auto si = sortidx(r);
        if (!si.ok()) return std::move(si).error();
        auto t = item_type(r, si->sort, si->index);
        if (!t.ok()) return std::move(t).error();
        abstract_local_resource(*t, name->name);
        STRATUS_TRY(binary::check_extern(names, *name, *t, "export"));
        type->exports.push_back({name->name, *t});
        exports.push_back({name->name, *si});
      }
      out_.definitions.push_back(InstanceDef{exports});
    } else {
      return r.error("invalid instance kind");
    }
    s_.instances.push_back(type);
    return {};
  }

  Result<void> alias(Reader& r) {
    auto def = binary::read_alias(r, s_);
    if (!def.ok()) return std::move(def).error();
    if (*def) out_.definitions.push_back(std::move(**def));
    return {};
  }

  Result<void> type(Reader& r) {
    auto t = binary::read_deftype(r, s_);
    if (!t.ok()) return std::move(t).error();
    s_.types.push_back(*t);
    TypeDef def;
    std::visit([&](const auto& x) { def.type = x; }, *t);
    out_.definitions.push_back(def);
    return {};
  }

  Result<void> canon(Reader& r) { return binary::read_canon(r, s_, out_); }

  Result<void> start(Reader& r) {
    auto f = r.u32();
    if (!f.ok()) return std::move(f).error();
    if (*f >= s_.funcs.size()) return r.error("func index out of range");
    auto n = r.count(1);
    if (!n.ok()) return std::move(n).error();
    StartDef def{*f, {}, 0};
    for (uint32_t i = 0; i < *n; ++i) {
      auto v = r.u32();
      if (!v.ok()) return std::move(v).error();
      def.args.push_back(*v);
    }
    auto results = r.u32();
    if (!results.ok()) return std::move(results).error();
    def.results = *results;
    out_.definitions.push_back(def);
    return {};
  }

  Result<void> import(Reader& r) {
    auto name = binary::read_extern_name(r);
    if (!name.ok()) return std::move(name).error();
    auto t = binary::read_externtype(r, s_, name->name);
    if (!t.ok()) return std::move(t).error();
    STRATUS_TRY(binary::check_extern(s_.import_names, *name, *t, "import"));
    if (auto ok = binary::check_visibility(*t, true, s_.component_id, &s_.named_types); !ok.ok())
      return Reader::error_at(name->offset, "import `" + name->name + "`: " + ok.error().message);
    binary::collect_named_types(*t, s_.named_types);
    binary::name_type_bound(*t, name->name, s_.component_id);
    binary::add_extern_to_spaces(s_, *t);
    s_.imports.push_back({name->name, *t});
    out_.definitions.push_back(ImportDef{name->name, *t});
    return {};
  }

  // A local resource exported (by the component, or from a bag of exports)
  // is seen from outside as an abstract one, fresh for each instance;
  // imported ones stay what they are.
  void abstract_local_resource(ExternType& type, const std::string& name) {
    auto* b = std::get_if<TypeBound>(&type);
    if (b == nullptr) return;
    const auto* res = std::get_if<ResourceTypePtr>(&b->type);
    if (res == nullptr || !(*res)->defined) return;
    auto& alias = s_.exported_local[res->get()];  // one abstract type however often it is exported
    if (alias == nullptr) {
      auto fresh = std::make_shared<ResourceType>();
      fresh->name = name;
      s_.export_alias.emplace(fresh.get(), *res);
      alias = fresh;
    }
    b->type = alias;
    b->sub_resource = true;
  }

  Result<void> export_(Reader& r) {
    auto name = binary::read_extern_name(r);
    if (!name.ok()) return std::move(name).error();
    auto si = sortidx(r);
    if (!si.ok()) return std::move(si).error();
    auto inferred = item_type(r, si->sort, si->index);
    if (!inferred.ok()) return std::move(inferred).error();
    ExternType type = *inferred;
    auto has_type = r.u8();
    if (!has_type.ok()) return std::move(has_type).error();
    if (*has_type == 0x01) {
      auto ascribed = binary::read_externtype(r, s_, name->name);
      if (!ascribed.ok()) return std::move(ascribed).error();
      if (!same_kind(*ascribed, *inferred))
        return r.error("export `" + name->name + "`: ascribed type has the wrong kind");
      ResourceMap map;
      binary::bind_resources(*ascribed, *inferred, map);
      auto ok = binary::check_subtype(binary::substitute(*inferred, s_.export_alias),
                                      binary::substitute(binary::substitute(*ascribed, map), s_.export_alias));
      if (!ok.ok())
        return r.error("ascribed type of export `" + name->name + "` is not compatible: " + ok.error().message);
      type = *ascribed;
    } else if (*has_type != 0x00) {
      return r.error("invalid optional flag");
    } else {
      abstract_local_resource(type, name->name);
    }
    STRATUS_TRY(binary::check_extern(s_.export_names, *name, type, "export"));
    if (auto ok = binary::check_visibility(type, false, s_.component_id, &s_.named_types); !ok.ok())
      return Reader::error_at(name->offset, "export `" + name->name + "`: " + ok.error().message);
    binary::collect_named_types(type, s_.named_types);
    binary::name_type_bound(type, name->name, s_.component_id, true);
    type = binary::renamed_for_export(type, s_.component_id);
    binary::add_extern_to_spaces(s_, type);
    s_.exports.push_back({name->name, type});
    out_.definitions.push_back(ExportDef{name->name, *si, type});
    return {};
  }

  Scope& s_;
  Component& out_;
  const DecodeOptions& options_;
};

}  // namespace

bool is_component(std::span<const uint8_t> bytes) {
  return bytes.size() >= 8 && bytes[0] == 0x00 && bytes[1] == 0x61 && bytes[2] == 0x73 && bytes[3] == 0x6d &&
         bytes[6] == 0x01 && bytes[7] == 0x00;
}

Result<ComponentPtr> decode_component(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  Scope scope;
  scope.component_id = binary::next_component_id();
  auto component = std::make_shared<Component>();
  Decoder decoder(scope, *component, options);
  STRATUS_TRY(decoder.decode(bytes, 0));
  return ComponentPtr(component);
}

}  // namespace stratus::component
