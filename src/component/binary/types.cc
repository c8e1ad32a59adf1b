// Type definitions, extern types, names and aliases of the component binary
// format (Binary.md), resolved into types.h as they are read.
#include <algorithm>

#include "component/binary/scope.h"

namespace stratus::component::binary {
namespace {

std::optional<PrimType> prim_from_code(int64_t code) {
  switch (code) {
    case -0x01: return PrimType::Bool;
    case -0x02: return PrimType::S8;
    case -0x03: return PrimType::U8;
    case -0x04: return PrimType::S16;
    case -0x05: return PrimType::U16;
    case -0x06: return PrimType::S32;
    case -0x07: return PrimType::U32;
    case -0x08: return PrimType::S64;
    case -0x09: return PrimType::U64;
    case -0x0a: return PrimType::F32;
    case -0x0b: return PrimType::F64;
    case -0x0c: return PrimType::Char;
    case -0x0d: return PrimType::String;
    case -0x1c: return PrimType::ErrorContext;
    default: return std::nullopt;
  }
}

Result<std::string> label(Reader& r) {
  size_t at = r.offset();
  auto l = r.name();
  if (!l.ok()) return l;
  if (l->empty()) return Reader::error_at(at, "empty label");
  return l;
}

Result<ResourceTypePtr> resource_at(const Scope& s, uint32_t idx, const Reader& r) {
  if (idx >= s.types.size()) return r.error("type index " + std::to_string(idx) + " out of range");
  const auto* res = std::get_if<ResourceTypePtr>(&s.types[idx]);
  if (res == nullptr) return r.error("type index " + std::to_string(idx) + " is not a resource type");
  return *res;
}

Result<std::optional<ValType>> optional_valtype(Reader& r, Scope& s) {
  auto flag = r.u8();
  if (!flag.ok()) return std::move(flag).error();
  if (*flag == 0) return std::optional<ValType>();
  if (*flag != 1) return r.error("invalid optional flag " + std::to_string(*flag));
  auto t = read_valtype(r, s);
  if (!t.ok()) return std::move(t).error();
  return std::optional<ValType>(*t);
}

Result<ValType> read_defvaltype(Reader& r, Scope& s, uint8_t op) {
  size_t at = r.offset() - 1;
  switch (op) {
    case 0x72: {
      auto n = r.count(2);
      if (!n.ok()) return std::move(n).error();
      if (*n == 0) return Reader::error_at(at, "record type must have at least one field");
      RecordType rec;
      std::set<std::string> seen;
      for (uint32_t i = 0; i < *n; ++i) {
        auto l = label(r);
        if (!l.ok()) return std::move(l).error();
        if (!seen.insert(*l).second) return r.error("duplicate field name `" + *l + "`");
        auto t = read_valtype(r, s);
        if (!t.ok()) return std::move(t).error();
        rec.fields.push_back({*l, *t});
      }
      return make_type(std::move(rec));
    }
    case 0x71: {
      auto n = r.count(3);
      if (!n.ok()) return std::move(n).error();
      if (*n == 0) return Reader::error_at(at, "variant type must have at least one case");
      VariantType var;
      std::set<std::string> seen;
      for (uint32_t i = 0; i < *n; ++i) {
        auto l = label(r);
        if (!l.ok()) return std::move(l).error();
        if (!seen.insert(*l).second) return r.error("duplicate case name `" + *l + "`");
        auto t = optional_valtype(r, s);
        if (!t.ok()) return std::move(t).error();
        auto refines = r.u8();
        if (!refines.ok()) return std::move(refines).error();
        if (*refines != 0) return r.error("variant case refinements are not supported");
        var.cases.push_back({*l, *t});
      }
      return make_type(std::move(var));
    }
    case 0x70:
    case 0x67: {
      auto t = read_valtype(r, s);
      if (!t.ok()) return std::move(t).error();
      ListType list{*t, std::nullopt};
      if (op == 0x67) {
        auto len = r.u32();
        if (!len.ok()) return std::move(len).error();
        if (*len == 0) return Reader::error_at(at, "fixed-length list must have a length greater than 0");
        list.length = *len;
      }
      return make_type(std::move(list));
    }
    case 0x6f: {
      auto n = r.count(1);
      if (!n.ok()) return std::move(n).error();
      if (*n == 0) return Reader::error_at(at, "tuple type must have at least one element");
      TupleType tup;
      for (uint32_t i = 0; i < *n; ++i) {
        auto t = read_valtype(r, s);
        if (!t.ok()) return std::move(t).error();
        tup.elements.push_back(*t);
      }
      return make_type(std::move(tup));
    }
    case 0x6e:
    case 0x6d: {
      auto n = r.count(2);
      if (!n.ok()) return std::move(n).error();
      if (*n == 0)
        return Reader::error_at(at,
                                op == 0x6e ? "flags must have at least one flag" : "enum must have at least one case");
      if (op == 0x6e && *n > 32) return Reader::error_at(at, "cannot have more than 32 flags");
      std::vector<std::string> names;
      std::set<std::string> seen;
      for (uint32_t i = 0; i < *n; ++i) {
        auto l = label(r);
        if (!l.ok()) return std::move(l).error();
        if (!seen.insert(*l).second) return r.error("duplicate name `" + *l + "`");
        names.push_back(*l);
      }
      if (op == 0x6e) return make_type(FlagsType{std::move(names)});
      return make_type(EnumType{std::move(names)});
    }
    case 0x6b: {
      auto t = read_valtype(r, s);
      if (!t.ok()) return std::move(t).error();
      return make_type(OptionType{*t});
    }
    case 0x6a: {
      auto ok = optional_valtype(r, s);
      if (!ok.ok()) return std::move(ok).error();
      auto err = optional_valtype(r, s);
      if (!err.ok()) return std::move(err).error();
      return make_type(ResultType{*ok, *err});
    }
    case 0x69:
    case 0x68: {
      auto idx = r.u32();
      if (!idx.ok()) return std::move(idx).error();
      auto res = resource_at(s, *idx, r);
      if (!res.ok()) return std::move(res).error();
      if (op == 0x69) return make_type(OwnType{*res});
      return make_type(BorrowType{*res});
    }
    case 0x66:
    case 0x65: {
      auto t = optional_valtype(r, s);
      if (!t.ok()) return std::move(t).error();
      if (op == 0x66) return make_type(StreamType{*t});
      return make_type(FutureType{*t});
    }
    case 0x63: {
      auto k = read_valtype(r, s);
      if (!k.ok()) return std::move(k).error();
      auto v = read_valtype(r, s);
      if (!v.ok()) return std::move(v).error();
      return make_type(MapType{*k, *v});
    }
    default: {
      auto p = prim_from_code(static_cast<int64_t>(op) - 0x80);  // a one-byte negative SLEB128
      if (p) return ValType(*p);
      return Reader::error_at(
          at, "invalid type opcode 0x" + [&] {
            char buf[8];
            std::snprintf(buf, sizeof buf, "%02x", op);
            return std::string(buf);
          }());
    }
  }
}

Result<FuncTypePtr> read_functype(Reader& r, Scope& s, bool async) {
  auto ft = std::make_shared<FuncType>();
  ft->async = async;
  auto n = r.count(2);
  if (!n.ok()) return std::move(n).error();
  std::set<std::string> seen;
  for (uint32_t i = 0; i < *n; ++i) {
    auto l = label(r);
    if (!l.ok()) return std::move(l).error();
    if (!seen.insert(*l).second) return r.error("duplicate parameter name `" + *l + "`");
    auto t = read_valtype(r, s);
    if (!t.ok()) return std::move(t).error();
    ft->params.push_back({*l, *t});
  }
  auto kind = r.u8();
  if (!kind.ok()) return std::move(kind).error();
  if (*kind == 0x00) {
    auto t = read_valtype(r, s);
    if (!t.ok()) return std::move(t).error();
    ft->result = *t;
  } else if (*kind == 0x01) {
    auto zero = r.u8();
    if (!zero.ok()) return std::move(zero).error();
    if (*zero != 0) return r.error("named results are not supported");
  } else {
    return r.error("invalid result list");
  }
  return FuncTypePtr(ft);
}

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
    default: return r.error("unsupported core extern kind (tags are not supported)");
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

Result<void> read_type_declarators(Reader& r, Scope& scope, bool component_type);

}  // namespace

Result<ValType> read_valtype(Reader& r, Scope& s) {
  size_t at = r.offset();
  auto code = r.s33();
  if (!code.ok()) return std::move(code).error();
  if (*code < 0) {
    auto p = prim_from_code(*code);
    if (!p) return Reader::error_at(at, "invalid value type");
    return ValType(*p);
  }
  auto idx = static_cast<uint64_t>(*code);
  if (idx >= s.types.size()) return Reader::error_at(at, "type index " + std::to_string(idx) + " out of range");
  const auto* v = std::get_if<ValType>(&s.types[idx]);
  if (v == nullptr) return Reader::error_at(at, "type index " + std::to_string(idx) + " is not a value type");
  return *v;
}

Result<TypeEntry> read_deftype(Reader& r, Scope& s) {
  auto op = r.u8();
  if (!op.ok()) return std::move(op).error();
  switch (*op) {
    case 0x40:
    case 0x43: {
      auto f = read_functype(r, s, *op == 0x43);
      if (!f.ok()) return std::move(f).error();
      return TypeEntry(*f);
    }
    case 0x41:
    case 0x42: {
      if (s.depth + 1 > kMaxDepth) return r.error("types nested too deeply");
      Scope inner;
      inner.parent = &s;
      inner.is_component = false;
      inner.depth = s.depth + 1;
      STRATUS_TRY(read_type_declarators(r, inner, *op == 0x41));
      if (*op == 0x41) {
        auto ct = std::make_shared<ComponentType>();
        ct->imports = std::move(inner.imports);
        ct->exports = std::move(inner.exports);
        return TypeEntry(ComponentTypePtr(ct));
      }
      auto it = std::make_shared<InstanceType>();
      it->exports = std::move(inner.exports);
      return TypeEntry(InstanceTypePtr(it));
    }
    case 0x3f: {
      if (!s.is_component) return r.error("resource types cannot be defined inside component or instance types");
      auto rep = r.u8();
      if (!rep.ok()) return std::move(rep).error();
      if (*rep != 0x7f) return r.error("resource representation must be i32");
      auto res = std::make_shared<ResourceType>();
      res->defined = true;
      res->name = "resource" + std::to_string(s.types.size());
      auto has_dtor = r.u8();
      if (!has_dtor.ok()) return std::move(has_dtor).error();
      if (*has_dtor == 1) {
        auto f = r.u32();
        if (!f.ok()) return std::move(f).error();
        if (*f >= s.core_funcs.size()) return r.error("destructor core func index out of range");
        const auto& ft = s.core_funcs[*f];
        if (ft.params != std::vector<engine::ValType>{engine::ValType::I32} || !ft.results.empty())
          return r.error("resource destructor must have type [i32] -> []");
        res->dtor_core_func = *f;
      } else if (*has_dtor != 0) {
        return r.error("invalid optional flag");
      }
      return TypeEntry(ResourceTypePtr(res));
    }
    default: {
      auto v = read_defvaltype(r, s, *op);
      if (!v.ok()) return std::move(v).error();
      return TypeEntry(*v);
    }
  }
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
  return r.error("unsupported core type (GC types are not supported)");
}

Result<std::string> read_extern_name(Reader& r) {
  auto kind = r.u8();
  if (!kind.ok()) return std::move(kind).error();
  if (*kind > 0x02) return r.error("invalid extern name kind");
  size_t at = r.offset();
  auto name = r.name();
  if (!name.ok()) return name;
  if (name->empty()) return Reader::error_at(at, "empty extern name");
  if (*kind == 0x02) {
    auto n = r.count(1);
    if (!n.ok()) return std::move(n).error();
    std::set<uint8_t> seen;
    for (uint32_t i = 0; i < *n; ++i) {
      auto a = r.u8();
      if (!a.ok()) return std::move(a).error();
      if (*a > 0x02) return r.error("invalid name attribute");
      if (!seen.insert(*a).second) return r.error("duplicate name attribute");
      auto v = r.name();
      if (!v.ok()) return std::move(v).error();
    }
  }
  return name;
}

Result<void> check_name_unique(std::set<std::string>& names, const std::string& name, const Reader& r,
                               const char* what) {
  if (!names.insert(name).second) return r.error(std::string("duplicate ") + what + " name `" + name + "`");
  return {};
}

Result<ExternType> read_externtype(Reader& r, Scope& s, const std::string& name) {
  auto kind = r.u8();
  if (!kind.ok()) return std::move(kind).error();
  switch (*kind) {
    case 0x00: {
      auto b = r.u8();
      if (!b.ok()) return std::move(b).error();
      if (*b != 0x11) return r.error("invalid core sort in extern type");
      auto idx = r.u32();
      if (!idx.ok()) return std::move(idx).error();
      if (*idx >= s.core_types.size()) return r.error("core type index out of range");
      const auto* m = std::get_if<CoreModuleTypePtr>(&s.core_types[*idx]);
      if (m == nullptr) return r.error("core type index is not a module type");
      return ExternType(*m);
    }
    case 0x01:
    case 0x04:
    case 0x05: {
      auto idx = r.u32();
      if (!idx.ok()) return std::move(idx).error();
      if (*idx >= s.types.size()) return r.error("type index " + std::to_string(*idx) + " out of range");
      const auto& t = s.types[*idx];
      if (*kind == 0x01) {
        if (const auto* f = std::get_if<FuncTypePtr>(&t)) return ExternType(*f);
        return r.error("type index " + std::to_string(*idx) + " is not a function type");
      }
      if (*kind == 0x04) {
        if (const auto* c = std::get_if<ComponentTypePtr>(&t)) return ExternType(*c);
        return r.error("type index " + std::to_string(*idx) + " is not a component type");
      }
      if (const auto* i = std::get_if<InstanceTypePtr>(&t)) return ExternType(*i);
      return r.error("type index " + std::to_string(*idx) + " is not an instance type");
    }
    case 0x02: {
      auto b = r.u8();
      if (!b.ok()) return std::move(b).error();
      if (*b == 0x01) {
        auto t = read_valtype(r, s);
        if (!t.ok()) return std::move(t).error();
        return ExternType(ValueBound{*t});
      }
      if (*b == 0x00) {
        auto idx = r.u32();
        if (!idx.ok()) return std::move(idx).error();
        if (*idx >= s.values.size()) return r.error("value index out of range");
        return ExternType(ValueBound{s.values[*idx]});
      }
      return r.error("invalid value bound");
    }
    case 0x03: {
      auto b = r.u8();
      if (!b.ok()) return std::move(b).error();
      TypeBound bound;
      if (*b == 0x01) {
        auto res = std::make_shared<ResourceType>();
        res->name = name;
        bound.type = ResourceTypePtr(res);
        bound.sub_resource = true;
        return ExternType(bound);
      }
      if (*b != 0x00) return r.error("invalid type bound");
      auto idx = r.u32();
      if (!idx.ok()) return std::move(idx).error();
      if (*idx >= s.types.size()) return r.error("type index " + std::to_string(*idx) + " out of range");
      const auto& t = s.types[*idx];
      if (const auto* v = std::get_if<ValType>(&t)) {
        bound.type = *v;
      } else if (const auto* res = std::get_if<ResourceTypePtr>(&t)) {
        bound.type = *res;
      } else {
        return r.error("type bound must name a value or resource type");
      }
      return ExternType(bound);
    }
    default: return r.error("invalid extern type kind");
  }
}

void add_extern_to_spaces(Scope& s, const ExternType& type) {
  if (const auto* m = std::get_if<CoreModuleTypePtr>(&type)) {
    s.core_modules.push_back(nullptr);
    s.core_module_types.push_back(*m);
  } else if (const auto* f = std::get_if<FuncTypePtr>(&type)) {
    s.funcs.push_back(*f);
  } else if (const auto* v = std::get_if<ValueBound>(&type)) {
    s.values.push_back(v->type);
  } else if (const auto* b = std::get_if<TypeBound>(&type)) {
    if (const auto* res = std::get_if<ResourceTypePtr>(&b->type)) {
      s.types.push_back(*res);
    } else {
      s.types.push_back(std::get<ValType>(b->type));
    }
  } else if (const auto* c = std::get_if<ComponentTypePtr>(&type)) {
    s.components.push_back(nullptr);
    s.component_types.push_back(*c);
  } else if (const auto* i = std::get_if<InstanceTypePtr>(&type)) {
    s.instances.push_back(*i);
  }
}

namespace {

Result<void> read_type_declarators(Reader& r, Scope& scope, bool component_type) {
  auto n = r.count(1);
  if (!n.ok()) return std::move(n).error();
  for (uint32_t i = 0; i < *n; ++i) {
    auto kind = r.u8();
    if (!kind.ok()) return std::move(kind).error();
    switch (*kind) {
      case 0x00: {
        auto t = read_core_type(r, scope);
        if (!t.ok()) return std::move(t).error();
        scope.core_types.push_back(*t);
        break;
      }
      case 0x01: {
        auto t = read_deftype(r, scope);
        if (!t.ok()) return std::move(t).error();
        scope.types.push_back(*t);
        break;
      }
      case 0x02: {
        auto a = read_alias(r, scope);
        if (!a.ok()) return std::move(a).error();
        break;
      }
      case 0x03:
      case 0x04: {
        if (*kind == 0x03 && !component_type) return r.error("instance types cannot declare imports");
        auto name = read_extern_name(r);
        if (!name.ok()) return std::move(name).error();
        STRATUS_TRY(check_name_unique(*kind == 0x03 ? scope.import_names : scope.export_names, *name, r,
                                      *kind == 0x03 ? "import" : "export"));
        auto t = read_externtype(r, scope, *name);
        if (!t.ok()) return std::move(t).error();
        add_extern_to_spaces(scope, *t);
        (*kind == 0x03 ? scope.imports : scope.exports).push_back({*name, *t});
        break;
      }
      default: return r.error("invalid type declarator");
    }
  }
  return {};
}

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

void add_core_extern(Scope& s, const engine::ExternType& t) {
  if (const auto* f = std::get_if<engine::FuncType>(&t)) {
    s.core_funcs.push_back(*f);
  } else if (std::holds_alternative<engine::TableType>(t)) {
    s.core_tables++;
  } else if (std::holds_alternative<engine::MemoryType>(t)) {
    s.core_memories++;
  } else {
    s.core_globals++;
  }
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
    bool core_sort = *b == 0x00;
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
                                                           : engine::ExternKind::Global;
      if (sort != Sort::CoreFunc && sort != Sort::CoreTable && sort != Sort::CoreMemory && sort != Sort::CoreGlobal)
        return r.error(std::string("cannot alias a ") + sort_name(sort) + " from a core instance");
      if (engine::kind_of(it->second) != want) return r.error("export `" + *name + "` is not a " + sort_name(sort));
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
      if (scope->core_modules[*idx] == nullptr) return r.error("cannot outer-alias an imported core module");
      CoreModulePtr module = scope->core_modules[*idx];
      CoreModuleTypePtr type = scope->core_module_types[*idx];
      s.core_modules.push_back(module);
      s.core_module_types.push_back(type);
      return std::optional<Definition>(CoreModuleDef{module});
    }
    case Sort::Component: {
      if (!s.is_component) return r.error("outer aliases in types may only alias types");
      if (*idx >= scope->components.size()) return r.error("outer alias component index out of range");
      if (scope->components[*idx] == nullptr) return r.error("cannot outer-alias an imported component");
      ComponentPtr component = scope->components[*idx];
      ComponentTypePtr type = scope->component_types[*idx];
      s.components.push_back(component);
      s.component_types.push_back(type);
      return std::optional<Definition>(ComponentDef{component});
    }
    default: return r.error(std::string("outer aliases of a ") + sort_name(sort) + " are not allowed");
  }
}

