// Subtyping of extern types (Explainer.md, "Subtyping"), as validation of
// instantiation arguments and of export ascriptions needs it. Value types
// match by structure; resource types by identity.
#include "component/binary/subtype.h"

#include <algorithm>
#include <set>

#include "component/binary/scope.h"

namespace stratus::component::binary {
namespace {

const NamedExtern* find(const std::vector<NamedExtern>& v, const std::string& name) {
  auto it = std::find_if(v.begin(), v.end(), [&](const NamedExtern& e) { return e.name == name; });
  return it == v.end() ? nullptr : &*it;
}

Error mismatch(const std::string& what) { return make_error("type mismatch: " + what); }

const char* kind_name(const DefinedType& d) {
  static const char* names[] = {"record", "variant", "list",   "tuple",  "flags",  "enum", "option",
                                "result", "own",     "borrow", "stream", "future", "map"};
  return names[d.kind.index()];
}

Result<void> equal(const ValType& a, const ValType& b);

Result<void> equal_opt(const std::optional<ValType>& a, const std::optional<ValType>& b, const char* what) {
  if (a.has_value() != b.has_value())
    return mismatch(std::string("expected ") + what + (b ? " type, but found none" : " type to not be present"));
  if (a) {
    auto r = equal(*a, *b);
    if (!r.ok()) return std::move(r).error().context(std::string("in ") + what);
  }
  return {};
}

Result<void> equal_resource(const ResourceTypePtr& a, const ResourceTypePtr& b) {
  if (a.get() != b.get()) return mismatch("resource types are not the same");
  return {};
}

// Pairs of defined types already found equal during one comparison: types
// are DAGs (tuple<T, T> of tuple<U, U> ...), and without this two equal but
// separately built ones would be walked exponentially.
using EqualPairs = std::set<std::pair<const DefinedType*, const DefinedType*>>;
thread_local EqualPairs* t_equal_pairs = nullptr;

Result<void> equal_structure(const ValType& a, const ValType& b);

// `a` is the actual type, `b` the expected one.
Result<void> equal(const ValType& a, const ValType& b) {
  if (a.is_primitive() || b.is_primitive() || a.defined_ptr() == b.defined_ptr()) return equal_structure(a, b);
  EqualPairs local;
  struct PairsScope {
    bool outermost = t_equal_pairs == nullptr;
    explicit PairsScope(EqualPairs& pairs) {
      if (outermost) t_equal_pairs = &pairs;
    }
    ~PairsScope() {
      if (outermost) t_equal_pairs = nullptr;
    }
    PairsScope(const PairsScope&) = delete;
    PairsScope& operator=(const PairsScope&) = delete;
  } scope(local);
  auto key = std::make_pair(a.defined_ptr().get(), b.defined_ptr().get());
  if (t_equal_pairs->count(key) != 0) return {};
  auto r = equal_structure(a, b);
  if (r.ok()) t_equal_pairs->insert(key);
  return r;
}

Result<void> equal_structure(const ValType& a, const ValType& b) {
  if (a.is_primitive() || b.is_primitive()) {
    if (a.is_primitive() && b.is_primitive()) {
      if (a.primitive() != b.primitive())
        return mismatch(std::string("expected primitive `") + prim_name(b.primitive()) + "` found primitive `" +
                        prim_name(a.primitive()) + "`");
      return {};
    }
    return mismatch(std::string("expected ") + (b.is_primitive() ? prim_name(b.primitive()) : kind_name(b.defined())) +
                    ", found " + (a.is_primitive() ? prim_name(a.primitive()) : kind_name(a.defined())));
  }
  if (a.defined_ptr() == b.defined_ptr()) return {};
  const auto& ak = a.defined().kind;
  const auto& bk = b.defined().kind;
  if (ak.index() != bk.index())
    return mismatch(std::string("expected ") + kind_name(b.defined()) + ", found " + kind_name(a.defined()));
  return std::visit(
      [&](const auto& x) -> Result<void> {
        using K = std::decay_t<decltype(x)>;
        const K& y = std::get<K>(bk);
        if constexpr (std::is_same_v<K, RecordType>) {
          if (x.fields.size() != y.fields.size())
            return mismatch("expected " + std::to_string(y.fields.size()) + " fields, found " +
                            std::to_string(x.fields.size()));
          for (size_t i = 0; i < x.fields.size(); ++i) {
            if (x.fields[i].name != y.fields[i].name)
              return mismatch("expected field name `" + y.fields[i].name + "`, found `" + x.fields[i].name + "`");
            auto r = equal(x.fields[i].type, y.fields[i].type);
            if (!r.ok()) return std::move(r).error().context("in record field `" + x.fields[i].name + "`");
          }
          return {};
        } else if constexpr (std::is_same_v<K, VariantType>) {
          if (x.cases.size() != y.cases.size())
            return mismatch("expected " + std::to_string(y.cases.size()) + " cases, found " +
                            std::to_string(x.cases.size()));
          for (size_t i = 0; i < x.cases.size(); ++i) {
            if (x.cases[i].name != y.cases[i].name)
              return mismatch("expected case named `" + y.cases[i].name + "`, found `" + x.cases[i].name + "`");
            auto r = equal_opt(x.cases[i].type, y.cases[i].type, "case");
            if (!r.ok()) return std::move(r).error().context("in variant case `" + x.cases[i].name + "`");
          }
          return {};
        } else if constexpr (std::is_same_v<K, ListType>) {
          if (x.length != y.length) return mismatch("list lengths differ");
          return equal(x.element, y.element);
        } else if constexpr (std::is_same_v<K, TupleType>) {
          if (x.elements.size() != y.elements.size())
            return mismatch("expected " + std::to_string(y.elements.size()) + " types, found " +
                            std::to_string(x.elements.size()));
          for (size_t i = 0; i < x.elements.size(); ++i) {
            auto r = equal(x.elements[i], y.elements[i]);
            if (!r.ok()) return std::move(r).error().context("in tuple field " + std::to_string(i));
          }
          return {};
        } else if constexpr (std::is_same_v<K, FlagsType> || std::is_same_v<K, EnumType>) {
          if (x.names != y.names) return mismatch("mismatch in flags or enum elements");
          return {};
        } else if constexpr (std::is_same_v<K, OptionType>) {
          return equal(x.element, y.element);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          STRATUS_TRY(equal_opt(x.ok, y.ok, "ok"));
          return equal_opt(x.err, y.err, "err");
        } else if constexpr (std::is_same_v<K, OwnType> || std::is_same_v<K, BorrowType>) {
          return equal_resource(x.resource, y.resource);
        } else if constexpr (std::is_same_v<K, StreamType> || std::is_same_v<K, FutureType>) {
          return equal_opt(x.element, y.element, "element");
        } else {
          STRATUS_TRY(equal(x.key, y.key));
          return equal(x.value, y.value);
        }
      },
      ak);
}

Result<void> func_subtype(const FuncType& a, const FuncType& b) {
  if (a.async != b.async) return mismatch("async and sync function types differ");
  if (a.params.size() != b.params.size())
    return mismatch("expected " + std::to_string(b.params.size()) + " parameters, found " +
                    std::to_string(a.params.size()));
  for (size_t i = 0; i < a.params.size(); ++i) {
    if (a.params[i].name != b.params[i].name)
      return mismatch("expected parameter named `" + b.params[i].name + "`, found `" + a.params[i].name + "`");
    auto r = equal(a.params[i].type, b.params[i].type);
    if (!r.ok()) return std::move(r).error().context("in function parameter `" + a.params[i].name + "`");
  }
  if (a.result.has_value() != b.result.has_value())
    return mismatch(b.result ? "expected a result, found none" : "expected no result, found one");
  if (a.result) {
    auto r = equal(*a.result, *b.result);
    if (!r.ok()) return std::move(r).error().context("with result type");
  }
  return {};
}

bool limits_subtype(const engine::Limits& a, const engine::Limits& b) {
  if (a.min < b.min) return false;
  if (!b.max) return true;
  return a.max && *a.max <= *b.max;
}

Result<void> core_subtype(const engine::ExternType& a, const engine::ExternType& b) {
  if (a.index() != b.index()) return mismatch("core extern kinds differ");
  if (const auto* f = std::get_if<engine::FuncType>(&a)) {
    if (!(*f == std::get<engine::FuncType>(b))) return mismatch("core function types differ");
  } else if (const auto* t = std::get_if<engine::TableType>(&a)) {
    const auto& u = std::get<engine::TableType>(b);
    if (t->element != u.element) return mismatch("table element types differ");
    if (!limits_subtype(t->limits, u.limits)) return mismatch("mismatch in table limits");
  } else if (const auto* m = std::get_if<engine::MemoryType>(&a)) {
    if (!limits_subtype(m->limits, std::get<engine::MemoryType>(b).limits))
      return mismatch("mismatch in memory limits");
  } else if (const auto* g = std::get_if<engine::GlobalType>(&a)) {
    const auto& h = std::get<engine::GlobalType>(b);
    if (g->type != h.type || g->mutable_ != h.mutable_) return mismatch("global types differ");
  } else if (!(std::get<engine::TagType>(a) == std::get<engine::TagType>(b))) {
    return mismatch("tag types differ");
  }
  return {};
}

Result<void> module_subtype(const CoreModuleType& a, const CoreModuleType& b) {
  for (const auto& ia : a.imports) {
    auto ib = std::find_if(b.imports.begin(), b.imports.end(),
                           [&](const auto& x) { return x.module == ia.module && x.name == ia.name; });
    if (ib == b.imports.end()) return mismatch("missing expected import `" + ia.module + "::" + ia.name + "`");
    auto r = core_subtype(ib->type, ia.type);
    if (!r.ok()) return std::move(r).error().context("in import `" + ia.module + "::" + ia.name + "`");
  }
  for (const auto& eb : b.exports) {
    auto ea = std::find_if(a.exports.begin(), a.exports.end(), [&](const auto& x) { return x.name == eb.name; });
    if (ea == a.exports.end()) return mismatch("missing expected export `" + eb.name + "`");
    auto r = core_subtype(ea->type, eb.type);
    if (!r.ok()) return std::move(r).error().context("in export `" + eb.name + "`");
  }
  return {};
}

}  // namespace

void bind_resources(const ExternType& expected, const ExternType& actual, ResourceMap& map) {
  if (const auto* eb = std::get_if<TypeBound>(&expected)) {
    const auto* ab = std::get_if<TypeBound>(&actual);
    const auto* er = std::get_if<ResourceTypePtr>(&eb->type);
    if (ab != nullptr && er != nullptr && eb->sub_resource)
      if (const auto* ar = std::get_if<ResourceTypePtr>(&ab->type)) map.emplace(er->get(), *ar);
    return;
  }
  if (const auto* ei = std::get_if<InstanceTypePtr>(&expected)) {
    const auto* ai = std::get_if<InstanceTypePtr>(&actual);
    if (ai == nullptr) return;
    for (const auto& e : (*ei)->exports)
      if (const auto* a = find((*ai)->exports, e.name)) bind_resources(e.type, a->type, map);
  }
}

void freshen_exports(const ExternType& t, ResourceMap& map) {
  if (const auto* b = std::get_if<TypeBound>(&t)) {
    if (const auto* r = std::get_if<ResourceTypePtr>(&b->type); r != nullptr && b->sub_resource)
      map.emplace(r->get(), std::make_shared<ResourceType>(**r));
  } else if (const auto* i = std::get_if<InstanceTypePtr>(&t)) {
    for (const auto& e : (*i)->exports) freshen_exports(e.type, map);
  }
}

Result<void> check_subtype(const ExternType& a, const ExternType& b, int depth) {
  if (depth > kMaxSubtypeDepth) return make_error("types nested too deeply");
  if (a.index() != b.index()) return mismatch("expected a different kind of item");
  if (const auto* f = std::get_if<FuncTypePtr>(&a)) return func_subtype(**f, *std::get<FuncTypePtr>(b));
  if (const auto* m = std::get_if<CoreModuleTypePtr>(&a)) return module_subtype(**m, *std::get<CoreModuleTypePtr>(b));
  if (const auto* v = std::get_if<ValueBound>(&a)) return equal(v->type, std::get<ValueBound>(b).type);
  if (const auto* t = std::get_if<TypeBound>(&a)) {
    const auto& u = std::get<TypeBound>(b);
    const auto* ar = std::get_if<ResourceTypePtr>(&t->type);
    const auto* br = std::get_if<ResourceTypePtr>(&u.type);
    if ((ar == nullptr) != (br == nullptr))
      return mismatch(br != nullptr ? "expected resource, found defined type"
                                    : "expected defined type, found resource");
    if (ar != nullptr) return u.sub_resource ? Result<void>() : equal_resource(*ar, *br);
    return equal(std::get<ValType>(t->type), std::get<ValType>(u.type));
  }
  if (const auto* i = std::get_if<InstanceTypePtr>(&a)) {
    for (const auto& eb : std::get<InstanceTypePtr>(b)->exports) {
      const auto* ea = find((*i)->exports, eb.name);
      if (ea == nullptr) return mismatch("missing expected export `" + eb.name + "`");
      auto r = check_subtype(ea->type, eb.type, depth + 1);
      if (!r.ok()) return std::move(r).error().context("in instance export `" + eb.name + "`");
    }
    return {};
  }
  // The actual component's abstract imported resources stand for the
  // expected one's; the expected one's abstract exported resources for the
  // actual one's.
  const auto& ca = *std::get<ComponentTypePtr>(a);
  const auto& cb = *std::get<ComponentTypePtr>(b);
  ResourceMap amap, bmap;
  for (const auto& ia : ca.imports) {
    const auto* ib = find(cb.imports, ia.name);
    if (ib == nullptr) return mismatch("missing expected import `" + ia.name + "`");
    bind_resources(ia.type, ib->type, amap);
    auto r = check_subtype(ib->type, substitute(ia.type, amap), depth + 1);
    if (!r.ok()) return std::move(r).error().context("in import `" + ia.name + "`");
  }
  for (const auto& eb : cb.exports) {
    const auto* ea = find(ca.exports, eb.name);
    if (ea == nullptr) return mismatch("missing expected export `" + eb.name + "`");
    auto at = substitute(ea->type, amap);
    bind_resources(eb.type, at, bmap);
    auto r = check_subtype(at, substitute(eb.type, bmap), depth + 1);
    if (!r.ok()) return std::move(r).error().context("in export `" + eb.name + "`");
  }
  return {};
}

}  // namespace stratus::component::binary
