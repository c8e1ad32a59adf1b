// Type definitions, extern types, names and aliases of the component binary
// format (Binary.md), resolved into types.h as they are read.
#include <algorithm>
#include <atomic>

#include "component/binary/scope.h"
#include "component/canon/abi.h"

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

Result<ValType> read_defvaltype_unchecked(Reader& r, Scope& s, uint8_t op) {
  size_t at = r.offset() - 1;
  switch (op) {
    case 0x72: {
      auto n = r.count(2);
      if (!n.ok()) return std::move(n).error();
      if (*n == 0) return Reader::error_at(at, "record type must have at least one field");
      RecordType rec;
      std::set<std::string> seen;
      for (uint32_t i = 0; i < *n; ++i) {
        auto l = read_label(r, seen, "record field");
        if (!l.ok()) return std::move(l).error();
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
        auto l = read_label(r, seen, "variant case");
        if (!l.ok()) return std::move(l).error();
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
        auto l = read_label(r, seen, op == 0x6e ? "flag" : "enum tag");
        if (!l.ok()) return std::move(l).error();
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
      auto named = s.resource_names.find(*idx);
      TypeNamePtr alias = named == s.resource_names.end() ? nullptr : named->second;
      if (op == 0x69) return make_type(OwnType{*res, alias});
      return make_type(BorrowType{*res, alias});
    }
    case 0x66:
    case 0x65: {
      auto t = optional_valtype(r, s);
      if (!t.ok()) return std::move(t).error();
      if (op == 0x66 && *t && t->value().is_primitive() && t->value().primitive() == PrimType::Char)
        return Reader::error_at(at, "`stream<char>` is not valid at this time");
      if (op == 0x66) return make_type(StreamType{*t});
      return make_type(FutureType{*t});
    }
    case 0x63: {
      auto k = read_valtype(r, s);
      if (!k.ok()) return std::move(k).error();
      // keytype (Explainer.md): bool, the integers, char and string.
      if (!k->is_primitive() || k->primitive() == PrimType::F32 || k->primitive() == PrimType::F64 ||
          k->primitive() == PrimType::ErrorContext)
        return Reader::error_at(at, "map key type must be bool, an integer, char or string");
      auto v = read_valtype(r, s);
      if (!v.ok()) return std::move(v).error();
      return make_type(make_map(*k, *v));
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

bool contains_borrow(const ValType& t) {
  if (t.is_primitive()) return false;
  return std::visit(
      [](const auto& k) -> bool {
        using K = std::decay_t<decltype(k)>;
        auto any = [](const auto& v) { return v && contains_borrow(*v); };
        if constexpr (std::is_same_v<K, BorrowType>) {
          return true;
        } else if constexpr (std::is_same_v<K, RecordType>) {
          return std::any_of(k.fields.begin(), k.fields.end(), [](const Field& f) { return contains_borrow(f.type); });
        } else if constexpr (std::is_same_v<K, VariantType>) {
          return std::any_of(k.cases.begin(), k.cases.end(), [&](const Case& c) { return any(c.type); });
        } else if constexpr (std::is_same_v<K, TupleType>) {
          return std::any_of(k.elements.begin(), k.elements.end(), [](const ValType& e) { return contains_borrow(e); });
        } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType>) {
          return contains_borrow(k.element);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          return any(k.ok) || any(k.err);
        } else if constexpr (std::is_same_v<K, MapType>) {
          return contains_borrow(k.key) || contains_borrow(k.value);
        } else {
          return false;  // own, flags, enum; stream and future elements are checked where they are made
        }
      },
      t.defined().kind);
}

// Calls `f` on each value type a defined type directly contains.
template <class F>
void for_each_child(const DefinedType& d, F f) {
  std::visit(
      [&](const auto& k) {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RecordType>) {
          for (const auto& field : k.fields) f(field.type);
        } else if constexpr (std::is_same_v<K, VariantType>) {
          for (const auto& c : k.cases)
            if (c.type) f(*c.type);
        } else if constexpr (std::is_same_v<K, TupleType>) {
          for (const auto& e : k.elements) f(e);
        } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType>) {
          f(k.element);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          if (k.ok) f(*k.ok);
          if (k.err) f(*k.err);
        } else if constexpr (std::is_same_v<K, StreamType> || std::is_same_v<K, FutureType>) {
          if (k.element) f(*k.element);
        } else if constexpr (std::is_same_v<K, MapType>) {
          f(k.key);
          f(k.value);
        }
      },
      d.kind);
}

// The nesting depth of a value type, memoized per decode (the memo keeps the
// types alive, so an address is never reused for another type); kMaxTypeDepth + 1
// once it is deeper than that (the walk stops there).
uint32_t depth_of(const ValType& t, TypeDepths& memo, uint32_t budget) {
  if (t.is_primitive()) return 0;
  if (auto it = memo.find(t.defined_ptr().get()); it != memo.end()) return it->second.second;
  if (budget == 0) return kMaxTypeDepth + 1;
  uint32_t deepest = 0;
  for_each_child(t.defined(), [&](const ValType& c) { deepest = std::max(deepest, depth_of(c, memo, budget - 1)); });
  uint32_t d = std::min(deepest + 1, kMaxTypeDepth + 1);
  memo.emplace(t.defined_ptr().get(), std::make_pair(t.defined_ptr(), d));
  return d;
}

// Validation requires elem_size(t) < 2^28 with 64-bit pointers
// (CanonicalABI.md, "Element Size"). Sizes saturate at the limit, so the
// products and sums below cannot overflow.
constexpr uint64_t kMaxValueSize = uint64_t{1} << 28;

using SizeMemo = decltype(Scope::type_sizes);

uint64_t saturate(uint64_t n) { return std::min(n, kMaxValueSize); }
uint64_t align_up(uint64_t n, uint32_t a) { return (n + a - 1) / a * a; }

std::pair<uint64_t, uint32_t> size64(const ValType& t, SizeMemo& memo) {
  if (t.is_primitive()) {
    switch (t.primitive()) {
      case PrimType::Bool:
      case PrimType::S8:
      case PrimType::U8: return {1, 1};
      case PrimType::S16:
      case PrimType::U16: return {2, 2};
      case PrimType::S64:
      case PrimType::U64:
      case PrimType::F64: return {8, 8};
      case PrimType::String: return {16, 8};
      default: return {4, 4};
    }
  }
  if (auto it = memo.find(t.defined_ptr().get()); it != memo.end()) return it->second.second;
  const auto& d = t.defined();
  auto fields = [&](auto begin, auto end, auto type_of) {
    uint64_t size = 0;
    uint32_t align = 1;
    for (auto it = begin; it != end; ++it) {
      auto [s, a] = size64(type_of(*it), memo);
      size = saturate(align_up(size, a) + s);
      align = std::max(align, a);
    }
    return std::make_pair(saturate(align_up(size, align)), align);
  };
  std::pair<uint64_t, uint32_t> out{4, 4};  // own, borrow, stream, future
  if (const auto* rec = std::get_if<RecordType>(&d.kind)) {
    out = fields(rec->fields.begin(), rec->fields.end(), [](const Field& f) -> const ValType& { return f.type; });
  } else if (const auto* tu = std::get_if<TupleType>(&d.kind)) {
    out = fields(tu->elements.begin(), tu->elements.end(), [](const ValType& e) -> const ValType& { return e; });
  } else if (const auto* l = std::get_if<ListType>(&d.kind)) {
    if (l->length) {
      auto [s, a] = size64(l->element, memo);
      out = {saturate(s * *l->length), a};
    } else {
      out = {16, 8};
    }
  } else if (std::holds_alternative<MapType>(d.kind)) {
    out = {16, 8};
  } else if (const auto* f = std::get_if<FlagsType>(&d.kind)) {
    uint32_t n = canon::flags_size(f->names.size());
    out = {n, std::min<uint32_t>(n, 4)};
  } else if (std::holds_alternative<VariantType>(d.kind) || std::holds_alternative<EnumType>(d.kind) ||
             std::holds_alternative<OptionType>(d.kind) || std::holds_alternative<ResultType>(d.kind)) {
    auto cases = canon::variant_cases(d);
    uint32_t disc = canon::discriminant_size(cases.size());
    uint64_t payload = 0;
    uint32_t align = disc;
    for (const auto& c : cases) {
      if (c.type == nullptr) continue;
      auto [s, a] = size64(*c.type, memo);
      payload = std::max(payload, s);
      align = std::max(align, a);
    }
    out = {saturate(align_up(align_up(disc, align) + payload, align)), align};
  }
  memo.emplace(t.defined_ptr().get(), std::make_pair(t.defined_ptr(), out));
  return out;
}

// The number of nodes a value type has as a tree, counting each use of a
// shared subtree (tuple<T, T> counts T twice); saturates past the limit.
// Walks that do not memoize (the canonical ABI's layout and flattening) visit
// that many nodes, so, as wasmparser does, validation caps it.
constexpr uint64_t kMaxEffectiveTypeSize = 1000000;

using EffectiveSizeMemo = decltype(Scope::effective_sizes);

uint64_t effective_size(const ValType& t, EffectiveSizeMemo& memo) {
  if (t.is_primitive()) return 1;
  if (auto it = memo.find(t.defined_ptr().get()); it != memo.end()) return it->second.second;
  uint64_t n = 1;
  for_each_child(t.defined(),
                 [&](const ValType& c) { n = std::min(n + effective_size(c, memo), kMaxEffectiveTypeSize + 1); });
  memo.emplace(t.defined_ptr().get(), std::make_pair(t.defined_ptr(), n));
  return n;
}

// Every walk over a value type (subtyping, substitution, the canonical ABI's
// flattening) recurses, so nesting is capped where types are made.
Result<ValType> read_defvaltype(Reader& r, Scope& s, uint8_t op) {
  size_t at = r.offset() - 1;
  auto t = read_defvaltype_unchecked(r, s, op);
  if (!t.ok()) return t;
  Scope* root = &s;
  while (root->parent != nullptr) root = root->parent;
  if (depth_of(*t, root->type_depths, kMaxTypeDepth + 1) > kMaxTypeDepth)
    return Reader::error_at(at, "type nesting exceeds the limit of " + std::to_string(kMaxTypeDepth));
  if (size64(*t, root->type_sizes).first >= kMaxValueSize)
    return Reader::error_at(at, "value type exceeds maximum byte size (2^28 bytes with 64-bit pointers)");
  if (effective_size(*t, root->effective_sizes) > kMaxEffectiveTypeSize)
    return Reader::error_at(at, "effective type size exceeds the limit of " + std::to_string(kMaxEffectiveTypeSize) +
                                    " (shared subtrees count once per use)");
  return t;
}

Result<FuncTypePtr> read_functype(Reader& r, Scope& s, bool async) {
  auto ft = std::make_shared<FuncType>();
  ft->async = async;
  auto n = r.count(2);
  if (!n.ok()) return std::move(n).error();
  std::set<std::string> seen;
  for (uint32_t i = 0; i < *n; ++i) {
    auto l = read_label(r, seen, "function parameter");
    if (!l.ok()) return std::move(l).error();
    auto t = read_valtype(r, s);
    if (!t.ok()) return std::move(t).error();
    ft->params.push_back({*l, *t});
  }
  auto kind = r.u8();
  if (!kind.ok()) return std::move(kind).error();
  if (*kind == 0x00) {
    size_t at = r.offset();
    auto t = read_valtype(r, s);
    if (!t.ok()) return std::move(t).error();
    if (contains_borrow(*t)) return Reader::error_at(at, "function result cannot contain a `borrow` type");
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
      inner.component_id = s.component_id;
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
      if (const auto* i = std::get_if<InstanceTypePtr>(&t)) {
        // Each instance of the type has its own abstract resources.
        ResourceMap fresh;
        freshen_exports(ExternType(*i), fresh);
        return substitute(ExternType(*i), fresh);
      }
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

uint64_t next_component_id() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

void name_type_bound(ExternType& type, const std::string& name, uint64_t owner, bool exported) {
  auto* b = std::get_if<TypeBound>(&type);
  if (b != nullptr && b->name == nullptr) b->name = std::make_shared<const TypeName>(TypeName{name, exported, owner});
}

namespace {

// Gives the type exports of an instance type (and of the instances it
// exports) fresh names; `names` maps the old to the new.
InstanceTypePtr rename_instance_exports(const InstanceType& t, uint64_t component_id, NameMap& names) {
  auto out = std::make_shared<InstanceType>(t);
  for (auto& e : out->exports) {
    if (auto* b = std::get_if<TypeBound>(&e.type)) {
      auto fresh = std::make_shared<const TypeName>(TypeName{e.name, true, component_id});
      if (b->name != nullptr) names.emplace(b->name.get(), fresh);
      b->name = fresh;
    } else if (const auto* nested = std::get_if<InstanceTypePtr>(&e.type)) {
      e.type = rename_instance_exports(**nested, component_id, names);
    }
  }
  return out;
}

}  // namespace

ExternType renamed_for_export(const ExternType& type, uint64_t component_id) {
  const auto* i = std::get_if<InstanceTypePtr>(&type);
  if (i == nullptr) return type;
  NameMap names;
  auto renamed = rename_instance_exports(**i, component_id, names);
  // The functions refer to the types by their new names too.
  return rename_types(renamed, names);
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
      if (b->name != nullptr) s.resource_names[s.types.size()] = b->name;
      s.types.push_back(*res);
    } else if (b->name != nullptr) {
      s.types.push_back(std::get<ValType>(b->type).with_name(b->name));
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
        auto t = read_externtype(r, scope, name->name);
        if (!t.ok()) return std::move(t).error();
        bool import = *kind == 0x03;
        STRATUS_TRY(
            check_extern(import ? scope.import_names : scope.export_names, *name, *t, import ? "import" : "export"));
        // Component types are checked as they are declared; instance types
        // when an import or export uses them.
        if (component_type) {
          if (auto ok = check_visibility(*t, import, scope.component_id); !ok.ok())
            return Reader::error_at(name->offset, ok.error().message);
        }
        name_type_bound(*t, name->name, scope.component_id, component_type && !import);
        add_extern_to_spaces(scope, *t);
        (import ? scope.imports : scope.exports).push_back({name->name, *t});
        break;
      }
      default: return r.error("invalid type declarator");
    }
  }
  return {};
}

}  // namespace

}  // namespace stratus::component::binary
