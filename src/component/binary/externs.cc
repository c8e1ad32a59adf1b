// The name rules of imports and exports (Binary.md, "Import and Export
// Definitions"): strong uniqueness, `implements`, and the function types that
// [constructor], [method] and [static] names require.
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

}  // namespace

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
