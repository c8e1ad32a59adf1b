// The component binary format's sections (Binary.md), decoded in order into
// ast.h definitions while the index spaces are tracked in a Scope, so every
// index is checked and every type resolved as it is read.
#include "component/binary/decoder.h"

#include <algorithm>

#include "component/binary/scope.h"
#include "component/canon/abi.h"

namespace stratus::component {
namespace {

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
  Decoder(Scope& scope, Component& out) : s_(scope), out_(out) {}

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
    auto info = engine::inspect_module(*bytes);
    if (!info.ok()) return Reader::error_at(at, "invalid core module: " + info.error().message);
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
        if (const auto* want = std::get_if<engine::FuncType>(&import.type)) {
          if (!(std::get<engine::FuncType>(e->second) == *want))
            return r.error("type mismatch for export `" + import.name + "` of module instantiation argument `" +
                           import.module + "`");
        }
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
            if (*idx >= s_.core_tables) return r.error("core table index out of range");
            t = engine::TableType{};
            st = Sort::CoreTable;
            break;
          case 0x02:
            if (*idx >= s_.core_memories) return r.error("core memory index out of range");
            t = engine::MemoryType{};
            st = Sort::CoreMemory;
            break;
          case 0x03:
            if (*idx >= s_.core_globals) return r.error("core global index out of range");
            t = engine::GlobalType{};
            st = Sort::CoreGlobal;
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
    auto nested = std::make_shared<Component>();
    Decoder d(inner, *nested);
    STRATUS_TRY(d.decode(*bytes, base));
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

  // Binds the abstract resource types `expected` introduces to those of
  // `actual` (an instantiation argument), by structure and export name.
  static void bind_resources(const ExternType& expected, const ExternType& actual, ResourceMap& map) {
    if (const auto* eb = std::get_if<TypeBound>(&expected)) {
      const auto* ab = std::get_if<TypeBound>(&actual);
      const auto* er = std::get_if<ResourceTypePtr>(&eb->type);
      if (ab != nullptr && er != nullptr)
        if (const auto* ar = std::get_if<ResourceTypePtr>(&ab->type)) map[er->get()] = *ar;
      return;
    }
    if (const auto* ei = std::get_if<InstanceTypePtr>(&expected)) {
      const auto* ai = std::get_if<InstanceTypePtr>(&actual);
      if (ai == nullptr) return;
      for (const auto& e : (*ei)->exports)
        for (const auto& a : (*ai)->exports)
          if (a.name == e.name) bind_resources(e.type, a.type, map);
    }
  }

  static bool same_kind(const ExternType& a, const ExternType& b) { return a.index() == b.index(); }