// ------------------------------------------------------------ substitution

namespace {

struct Substituter {
  const ResourceMap& map;
  std::map<const DefinedType*, ValType> memo;

  ResourceTypePtr res(const ResourceTypePtr& r) {
    auto it = map.find(r.get());
    return it == map.end() ? r : it->second;
  }
  std::optional<ValType> opt(const std::optional<ValType>& t) {
    if (!t) return t;
    return val(*t);
  }
  ValType val(const ValType& t) {
    if (t.is_primitive()) return t;
    auto found = memo.find(t.defined_ptr().get());
    if (found != memo.end()) return found->second;
    bool changed = false;
    auto sub = [&](const ValType& x) {
      ValType y = val(x);
      if (y.defined_ptr() != x.defined_ptr()) changed = true;
      return y;
    };
    auto sub_opt = [&](const std::optional<ValType>& x) -> std::optional<ValType> {
      if (!x) return x;
      return sub(*x);
    };
    DefinedType out = t.defined();
    std::visit(
        [&](auto& k) {
          using K = std::decay_t<decltype(k)>;
          if constexpr (std::is_same_v<K, RecordType>) {
            for (auto& f : k.fields) f.type = sub(f.type);
          } else if constexpr (std::is_same_v<K, VariantType>) {
            for (auto& c : k.cases) c.type = sub_opt(c.type);
          } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType>) {
            k.element = sub(k.element);
          } else if constexpr (std::is_same_v<K, TupleType>) {
            for (auto& e : k.elements) e = sub(e);
          } else if constexpr (std::is_same_v<K, ResultType>) {
            k.ok = sub_opt(k.ok);
            k.err = sub_opt(k.err);
          } else if constexpr (std::is_same_v<K, OwnType> || std::is_same_v<K, BorrowType>) {
            auto r = res(k.resource);
            if (r != k.resource) changed = true;
            k.resource = r;
          } else if constexpr (std::is_same_v<K, StreamType> || std::is_same_v<K, FutureType>) {
            k.element = sub_opt(k.element);
          } else if constexpr (std::is_same_v<K, MapType>) {
            k.key = sub(k.key);
            k.value = sub(k.value);
          }
        },
        out.kind);
    ValType result = changed ? ValType(std::make_shared<const DefinedType>(std::move(out))) : t;
    memo.emplace(t.defined_ptr().get(), result);
    return result;
  }
  FuncTypePtr func(const FuncTypePtr& f) {
    auto out = std::make_shared<FuncType>(*f);
    for (auto& p : out->params) p.type = val(p.type);
    out->result = opt(out->result);
    return out;
  }
  ExternType ext(const ExternType& t) {
    if (const auto* f = std::get_if<FuncTypePtr>(&t)) return func(*f);
    if (const auto* b = std::get_if<TypeBound>(&t)) {
      TypeBound out = *b;
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) {
        out.type = res(*r);
      } else {
        out.type = val(std::get<ValType>(b->type));
      }
      return out;
    }
    if (const auto* v = std::get_if<ValueBound>(&t)) return ValueBound{val(v->type)};
    if (const auto* i = std::get_if<InstanceTypePtr>(&t)) {
      auto out = std::make_shared<InstanceType>();
      for (const auto& e : (*i)->exports) out->exports.push_back({e.name, ext(e.type)});
      return InstanceTypePtr(out);
    }
    if (const auto* c = std::get_if<ComponentTypePtr>(&t)) {
      auto out = std::make_shared<ComponentType>();
      for (const auto& e : (*c)->imports) out->imports.push_back({e.name, ext(e.type)});
      for (const auto& e : (*c)->exports) out->exports.push_back({e.name, ext(e.type)});
      return ComponentTypePtr(out);
    }
    return t;
  }
};

}  // namespace

ValType substitute(const ValType& t, const ResourceMap& map) {
  Substituter s{map, {}};
  return s.val(t);
}

ExternType substitute(const ExternType& t, const ResourceMap& map) {
  if (map.empty()) return t;
  Substituter s{map, {}};
  return s.ext(t);
}

}  // namespace stratus::component::binary
