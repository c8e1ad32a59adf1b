// The name rules of imports and exports (Binary.md, "Import and Export
// Definitions"): strong uniqueness, `implements`, and the function types that
// [constructor], [method] and [static] names require.
#include <set>

#include "component/binary/scope.h"

namespace stratus::component::binary {
namespace {

const ResourceType* own_resource(const ValType& t) {
  if (t.is_primitive()) return nullptr;
  if (const auto* o = std::get_if<OwnType>(&t.defined().kind)) return o->resource.get();
  return nullptr;
}

Result<void> resource_named(const NameContext& cx, const ResourceType* res, const std::string& want) {
  auto it = cx.resource_names.find(res);
  if (it == cx.resource_names.end())
    return make_error("resource used in function does not have a name in this context");
  if (it->second != want) return make_error("function does not match expected resource name `" + it->second + "`");
  return {};
}

Result<void> check_annotated(const NameContext& cx, const ExternName& n, const ExternType& type) {
  const auto* fp = std::get_if<FuncTypePtr>(&type);
  if (fp == nullptr) return make_error("`" + n.name + "` is not a func");
  const FuncType& f = **fp;
  switch (n.parsed.kind) {
    case NameKind::Constructor: {
      if (!f.result) return make_error("function should return one value");
      const ResourceType* res = own_resource(*f.result);
      if (res == nullptr && !f.result->is_primitive()) {
        if (const auto* r = std::get_if<ResultType>(&f.result->defined().kind); r != nullptr && r->ok)
          res = own_resource(*r->ok);
      }
      if (res == nullptr) return make_error("function should return `(own $T)` or `(result (own $T))`");
      return resource_named(cx, res, n.parsed.resource);
    }
    case NameKind::Method: {
      if (f.params.empty()) return make_error("function should have at least one argument");
      if (f.params[0].name != "self") return make_error("function should have a first argument called `self`");
      const auto& t = f.params[0].type;
      const BorrowType* b = t.is_primitive() ? nullptr : std::get_if<BorrowType>(&t.defined().kind);
      if (b == nullptr) return make_error("function should take a first argument of `(borrow $T)`");
      return resource_named(cx, b->resource.get(), n.parsed.resource);
    }
    case NameKind::Static:
      if (cx.all_resource_names.count(n.parsed.resource) == 0)
        return make_error("static resource name is not known in this context");
      return {};
    default: return {};
  }
}

// Walks a type for check_visibility: `top` is the type an export or import
// of a type itself names, which needs no name of its own.
class Visibility {
 public:
  Visibility(bool import, uint64_t component_id, const std::set<const DefinedType*>* named)
      : import_(import), component_id_(component_id), named_(named) {}

  Result<void> val(const ValType& t, bool top) {
    if (!top && t.name() != nullptr) {
      // Exported under a name of this instance type: explicit in it, even
      // when the type was first named by another component (an instance
      // re-exporting a child's types).
      if (!t.is_primitive() && (local_types_.count(t.defined_ptr().get()) != 0 ||
                                (named_ != nullptr && named_->count(t.defined_ptr().get()) != 0)))
        return {};
      return named(*t.name());
    }
    if (t.is_primitive()) return {};
    // Types are DAGs: check each shared subtree once (an answer only turns
    // from error to fine as local_ grows, so a fine one stays fine).
    if (!top && checked_.count(t.defined_ptr().get()) != 0) return {};
    STRATUS_TRY(structure(t, top));
    if (!top) checked_.insert(t.defined_ptr().get());
    return {};
  }

  Result<void> structure(const ValType& t, bool top) {
    const auto& kind = t.defined().kind;
    auto unnamed = [&](const char* what) {
      return make_error(std::string(what) + " type used without an exported or imported name (" +
                        (import_ ? "import" : "export") + " it as a type first)");
    };
    if (const auto* rec = std::get_if<RecordType>(&kind)) {
      if (!top) return unnamed("record");
      for (const auto& f : rec->fields) STRATUS_TRY(val(f.type, false));
      return {};
    }
    if (const auto* var = std::get_if<VariantType>(&kind)) {
      if (!top) return unnamed("variant");
      for (const auto& c : var->cases)
        if (c.type) STRATUS_TRY(val(*c.type, false));
      return {};
    }
    if (std::holds_alternative<EnumType>(kind)) return top ? Result<void>() : unnamed("enum");
    if (std::holds_alternative<FlagsType>(kind)) return top ? Result<void>() : unnamed("flags");
    if (const auto* o = std::get_if<OwnType>(&kind)) return handle(o->alias);
    if (const auto* b = std::get_if<BorrowType>(&kind)) return handle(b->alias);
    if (const auto* l = std::get_if<ListType>(&kind)) return val(l->element, false);
    if (const auto* o = std::get_if<OptionType>(&kind)) return val(o->element, false);
    if (const auto* tu = std::get_if<TupleType>(&kind)) {
      for (const auto& e : tu->elements) STRATUS_TRY(val(e, false));
      return {};
    }
    if (const auto* r = std::get_if<ResultType>(&kind)) {
      if (r->ok) STRATUS_TRY(val(*r->ok, false));
      if (r->err) STRATUS_TRY(val(*r->err, false));
      return {};
    }
    if (const auto* s = std::get_if<StreamType>(&kind)) return s->element ? val(*s->element, false) : Result<void>();
    if (const auto* f = std::get_if<FutureType>(&kind)) return f->element ? val(*f->element, false) : Result<void>();
    const auto& m = std::get<MapType>(kind);
    STRATUS_TRY(val(m.key, false));
    return val(m.value, false);
  }

