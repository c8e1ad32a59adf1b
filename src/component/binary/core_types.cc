// Core types inside components (Binary.md, "Type Definitions", core:type):
// function types, the WebAssembly 3.0 subtype forms of them, and module types.
#include <algorithm>
#include <type_traits>

#include "component/binary/scope.h"

namespace stratus::component::binary {
namespace {

Result<engine::ValType> core_valtype(Reader& r) {
  auto b = r.u8();
  if (!b.ok()) return std::move(b).error();
  switch (*b) {
    case 0x7f: return engine::ValType::I32;
    case 0x7e: return engine::ValType::I64;
    case 0x7d: return engine::ValType::F32;
    case 0x7c: return engine::ValType::F64;
    case 0x7b: return engine::ValType::V128;
    case 0x70: return engine::ValType::FuncRef;
    case 0x6f: return engine::ValType::ExternRef;
    default: return r.error("invalid core value type");
  }
}

Result<void> check_unique_import(const Reader& r, const std::vector<engine::ImportDesc>& imports,
                                 const std::string& module, const std::string& field) {
  for (const auto& i : imports) {
    if (i.module == module && i.name == field)
      return r.error("duplicate import name `" + module + ":" + field + "` (two-level import names must be unique)");
  }
  return {};
}

Result<engine::Limits> core_limits(Reader& r) {
  auto flag = r.u8();
  if (!flag.ok()) return std::move(flag).error();
  engine::Limits l;
  auto min = r.u32();
  if (!min.ok()) return std::move(min).error();
  l.min = *min;
  if (*flag & 1) {
    auto max = r.u32();
    if (!max.ok()) return std::move(max).error();
    l.max = *max;
  }
  if (*flag > 3) return r.error("invalid limits flags");
  return l;
}

Result<engine::ExternType> core_externtype(Reader& r, const std::vector<CoreTypeEntry>& types) {
  auto kind = r.u8();
  if (!kind.ok()) return std::move(kind).error();
  switch (*kind) {
    case 0x00: {
      auto idx = r.u32();
      if (!idx.ok()) return std::move(idx).error();
      if (*idx >= types.size()) return r.error("core type index out of range");
      const auto* f = std::get_if<engine::FuncType>(&types[*idx]);
      if (f == nullptr) return r.error("core type index is not a function type");
      return engine::ExternType(*f);
    }
    case 0x01: {
      auto t = core_valtype(r);
      if (!t.ok()) return std::move(t).error();
      auto l = core_limits(r);
      if (!l.ok()) return std::move(l).error();
      return engine::ExternType(engine::TableType{*t, *l});
    }
    case 0x02: {
      auto l = core_limits(r);
      if (!l.ok()) return std::move(l).error();
      constexpr uint64_t kMaxPages = 65536;  // 4 GiB of 64 KiB pages
      if (l->min > kMaxPages || (l->max && *l->max > kMaxPages))
        return r.error("memory size must be at most 65536 pages (4GiB)");
      if (l->max && *l->max < l->min) return r.error("size minimum must not be greater than maximum");
      return engine::ExternType(engine::MemoryType{*l});
    }
    case 0x03: {
      auto t = core_valtype(r);
      if (!t.ok()) return std::move(t).error();
      auto m = r.u8();
      if (!m.ok()) return std::move(m).error();
      if (*m > 1) return r.error("invalid mutability");
      return engine::ExternType(engine::GlobalType{*t, *m == 1});
    }
    case 0x04: {
      // An exception tag: attribute 0 (exception) and a function type with
      // no results.
      auto attribute = r.u8();
      if (!attribute.ok()) return std::move(attribute).error();
      if (*attribute != 0) return r.error("invalid tag attribute");
      auto idx = r.u32();
      if (!idx.ok()) return std::move(idx).error();
      if (*idx >= types.size()) return r.error("core type index out of range");
      const auto* f = std::get_if<engine::FuncType>(&types[*idx]);
      if (f == nullptr) return r.error("core type index is not a function type");
      if (!f->results.empty()) return r.error("non-empty tag result type");
      return engine::ExternType(engine::TagType{f->params});
    }
    default: return r.error("invalid core extern kind");
  }
}

Result<engine::FuncType> core_functype(Reader& r) {
  engine::FuncType f;
  for (auto* list : {&f.params, &f.results}) {
    auto n = r.count(1);
    if (!n.ok()) return std::move(n).error();
    for (uint32_t i = 0; i < *n; ++i) {
      auto t = core_valtype(r);
      if (!t.ok()) return std::move(t).error();
      list->push_back(*t);
    }
  }
  return f;
}

Result<CoreModuleTypePtr> core_moduletype(Reader& r, Scope& outer) {
  auto mt = std::make_shared<CoreModuleType>();
  std::vector<CoreTypeEntry> types;  // each module type starts with an empty type index space
  auto n = r.count(1);
  if (!n.ok()) return std::move(n).error();
  for (uint32_t i = 0; i < *n; ++i) {
    auto kind = r.u8();
    if (!kind.ok()) return std::move(kind).error();
    switch (*kind) {
      case 0x00: {
        auto module = r.name();
        if (!module.ok()) return std::move(module).error();
        auto field = r.name();
        if (!field.ok()) return std::move(field).error();
        auto t = core_externtype(r, types);
        if (!t.ok()) return std::move(t).error();
        STRATUS_TRY(check_unique_import(r, mt->imports, *module, *field));
        mt->imports.push_back({*module, *field, *t});
        break;
      }
      case 0x01: {
        auto b = r.u8();
        if (!b.ok()) return std::move(b).error();
        if (*b != 0x60) return r.error("module types may only declare function types");
        auto f = core_functype(r);
        if (!f.ok()) return std::move(f).error();
        types.push_back(*f);
        break;
      }
      case 0x02: {
        auto sort = r.u8();
        auto kind2 = r.u8();
        if (!sort.ok() || !kind2.ok() || *sort != 0x10 || *kind2 != 0x01) return r.error("invalid core alias");
        auto ct = r.u32();
        if (!ct.ok()) return std::move(ct).error();
        auto idx = r.u32();
        if (!idx.ok()) return std::move(idx).error();
        Scope* target = &outer;
        for (uint32_t k = 1; k < *ct && target != nullptr; ++k) target = target->parent;
        if (*ct == 0 || target == nullptr) return r.error("outer alias count out of range");
        if (*idx >= target->core_types.size()) return r.error("outer alias index out of range");
        if (!std::holds_alternative<engine::FuncType>(target->core_types[*idx]))
          return r.error("module types cannot alias module types");
        types.push_back(target->core_types[*idx]);
        break;
      }
      case 0x03: {
        auto name = r.name();
        if (!name.ok()) return std::move(name).error();
        auto t = core_externtype(r, types);
        if (!t.ok()) return std::move(t).error();
        for (const auto& e : mt->exports)
          if (e.name == *name) return r.error("duplicate export name `" + *name + "`");
        mt->exports.push_back({*name, *t});
        break;
      }
      default: return r.error("invalid module type declarator");
    }
  }
  return CoreModuleTypePtr(mt);
}

// Skips a constant expression (a global's initialiser) up to its `end`:
// the instructions the core spec and extended-const allow there.
Result<void> skip_const_expr(Reader& r) {
  auto skip_leb = [&]() -> Result<void> {
    for (int i = 0; i < 10; ++i) {
      auto b = r.u8();
      if (!b.ok()) return std::move(b).error();
      if ((*b & 0x80) == 0) return {};
    }
    return r.error("integer representation too long");
  };
  for (;;) {
    auto op = r.u8();
    if (!op.ok()) return std::move(op).error();
    switch (*op) {
      case 0x0b: return {};  // end
      case 0x41:             // i32.const
      case 0x42:             // i64.const
      case 0x23:             // global.get
      case 0xd2:             // ref.func
        STRATUS_TRY(skip_leb());
        break;
      case 0x43: STRATUS_TRY(r.bytes(4)); break;  // f32.const
      case 0x44: STRATUS_TRY(r.bytes(8)); break;  // f64.const
      case 0xd0: STRATUS_TRY(r.u8()); break;      // ref.null t
      case 0x6a:
      case 0x6b:
      case 0x6c:  // i32.add, i32.sub, i32.mul
      case 0x7c:
      case 0x7d:
      case 0x7e:  // i64.add, i64.sub, i64.mul
        break;
      case 0xfd: {  // v128.const
        auto sub = r.u32();
        if (!sub.ok()) return std::move(sub).error();
        if (*sub != 12) return r.error("instruction not allowed in a constant expression");
        STRATUS_TRY(r.bytes(16));
        break;
      }
      default: return r.error("instruction not allowed in a constant expression");
    }
  }
}

}  // namespace

Result<engine::ModuleTypeInfo> read_core_module_header(std::span<const uint8_t> bytes, size_t base) {
  Reader r(bytes, base);
  auto header = r.bytes(8);
  if (!header.ok()) return r.error("too short to be a core module");
  static const uint8_t kPreamble[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  if (!std::equal(kPreamble, kPreamble + 8, header->begin())) return Reader::error_at(base, "bad core module preamble");
  std::vector<CoreTypeEntry> types;
  std::vector<engine::FuncType> funcs;
  std::vector<engine::TableType> tables;
  std::vector<engine::MemoryType> memories;
  std::vector<engine::GlobalType> globals;
  std::vector<engine::TagType> tags;
  engine::ModuleTypeInfo info;
  auto type_at = [&](Reader& s) -> Result<engine::FuncType> {
    auto idx = s.u32();
    if (!idx.ok()) return std::move(idx).error();
    if (*idx >= types.size()) return s.error("type index out of range");
    return std::get<engine::FuncType>(types[*idx]);
  };
  while (!r.done()) {
    auto id = r.u8();
    if (!id.ok()) return std::move(id).error();
    auto size = r.u32();
    if (!size.ok()) return std::move(size).error();
    size_t at = r.offset();
    auto body = r.bytes(*size);
    if (!body.ok()) return r.error("section extends past the end of the module");
    Reader s(*body, at);
    // Sections other than these hold code, data and element segments,
    // start and names: checked when the module is compiled.
    if (*id != 1 && *id != 2 && *id != 3 && *id != 4 && *id != 5 && *id != 6 && *id != 7 && *id != 13) continue;
    auto n = s.count(1);
    if (!n.ok()) return std::move(n).error();
    for (uint32_t i = 0; i < *n; ++i) {
      switch (*id) {
        case 1: {  // type
          auto form = s.u8();
          if (!form.ok()) return std::move(form).error();
          if (*form != 0x60) return s.error("only function types are supported");
          auto f = core_functype(s);
          if (!f.ok()) return std::move(f).error();
          types.emplace_back(std::move(*f));
          break;
        }
        case 2: {  // import
          auto module = s.name();
          if (!module.ok()) return std::move(module).error();
          auto field = s.name();
          if (!field.ok()) return std::move(field).error();
          auto t = core_externtype(s, types);
          if (!t.ok()) return std::move(t).error();
          std::visit(
              [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, engine::FuncType>) funcs.push_back(x);
                if constexpr (std::is_same_v<T, engine::TableType>) tables.push_back(x);
                if constexpr (std::is_same_v<T, engine::MemoryType>) memories.push_back(x);
                if constexpr (std::is_same_v<T, engine::GlobalType>) globals.push_back(x);
                if constexpr (std::is_same_v<T, engine::TagType>) tags.push_back(x);
              },
              *t);
          info.imports.push_back({std::move(*module), std::move(*field), std::move(*t)});
          break;
        }
        case 3: {  // function
          auto f = type_at(s);
          if (!f.ok()) return std::move(f).error();
          funcs.push_back(std::move(*f));
          break;
        }
        case 4: {  // table
          auto element = core_valtype(s);
          if (!element.ok()) return std::move(element).error();
          auto l = core_limits(s);
          if (!l.ok()) return std::move(l).error();
          tables.push_back({*element, *l});
          break;
        }
        case 5: {  // memory
          auto l = core_limits(s);
          if (!l.ok()) return std::move(l).error();
          memories.push_back({*l});
          break;
        }
        case 6: {  // global
          auto t = core_valtype(s);
          if (!t.ok()) return std::move(t).error();
          auto m = s.u8();
          if (!m.ok()) return std::move(m).error();
          if (*m > 1) return s.error("invalid mutability");
          STRATUS_TRY(skip_const_expr(s));
          globals.push_back({*t, *m == 1});
          break;
        }
        case 13: {  // tag
          auto attribute = s.u8();
          if (!attribute.ok()) return std::move(attribute).error();
          if (*attribute != 0) return s.error("invalid tag attribute");
          auto f = type_at(s);
          if (!f.ok()) return std::move(f).error();
          tags.push_back({std::move(f->params)});
          break;
        }
        case 7: {  // export
          auto name = s.name();
          if (!name.ok()) return std::move(name).error();
          auto kind = s.u8();
          if (!kind.ok()) return std::move(kind).error();
          auto idx = s.u32();
          if (!idx.ok()) return std::move(idx).error();
          auto pick = [&](const auto& space) -> Result<engine::ExternType> {
            if (*idx >= space.size()) return s.error("export `" + *name + "`: index out of range");
            return engine::ExternType(space[*idx]);
          };
          Result<engine::ExternType> t = s.error("export `" + *name + "`: invalid export kind");
          switch (*kind) {
            case 0: t = pick(funcs); break;
            case 1: t = pick(tables); break;
            case 2: t = pick(memories); break;
            case 3: t = pick(globals); break;
            case 4: t = pick(tags); break;
            default: break;
          }
          if (!t.ok()) return std::move(t).error();
          for (const auto& e : info.exports)
            if (e.name == *name) return s.error("duplicate export name `" + *name + "`");
          info.exports.push_back({std::move(*name), std::move(*t)});
          break;
        }
        default: break;
      }
    }
    if (!s.done()) return s.error("section size mismatch");
  }
  return info;
}

Result<CoreTypeEntry> read_core_type(Reader& r, Scope& s) {
  auto op = r.u8();
  if (!op.ok()) return std::move(op).error();
  if (*op == 0x60) {
    auto f = core_functype(r);
    if (!f.ok()) return std::move(f).error();
    return CoreTypeEntry(*f);
  }
  if (*op == 0x50) {
    auto m = core_moduletype(r, s);
    if (!m.ok()) return std::move(m).error();
    return CoreTypeEntry(*m);
  }
  // WebAssembly 3.0 subtypes of function types (a bare 0x50 is a module
  // type, so a non-final subtype takes a 0x00 prefix); a rec group of one.
  if (*op == 0x4e) {
    auto n = r.u32();
    if (!n.ok()) return std::move(n).error();
    if (*n != 1) return r.error("core rec groups of more than one type are not supported");
    op = r.u8();
    if (!op.ok()) return std::move(op).error();
  }
  if (*op == 0x00) {
    op = r.u8();
    if (!op.ok()) return std::move(op).error();
    if (*op != 0x50) return r.error("invalid core type after a 0x00 prefix");
  }
  if (*op == 0x50 || *op == 0x4f) {
    auto supers = r.count(1);
    if (!supers.ok()) return std::move(supers).error();
    for (uint32_t i = 0; i < *supers; ++i) {
      auto idx = r.u32();
      if (!idx.ok()) return std::move(idx).error();
      if (*idx >= s.core_types.size()) return r.error("core supertype index out of range");
    }
    op = r.u8();
    if (!op.ok()) return std::move(op).error();
  }
  if (*op == 0x60) {
    auto f = core_functype(r);
    if (!f.ok()) return std::move(f).error();
    return CoreTypeEntry(*f);
  }
  return r.error("unsupported core type (GC struct and array types are not supported)");
}

}  // namespace stratus::component::binary