  // Exported abstract resource types become fresh per instantiation.
  static void freshen_exports(const ExternType& t, ResourceMap& map) {
    if (const auto* b = std::get_if<TypeBound>(&t)) {
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type); r != nullptr && b->sub_resource) {
        auto fresh = std::make_shared<ResourceType>(**r);
        map[r->get()] = fresh;
      }
    } else if (const auto* i = std::get_if<InstanceTypePtr>(&t)) {
      for (const auto& e : (*i)->exports) freshen_exports(e.type, map);
    }
  }

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
      for (const auto& import : ct.imports) {
        auto it = given.find(import.name);
        if (it == given.end()) return r.error("missing instantiation argument named `" + import.name + "`");
        if (!same_kind(import.type, it->second))
          return r.error("instantiation argument `" + import.name + "` has the wrong kind");
        bind_resources(import.type, it->second, map);
      }
      for (const auto& e : ct.exports) freshen_exports(e.type, map);
      for (const auto& e : ct.exports) type->exports.push_back({e.name, binary::substitute(e.type, map)});
      out_.definitions.push_back(InstanceDef{inst});
    } else if (*kind == 0x01) {
      auto n = r.count(3);
      if (!n.ok()) return std::move(n).error();
      std::vector<InlineExport> exports;
      std::set<std::string> names;
      for (uint32_t i = 0; i < *n; ++i) {
        auto name = binary::read_extern_name(r);
        if (!name.ok()) return std::move(name).error();
        STRATUS_TRY(binary::check_name_unique(names, *name, r, "export"));
        auto si = sortidx(r);
        if (!si.ok()) return std::move(si).error();
        auto t = item_type(r, si->sort, si->index);
        if (!t.ok()) return std::move(t).error();
        type->exports.push_back({*name, *t});
        exports.push_back({*name, *si});
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

  Result<CanonOptions> canon_options(Reader& r) {
    CanonOptions o;
    auto n = r.count(1);
    if (!n.ok()) return std::move(n).error();
    bool encoding_set = false;
    for (uint32_t i = 0; i < *n; ++i) {
      auto b = r.u8();
      if (!b.ok()) return std::move(b).error();
      auto index = [&](std::optional<uint32_t>& slot, size_t limit, const char* what) -> Result<void> {
        if (slot) return r.error(std::string("canonical option `") + what + "` is repeated");
        auto idx = r.u32();
        if (!idx.ok()) return std::move(idx).error();
        if (*idx >= limit) return r.error(std::string(what) + " index " + std::to_string(*idx) + " out of range");
        slot = *idx;
        return {};
      };
      switch (*b) {
        case 0x00:
        case 0x01:
        case 0x02:
          if (encoding_set) return r.error("canonical option `string-encoding` is repeated or conflicts");
          encoding_set = true;
          o.encoding = *b == 0 ? StringEncoding::Utf8 : *b == 1 ? StringEncoding::Utf16 : StringEncoding::Latin1Utf16;
          break;
        case 0x03: STRATUS_TRY(index(o.memory, s_.core_memories, "memory")); break;
        case 0x04: STRATUS_TRY(index(o.realloc, s_.core_funcs.size(), "realloc")); break;
        case 0x05: STRATUS_TRY(index(o.post_return, s_.core_funcs.size(), "post-return")); break;
        case 0x06:
          if (o.async) return r.error("canonical option `async` is repeated");
          o.async = true;
          break;
        case 0x07: STRATUS_TRY(index(o.callback, s_.core_funcs.size(), "callback")); break;
        default: return r.error("invalid canonical option");
      }
    }
    if (o.realloc) {
      const auto& f = s_.core_funcs[*o.realloc];
      engine::FuncType want{{engine::ValType::I32, engine::ValType::I32, engine::ValType::I32, engine::ValType::I32},
                            {engine::ValType::I32}};
      if (!(f == want)) return r.error("canonical option `realloc` must have type [i32 i32 i32 i32] -> [i32]");
    }
    return o;
  }

  static bool needs_memory(const ValType& t) {
    if (t.is_primitive()) return t.primitive() == PrimType::String;
    return std::visit(
        [](const auto& k) -> bool {
          using K = std::decay_t<decltype(k)>;
          if constexpr (std::is_same_v<K, ListType>) {
            return !k.length || needs_memory(k.element);
          } else if constexpr (std::is_same_v<K, RecordType>) {
            return std::any_of(k.fields.begin(), k.fields.end(), [](const Field& f) { return needs_memory(f.type); });
          } else if constexpr (std::is_same_v<K, VariantType>) {
            return std::any_of(k.cases.begin(), k.cases.end(),
                               [](const Case& c) { return c.type && needs_memory(*c.type); });
          } else if constexpr (std::is_same_v<K, TupleType>) {
            return std::any_of(k.elements.begin(), k.elements.end(), [](const ValType& e) { return needs_memory(e); });
          } else if constexpr (std::is_same_v<K, OptionType>) {
            return needs_memory(k.element);
          } else if constexpr (std::is_same_v<K, ResultType>) {
            return (k.ok && needs_memory(*k.ok)) || (k.err && needs_memory(*k.err));
          } else if constexpr (std::is_same_v<K, MapType>) {
            return true;
          } else {
            return false;
          }
        },
        t.defined().kind);
  }

  Result<void> check_canon_memory(const Reader& r, const FuncType& ft, const CanonOptions& o, bool lift) {
    bool params_need =
        std::any_of(ft.params.begin(), ft.params.end(), [](const Field& f) { return needs_memory(f.type); });
    bool result_needs = ft.result && needs_memory(*ft.result);
    auto sig = canon::flatten_func(ft, lift ? canon::Direction::Lift : canon::Direction::Lower);
    bool memory = params_need || result_needs || sig.params_indirect || sig.results_indirect;
    if (memory && !o.memory) return r.error("canonical option `memory` is required");
    // The side that receives values into its memory allocates with realloc.
    bool realloc = lift ? (params_need || sig.params_indirect) : result_needs;
    if (realloc && !o.realloc) return r.error("canonical option `realloc` is required");
    return {};
  }

  Result<void> canon(Reader& r) {
    auto op = r.u8();
    if (!op.ok()) return std::move(op).error();
    switch (*op) {
      case 0x00: {
        auto zero = r.u8();
        if (!zero.ok() || *zero != 0x00) return r.error("invalid canon lift");
        auto f = r.u32();
        if (!f.ok()) return std::move(f).error();
        if (*f >= s_.core_funcs.size()) return r.error("core func index " + std::to_string(*f) + " out of range");
        auto opts = canon_options(r);
        if (!opts.ok()) return std::move(opts).error();
        auto t = r.u32();
        if (!t.ok()) return std::move(t).error();
        if (*t >= s_.types.size()) return r.error("type index " + std::to_string(*t) + " out of range");
        const auto* ft = std::get_if<FuncTypePtr>(&s_.types[*t]);
        if (ft == nullptr) return r.error("canon lift: type index " + std::to_string(*t) + " is not a function type");
        if (!opts->async) {
          auto sig = canon::flatten_func(**ft, canon::Direction::Lift);
          const auto& core = s_.core_funcs[*f];
          if (core.params != sig.params || core.results != sig.results)
            return r.error("canon lift: the core function's type does not match the lowered signature");
          STRATUS_TRY(check_canon_memory(r, **ft, *opts, true));
          if (opts->post_return) {
            engine::FuncType want{sig.results, {}};
            if (!(s_.core_funcs[*opts->post_return] == want))
              return r.error("canon lift: post-return has the wrong type");
          }
        }
        s_.funcs.push_back(*ft);
        out_.definitions.push_back(CanonDef{CanonLift{*f, *opts, *ft}});
        return {};
      }
      case 0x01: {
        auto zero = r.u8();
        if (!zero.ok() || *zero != 0x00) return r.error("invalid canon lower");
        auto f = r.u32();
        if (!f.ok()) return std::move(f).error();
        if (*f >= s_.funcs.size()) return r.error("func index " + std::to_string(*f) + " out of range");
        auto opts = canon_options(r);
        if (!opts.ok()) return std::move(opts).error();
        if (opts->post_return) return r.error("canon lower: `post-return` is not allowed");
        const auto& ft = *s_.funcs[*f];
        auto sig = canon::flatten_func(ft, canon::Direction::Lower);
        if (!opts->async) {
          STRATUS_TRY(check_canon_memory(r, ft, *opts, false));
        } else {
          // flatten_functype's async lowering: at most 4 flat parameters,
          // the result through an out-pointer, an i32 status returned.
          std::vector<engine::ValType> params, results;
          for (const auto& p : ft.params) canon::flatten_into(p.type, params);
          if (ft.result) canon::flatten_into(*ft.result, results);
          if (params.size() > canon::kMaxFlatAsyncParams) params = {engine::ValType::I32};
          if (!results.empty()) params.push_back(engine::ValType::I32);
          sig.params = params;
          sig.results = {engine::ValType::I32};
        }
        s_.core_funcs.push_back(engine::FuncType{sig.params, sig.results});
        out_.definitions.push_back(CanonDef{CanonLower{*f, *opts}});
        return {};
      }
      case 0x02:
      case 0x03:
      case 0x04:
      case 0x07: {
        auto t = r.u32();
        if (!t.ok()) return std::move(t).error();
        if (*t >= s_.types.size()) return r.error("type index " + std::to_string(*t) + " out of range");
        const auto* res = std::get_if<ResourceTypePtr>(&s_.types[*t]);
        if (res == nullptr) return r.error("type index " + std::to_string(*t) + " is not a resource type");
        if ((*op == 0x02 || *op == 0x04) && !(*res)->defined)
          return r.error("resource.new and resource.rep need a resource type defined in this component");
        engine::FuncType core{{engine::ValType::I32}, {}};
        if (*op == 0x02) {
          s_.core_funcs.push_back({{engine::ValType::I32}, {engine::ValType::I32}});
          out_.definitions.push_back(CanonDef{CanonResourceNew{*res}});
        } else if (*op == 0x04) {
          s_.core_funcs.push_back({{engine::ValType::I32}, {engine::ValType::I32}});
          out_.definitions.push_back(CanonDef{CanonResourceRep{*res}});
        } else {
          s_.core_funcs.push_back(core);
          out_.definitions.push_back(CanonDef{CanonResourceDrop{*res, *op == 0x07}});
        }
        return {};
      }
      default: return builtin(r, *op);
    }
  }

  // The async, stream, future, error-context and thread built-ins: decoded
  // (immediates read and checked) and kept by name.
  Result<void> builtin(Reader& r, uint8_t op) {
    CanonBuiltin b;
    b.opcode = op;
    auto type_idx = [&]() -> Result<void> {
      auto t = r.u32();
      if (!t.ok()) return std::move(t).error();
      if (*t >= s_.types.size()) return r.error("type index " + std::to_string(*t) + " out of range");
      if (const auto* v = std::get_if<ValType>(&s_.types[*t])) b.type = *v;
      return {};
    };
    auto flag = [&]() -> Result<void> {
      auto f = r.u8();
      if (!f.ok()) return std::move(f).error();
      if (*f > 1) return r.error("invalid flag");
      return {};
    };
    auto opts = [&]() -> Result<void> {
      auto o = canon_options(r);
      if (!o.ok()) return std::move(o).error();
      b.options = *o;
      return {};
    };
    auto u32 = [&]() -> Result<void> {
      auto v = r.u32();
      if (!v.ok()) return std::move(v).error();
      return {};
    };
    switch (op) {
      case 0x24: b.name = "backpressure.inc"; break;
      case 0x25: b.name = "backpressure.dec"; break;
      case 0x09: {
        b.name = "task.return";
        auto kind = r.u8();
        if (!kind.ok()) return std::move(kind).error();
        if (*kind == 0x00) {
          auto t = binary::read_valtype(r, s_);
          if (!t.ok()) return std::move(t).error();
          b.type = *t;
        } else if (*kind == 0x01) {
          auto z = r.u8();
          if (!z.ok() || *z != 0) return r.error("invalid result list");
        } else {
          return r.error("invalid result list");
        }
        STRATUS_TRY(opts());
        break;
      }
      case 0x05: b.name = "task.cancel"; break;
      case 0x0a:
      case 0x0b: {
        b.name = op == 0x0a ? "context.get" : "context.set";
        auto t = r.u8();
        if (!t.ok()) return std::move(t).error();
        if (*t != 0x7f) return r.error("context slots are i32");
        STRATUS_TRY(u32());
        break;
      }
      case 0x06:
        b.name = "subtask.cancel";
        STRATUS_TRY(flag());
        break;
      case 0x0d: b.name = "subtask.drop"; break;
      case 0x0e:
        b.name = "stream.new";
        STRATUS_TRY(type_idx());
        break;
      case 0x0f:
        b.name = "stream.read";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(opts());
        break;
      case 0x10:
        b.name = "stream.write";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(opts());
        break;
      case 0x11:
        b.name = "stream.cancel-read";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(flag());
        break;
      case 0x12:
        b.name = "stream.cancel-write";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(flag());
        break;
      case 0x13:
        b.name = "stream.drop-readable";
        STRATUS_TRY(type_idx());
        break;
      case 0x14:
        b.name = "stream.drop-writable";
        STRATUS_TRY(type_idx());
        break;
      case 0x15:
        b.name = "future.new";
        STRATUS_TRY(type_idx());
        break;
      case 0x16:
        b.name = "future.read";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(opts());
        break;
      case 0x17:
        b.name = "future.write";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(opts());
        break;
      case 0x18:
        b.name = "future.cancel-read";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(flag());
        break;
      case 0x19:
        b.name = "future.cancel-write";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(flag());
        break;
      case 0x1a:
        b.name = "future.drop-readable";
        STRATUS_TRY(type_idx());
        break;
      case 0x1b:
        b.name = "future.drop-writable";
        STRATUS_TRY(type_idx());
        break;
      case 0x1c:
        b.name = "error-context.new";
        STRATUS_TRY(opts());
        break;
      case 0x1d:
        b.name = "error-context.debug-message";
        STRATUS_TRY(opts());
        break;
      case 0x1e: b.name = "error-context.drop"; break;
      case 0x1f: b.name = "waitable-set.new"; break;
      case 0x20:
      case 0x21:
        b.name = op == 0x20 ? "waitable-set.wait" : "waitable-set.poll";
        STRATUS_TRY(flag());
        STRATUS_TRY(u32());
        break;
      case 0x22: b.name = "waitable-set.drop"; break;
      case 0x23: b.name = "waitable.join"; break;
      case 0x26: b.name = "thread.index"; break;
      case 0x27:
        b.name = "thread.new-indirect";
        STRATUS_TRY(u32());
        STRATUS_TRY(u32());
        break;
      case 0x28: b.name = "thread.resume-later"; break;
      case 0x29:
        b.name = "thread.suspend";
        STRATUS_TRY(flag());
        break;
      case 0x0c:
        b.name = "thread.yield";
        STRATUS_TRY(flag());
        break;
      case 0x2a:
        b.name = "thread.suspend-then-resume";
        STRATUS_TRY(flag());
        break;
      case 0x2b:
        b.name = "thread.yield-then-resume";
        STRATUS_TRY(flag());
        break;
      case 0x2c:
        b.name = "thread.suspend-then-promote";
        STRATUS_TRY(flag());
        break;
      case 0x2d:
        b.name = "thread.yield-then-promote";
        STRATUS_TRY(flag());
        break;
      default: return r.error("unknown canon opcode " + std::to_string(op));
    }
    // The core type of a built-in matters only to modules that import it;
    // the sync runtime refuses these at instantiation.
    s_.untyped_core_funcs.insert(s_.core_funcs.size());
    s_.core_funcs.push_back(engine::FuncType{});
    out_.definitions.push_back(CanonDef{b});
    return {};
  }

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
    STRATUS_TRY(binary::check_name_unique(s_.import_names, *name, r, "import"));
    auto t = binary::read_externtype(r, s_, *name);
    if (!t.ok()) return std::move(t).error();
    binary::add_extern_to_spaces(s_, *t);
    s_.imports.push_back({*name, *t});
    out_.definitions.push_back(ImportDef{*name, *t});
    return {};
  }

  Result<void> export_(Reader& r) {
    auto name = binary::read_extern_name(r);
    if (!name.ok()) return std::move(name).error();
    STRATUS_TRY(binary::check_name_unique(s_.export_names, *name, r, "export"));
    auto si = sortidx(r);
    if (!si.ok()) return std::move(si).error();
    auto inferred = item_type(r, si->sort, si->index);
    if (!inferred.ok()) return std::move(inferred).error();
    ExternType type = *inferred;
    auto has_type = r.u8();
    if (!has_type.ok()) return std::move(has_type).error();
    if (*has_type == 0x01) {
      auto ascribed = binary::read_externtype(r, s_, *name);
      if (!ascribed.ok()) return std::move(ascribed).error();
      if (!same_kind(*ascribed, *inferred)) return r.error("export `" + *name + "`: ascribed type has the wrong kind");
      type = *ascribed;
    } else if (*has_type != 0x00) {
      return r.error("invalid optional flag");
    } else if (auto* b = std::get_if<TypeBound>(&type)) {
      // An exported resource is seen from outside as an abstract one.
      if (const auto* res = std::get_if<ResourceTypePtr>(&b->type)) {
        b->sub_resource = false;
        (void)res;
      }
    }
    binary::add_extern_to_spaces(s_, type);
    s_.exports.push_back({*name, type});
    out_.definitions.push_back(ExportDef{*name, *si, type});
    return {};
  }

  Scope& s_;
  Component& out_;
};

}  // namespace

bool is_component(std::span<const uint8_t> bytes) {
  return bytes.size() >= 8 && bytes[0] == 0x00 && bytes[1] == 0x61 && bytes[2] == 0x73 && bytes[3] == 0x6d &&
         bytes[6] == 0x01 && bytes[7] == 0x00;
}

Result<ComponentPtr> decode_component(std::span<const uint8_t> bytes) {
  Scope scope;
  auto component = std::make_shared<Component>();
  Decoder decoder(scope, *component);
  STRATUS_TRY(decoder.decode(bytes, 0));
  return ComponentPtr(component);
}

}  // namespace stratus::component