  Result<void> ext(const ExternType& t) {
    if (const auto* f = std::get_if<FuncTypePtr>(&t)) {
      for (const auto& p : (*f)->params) STRATUS_TRY(val(p.type, false));
      return (*f)->result ? val(*(*f)->result, false) : Result<void>();
    }
    if (const auto* v = std::get_if<ValueBound>(&t)) return val(v->type, false);
    if (const auto* b = std::get_if<TypeBound>(&t)) {
      if (const auto* v = std::get_if<ValType>(&b->type)) return val(*v, true);
      return {};
    }
    if (const auto* i = std::get_if<InstanceTypePtr>(&t)) {
      // An instance's own type exports name the types its functions use
      // (a bag of exports is "explicit in" them).
      for (const auto& e : (*i)->exports) {
        const auto* b = std::get_if<TypeBound>(&e.type);
        if (b == nullptr) continue;
        if (b->name != nullptr) local_.insert(b->name.get());
        if (const auto* v = std::get_if<ValType>(&b->type); v != nullptr && !v->is_primitive())
          local_types_.insert(v->defined_ptr().get());
      }
      for (const auto& e : (*i)->exports) STRATUS_TRY(ext(e.type));
      return {};
    }
    if (const auto* c = std::get_if<ComponentTypePtr>(&t)) {
      for (const auto& e : (*c)->imports) STRATUS_TRY(ext(e.type));
      for (const auto& e : (*c)->exports) STRATUS_TRY(ext(e.type));
    }
    return {};
  }

 private:
  Result<void> named(const TypeName& n) const {
    if (local_.count(&n) != 0) return {};
    if (n.owner != component_id_)
      return make_error("type `" + n.name + "` is named by another component's import or export, not this one's");
    if (import_ && n.exported) return make_error("imports cannot refer to the exported type `" + n.name + "`");
    return {};
  }
  Result<void> handle(const TypeNamePtr& alias) const {
    if (alias == nullptr)
      return make_error(std::string("resource used without an exported or imported name (") +
                        (import_ ? "import" : "export") + " it as a type first)");
    return named(*alias);
  }

  bool import_;
  uint64_t component_id_;
  std::set<const TypeName*> local_;
  std::set<const DefinedType*> local_types_;
  const std::set<const DefinedType*>* named_;
  std::set<const DefinedType*> checked_;
};

}  // namespace

void collect_named_types(const ExternType& type, std::set<const DefinedType*>& named) {
  if (const auto* b = std::get_if<TypeBound>(&type)) {
    if (const auto* v = std::get_if<ValType>(&b->type); v != nullptr && !v->is_primitive())
      named.insert(v->defined_ptr().get());
    return;
  }
  if (const auto* i = std::get_if<InstanceTypePtr>(&type))
    for (const auto& e : (*i)->exports) collect_named_types(e.type, named);
}

Result<void> check_visibility(const ExternType& type, bool import, uint64_t component_id,
                              const std::set<const DefinedType*>* named) {
  auto ok = Visibility(import, component_id, named).ext(type);
  if (!ok.ok()) {
    const char* kind = std::holds_alternative<FuncTypePtr>(type)        ? "func"
                       : std::holds_alternative<TypeBound>(type)        ? "type"
                       : std::holds_alternative<InstanceTypePtr>(type)  ? "instance"
                       : std::holds_alternative<ComponentTypePtr>(type) ? "component"
                                                                        : "value";
    return make_error(std::string(kind) + " not valid to be used as " + (import ? "import" : "export") + ": " +
                      ok.error().message);
  }
  return {};
}

Result<void> check_extern(NameContext& cx, const ExternName& n, const ExternType& type, const char* what) {
  auto fail = [&](const Error& e) {
    return Reader::error_at(n.offset, std::string(what) + " `" + n.name + "`: " + e.message);
  };
  auto [it, fresh] = cx.keys.emplace(n.parsed.key, n.name);
  if (!fresh)
    return Reader::error_at(
        n.offset, std::string(what) + " name `" + n.name + "` conflicts with previous name `" + it->second + "`");
  if (n.implements && !std::holds_alternative<InstanceTypePtr>(type))
    return fail(make_error("only instances can have an `implements`"));
  if (n.parsed.kind == NameKind::Constructor || n.parsed.kind == NameKind::Method ||
      n.parsed.kind == NameKind::Static) {
    auto ok = check_annotated(cx, n, type);
    if (!ok.ok()) return fail(ok.error());
  }
  if (const auto* b = std::get_if<TypeBound>(&type)) {
    if (const auto* res = std::get_if<ResourceTypePtr>(&b->type)) {
      cx.resource_names.emplace(res->get(), n.name);
      cx.all_resource_names.insert(n.name);
    }
  }
  return {};
}

}  // namespace stratus::component::binary
