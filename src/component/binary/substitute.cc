// Substitution of resource types in resolved types: instantiation maps the
// abstract resources a component imports to its arguments' and makes its
// exported ones fresh.
#include "component/binary/scope.h"

namespace stratus::component::binary {
namespace {

struct Substituter {
  const ResourceMap& map;
  const NameMap* names = nullptr;
  std::map<const DefinedType*, ValType> memo;

  TypeNamePtr name(const TypeNamePtr& n) const {
    if (names == nullptr || n == nullptr) return n;
    auto it = names->find(n.get());
    return it == names->end() ? n : it->second;
  }

  ResourceTypePtr res(const ResourceTypePtr& r) {
    auto it = map.find(r.get());
    return it == map.end() ? r : it->second;
  }
  std::optional<ValType> opt(const std::optional<ValType>& t) {
    if (!t) return t;
    return val(*t);
  }
  // Keeps the name `t` was referenced by; the memo holds unnamed results.
  ValType val(const ValType& t) {
    if (t.is_primitive()) return t.with_name(name(t.name_ptr()));
    return structure(t).with_name(name(t.name_ptr()));
  }
  ValType structure(const ValType& t) {
    auto found = memo.find(t.defined_ptr().get());
    if (found != memo.end()) return found->second;
    bool changed = false;
    auto sub = [&](const ValType& x) {
      ValType y = val(x);
      if (y.defined_ptr() != x.defined_ptr() || y.name_ptr() != x.name_ptr()) changed = true;
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
            k = make_map(sub(k.key), sub(k.value));
          }
        },
        out.kind);
    ValType result = changed ? ValType(std::make_shared<const DefinedType>(std::move(out))) : t.with_name(nullptr);
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
  Substituter s{map, nullptr, {}};
  return s.val(t);
}

ExternType rename_types(const ExternType& t, const NameMap& names) {
  if (names.empty()) return t;
  ResourceMap none;
  Substituter s{none, &names, {}};
  return s.ext(t);
}

ExternType substitute(const ExternType& t, const ResourceMap& map) {
  if (map.empty()) return t;
  Substituter s{map, nullptr, {}};
  return s.ext(t);
}

}  // namespace stratus::component::binary
