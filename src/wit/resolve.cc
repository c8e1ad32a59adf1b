#include "wit/resolve.h"

#include <functional>
#include <map>
#include <set>

namespace stratus::wit {
namespace {

using namespace component;  // NOLINT(google-build-using-namespace): the type model throughout

// A name a type has in an interface or world: a value type (carrying the
// TypeName of the definition it was written against) or a resource, with
// the alias name when it was written through `type a = r;`.
struct Named {
  std::optional<ValType> value;
  ResourceTypePtr resource;
  TypeNamePtr alias;
  Gates gates;  // of the declaration it names
};

// An interface or world declaration and where it was written.
template <class Decl>
struct Located {
  const Decl* decl = nullptr;
  const ParsedPackage* package = nullptr;
  const std::string* file = nullptr;
  const PackageBody* body = nullptr;
};
using InterfaceRef = Located<InterfaceDecl>;
using WorldRef = Located<WorldDecl>;

std::string qualified(const PackageName& p, const std::string& name) {
  std::string out;
  for (const auto& n : p.namespaces) out += n + ":";
  out += p.name + "/" + name;
  if (p.version) out += "@" + *p.version;
  return out;
}

Error error_at(const std::string* file, Pos pos, const std::string& message) {
  return make_error((file ? *file : std::string("<wit>")) + ":" + std::to_string(pos.line) + ":" +
                    std::to_string(pos.column) + ": " + message);
}

TypeNamePtr type_name(const std::string& name) { return std::make_shared<const TypeName>(TypeName{name, false, 0}); }

FuncTypePtr func_type(std::vector<component::Field> params, std::optional<ValType> result, bool async) {
  auto f = std::make_shared<FuncType>();
  f->params = std::move(params);
  f->result = std::move(result);
  f->async = async;
  return f;
}

class Resolver {
 public:
  explicit Resolver(const std::vector<ParsedPackage>& packages) : packages_(packages) {}

  Result<ComponentTypePtr> world(const std::string& name) {
    auto w = find_world(name);
    if (!w.ok()) return std::move(w).error();
    STRATUS_TRY(world_items(*w, {}));
    return ComponentTypePtr(std::make_shared<ComponentType>(std::move(out_)));
  }

 private:
  // A scope: the names an interface or world body declares or uses.
  struct Scope {
    const std::string* file = nullptr;
    const PackageName* package = nullptr;
    const PackageBody* body = nullptr;
    // Names are resolved on first use, in any order (a resource's methods
    // may use types declared after it); exports are emitted in item order.
    std::map<std::string, const TypeDecl*> decls;
    std::map<std::string, std::pair<const UseDecl*, const UseDecl::Name*>> uses;
    std::map<std::string, Named> done;
    std::map<std::string, TypeBound> bounds;  // each name's type export
    std::set<std::string> resolving;
    std::vector<NamedExtern>* exports = nullptr;  // where exports are emitted
    const Gates* current = nullptr;               // the gates of the item being resolved

    // Registers the names the items declare or use.
    template <class Items>
    Result<void> declare(const Items& items) {
      auto once = [&](const std::string& name, Pos pos) -> Result<void> {
        if (decls.count(name) != 0 || uses.count(name) != 0)
          return error_at(file, pos, "`" + name + "` is defined more than once");
        return {};
      };
      for (const auto& item : items) {
        if (const auto* t = std::get_if<TypeDecl>(&item)) {
          STRATUS_TRY(once(t->name, t->pos));
          decls[t->name] = t;
        } else if (const auto* u = std::get_if<UseDecl>(&item)) {
          for (const auto& n : u->names) {
            std::string local = n.as.empty() ? n.name : n.as;
            STRATUS_TRY(once(local, n.pos));
            uses[local] = {u, &n};
          }
        }
      }
      return {};
    }
  };

  // ------------------------------------------------------------ lookup

  const ParsedPackage* package_named(const std::vector<std::string>& parts, const std::optional<std::string>& version) {
    std::string base;
    for (size_t i = 0; i + 1 < parts.size(); ++i) base += parts[i] + ":";
    base += parts.back();
    const ParsedPackage* unversioned = nullptr;
    size_t matches = 0;
    for (const auto& p : packages_) {
      std::string theirs = p.name.to_string();
      if (version && theirs == base + "@" + *version) return &p;
      PackageName bare = p.name;
      bare.version.reset();
      if (!version && bare.to_string() == base) {
        unversioned = &p;
        ++matches;
      }
    }
    return matches == 1 ? unversioned : nullptr;
  }

  template <class Decl>
  std::optional<Located<Decl>> find_in(const ParsedPackage& p, const std::string& name) {
    for (size_t b = 0; b < p.bodies.size(); ++b)
      for (const auto& item : p.bodies[b].items)
        if (const auto* d = std::get_if<Decl>(&item); d != nullptr && d->name == name)
          return Located<Decl>{d, &p, &p.files[std::min(b, p.files.size() - 1)], &p.bodies[b]};
    return std::nullopt;
  }

  Result<InterfaceRef> find_interface(const UsePath& path, const Scope& from) {
    if (path.local()) {
      // A top-level `use ... as name;` of this file, or an interface of this package.
      if (from.body != nullptr)
        for (const auto& item : from.body->items)
          if (const auto* u = std::get_if<TopUse>(&item))
            if ((u->as.empty() ? u->path.name : u->as) == path.name) return find_interface(u->path, from);
      for (const auto& p : packages_)
        if (from.package != nullptr && p.name.to_string() == from.package->to_string())
          if (auto found = find_in<InterfaceDecl>(p, path.name)) return *found;
      return error_at(from.file, path.pos, "no interface `" + path.name + "` in this package");
    }
    std::vector<std::string> parts = path.package;
    const ParsedPackage* p = package_named(parts, path.version);
    if (p == nullptr) return error_at(from.file, path.pos, "package of `" + path.to_string() + "` not found");
    if (auto found = find_in<InterfaceDecl>(*p, path.name)) return *found;
    return error_at(from.file, path.pos, "interface `" + path.to_string() + "` not found");
  }

  Result<WorldRef> find_world(const std::string& name) {
    if (packages_.empty()) return make_error("no WIT packages");
    size_t slash = name.find('/');
    if (slash == std::string::npos) {
      if (auto w = find_in<WorldDecl>(packages_.front(), name)) return *w;
      return make_error("world `" + name + "` not found in package `" + packages_.front().name.to_string() + "`");
    }
    std::string pkg = name.substr(0, slash), rest = name.substr(slash + 1);
    std::optional<std::string> version;
    if (size_t at = rest.find('@'); at != std::string::npos) {
      version = rest.substr(at + 1);
      rest = rest.substr(0, at);
    }
    std::vector<std::string> parts;
    for (size_t i = 0, j; i <= pkg.size(); i = j + 1) {
      j = std::min(pkg.find(':', i), pkg.size());
      parts.push_back(pkg.substr(i, j - i));
    }
    const ParsedPackage* p = package_named(parts, version);
    if (p != nullptr)
      if (auto w = find_in<WorldDecl>(*p, rest)) return *w;
    return make_error("world `" + name + "` not found");
  }

  // ------------------------------------------------------------ types

  Result<Named> named(Scope& s, const std::string& name, Pos pos) {
    if (auto it = s.done.find(name); it != s.done.end()) return it->second;
    if (auto u = s.uses.find(name); u != s.uses.end()) {
      STRATUS_TRY(use(s, *u->second.first, *u->second.second));
      return s.done[name];
    }
    auto d = s.decls.find(name);
    if (d == s.decls.end()) return error_at(s.file, pos, "type `" + name + "` is not defined");
    if (!s.resolving.insert(name).second) return error_at(s.file, pos, "type `" + name + "` refers to itself");
    if (s.resolving.size() > kMaxChain)
      return error_at(s.file, pos,
                      "type `" + name + "` is defined through more than " + std::to_string(kMaxChain) + " other types");
    auto def = define(s, *d->second);
    s.resolving.erase(name);
    if (!def.ok()) return std::move(def).error();
    s.done[name] = *def;
    return *def;
  }

  // Emits the export of a declared or used name (and a resource's functions).
  Result<void> emit(Scope& s, const std::string& name, Pos pos) {
    auto n = named(s, name, pos);
    if (!n.ok()) return std::move(n).error();
    s.exports->push_back({name, s.bounds[name]});
    if (auto d = s.decls.find(name); d != s.decls.end() && d->second->kind == TypeDecl::Kind::Resource)
      STRATUS_TRY(resource_funcs(s, *d->second, n->resource));
    return {};
  }

  // Resolves a type declaration; its export is kept in `s.bounds`.
  // Makes `gates` the scope's current item's for as long as it lives.
  class Current {
   public:
    Current(Scope& s, const Gates& gates) : s_(s), saved_(s.current) { s.current = &gates; }
    ~Current() { s_.current = saved_; }
    Current(const Current&) = delete;
    Current& operator=(const Current&) = delete;

   private:
    Scope& s_;
    const Gates* saved_;
  };

  Result<void> check_reference(const Scope& s, const std::string& name, const Named& n, Pos pos) {
    if (s.current == nullptr) return {};
    if (auto why = incompatible_reference(*s.current, n.gates))
      return error_at(s.file, pos, "`" + name + "` is gated " + *why);
    return {};
  }

  Result<Named> define(Scope& s, const TypeDecl& d) {
    Current current(s, d.attrs.gates);
    auto n = type_name(d.name);
    Named out;
    out.gates = d.attrs.gates;
    TypeBound bound;
    bound.name = n;
    switch (d.kind) {
      case TypeDecl::Kind::Resource: {
        auto r = std::make_shared<ResourceType>();
        r->name = d.name;
        out.resource = r;
        bound.type = ResourceTypePtr(r);
        bound.sub_resource = true;
        break;
      }
      case TypeDecl::Kind::Alias: {
        if (d.alias->kind == Type::Kind::Named) {
          auto target = named(s, d.alias->name, d.alias->pos);
          if (!target.ok()) return std::move(target).error();
          STRATUS_TRY(check_reference(s, d.alias->name, *target, d.alias->pos));
          if (target->resource) {
            out.resource = target->resource;
            out.alias = n;
            bound.type = target->resource;
            break;
          }
        }
        auto v = type(s, *d.alias);
        if (!v.ok()) return std::move(v).error();
        bound.type = *v;
        out.value = v->with_name(n);
        break;
      }
      case TypeDecl::Kind::Record: {
        RecordType rec;
        for (const auto& f : d.fields) {
          auto t = type(s, *f.type);
          if (!t.ok()) return std::move(t).error();
          rec.fields.push_back({f.name, *t});
        }
        bound.type = make_type(std::move(rec));
        break;
      }
      case TypeDecl::Kind::Variant: {
        VariantType var;
        for (const auto& c : d.cases) {
          std::optional<ValType> payload;
          if (c.type) {
            auto t = type(s, *c.type);
            if (!t.ok()) return std::move(t).error();
            payload = *t;
          }
          var.cases.push_back({c.name, payload});
        }
        bound.type = make_type(std::move(var));
        break;
      }
      case TypeDecl::Kind::Enum:
      case TypeDecl::Kind::Flags: {
        std::vector<std::string> names;
        for (const auto& c : d.cases) names.push_back(c.name);
        if (d.kind == TypeDecl::Kind::Enum) {
          bound.type = make_type(EnumType{std::move(names)});
        } else {
          bound.type = make_type(FlagsType{std::move(names)});
        }
        break;
      }
    }
    if (!out.value && !out.resource) out.value = std::get<ValType>(bound.type).with_name(n);
    s.bounds[d.name] = bound;
    return out;
  }

  Result<void> resource_funcs(Scope& s, const TypeDecl& d, const ResourceTypePtr& r) {
    for (const auto& f : d.funcs) {
      std::vector<component::Field> params;
      if (f.kind == ResourceFunc::Kind::Method) params.push_back({"self", make_type(BorrowType{r, nullptr})});
      Current current(s, f.attrs.gates);
      auto sig = signature(s, f.sig, std::move(params));
      if (!sig.ok()) return std::move(sig).error();
      std::string name;
      if (f.kind == ResourceFunc::Kind::Constructor) {
        name = "[constructor]" + d.name;
        auto ft = std::make_shared<FuncType>(**sig);
        if (!ft->result) ft->result = make_type(OwnType{r, nullptr});
        *sig = ft;
      } else {
        name = (f.kind == ResourceFunc::Kind::Method ? "[method]" : "[static]") + d.name + "." + f.name;
      }
      s.exports->push_back({name, *sig});
    }
    return {};
  }

  Result<ValType> type(Scope& s, const Type& t) {
    auto sub = [&](size_t i) -> Result<std::optional<ValType>> {
      if (i >= t.args.size() || t.args[i] == nullptr) return std::optional<ValType>();
      auto v = type(s, *t.args[i]);
      if (!v.ok()) return std::move(v).error();
      return std::optional<ValType>(*v);
    };
    switch (t.kind) {
      case Type::Kind::Prim: return ValType(t.prim);
      case Type::Kind::Named:
      case Type::Kind::Borrow: {
        auto n = named(s, t.name, t.pos);
        if (!n.ok()) return std::move(n).error();
        STRATUS_TRY(check_reference(s, t.name, *n, t.pos));
        if (t.kind == Type::Kind::Borrow) {
          if (!n->resource)
            return error_at(s.file, t.pos, "`" + t.name + "` is not a resource, so it cannot be borrowed");
          return make_type(BorrowType{n->resource, n->alias});
        }
        if (n->resource) return make_type(OwnType{n->resource, n->alias});
        return *n->value;
      }
      case Type::Kind::List: {
        auto e = sub(0);
        if (!e.ok()) return std::move(e).error();
        return make_type(ListType{**e, t.length});
      }
      case Type::Kind::Option: {
        auto e = sub(0);
        if (!e.ok()) return std::move(e).error();
        return make_type(OptionType{**e});
      }
      case Type::Kind::Tuple: {
        TupleType tup;
        for (size_t i = 0; i < t.args.size(); ++i) {
          auto e = sub(i);
          if (!e.ok()) return std::move(e).error();
          tup.elements.push_back(**e);
        }
        return make_type(std::move(tup));
      }
      case Type::Kind::Result: {
        auto ok = sub(0);
        if (!ok.ok()) return std::move(ok).error();
        auto err = sub(1);
        if (!err.ok()) return std::move(err).error();
        return make_type(ResultType{*ok, *err});
      }
      case Type::Kind::Map: {
        auto k = sub(0);
        if (!k.ok()) return std::move(k).error();
        auto v = sub(1);
        if (!v.ok()) return std::move(v).error();
        return make_type(make_map(**k, **v));
      }
      case Type::Kind::Future:
      case Type::Kind::Stream: {
        auto e = sub(0);
        if (!e.ok()) return std::move(e).error();
        if (t.kind == Type::Kind::Future) return make_type(FutureType{*e});
        return make_type(StreamType{*e});
      }
    }
    return error_at(s.file, t.pos, "unknown type");
  }

  Result<FuncTypePtr> signature(Scope& s, const FuncSig& sig, std::vector<component::Field> params) {
    for (const auto& p : sig.params) {
      auto t = type(s, *p.type);
      if (!t.ok()) return std::move(t).error();
      params.push_back({p.name, *t});
    }
    std::optional<ValType> result;
    if (sig.result) {
      auto t = type(s, *sig.result);
      if (!t.ok()) return std::move(t).error();
      result = *t;
    }
    return func_type(std::move(params), std::move(result), sig.async);
  }

  // One name of `use path.{a, b as c}`: it refers to the type of the
  // imported interface, and becomes a type export of this scope.
  Result<void> use(Scope& s, const UseDecl& u, const UseDecl::Name& n) {
    auto dep = find_interface(u.from, s);
    if (!dep.ok()) return std::move(dep).error();
    auto imported = import_interface(*dep, u.from.pos, s.file);
    if (!imported.ok()) return std::move(imported).error();
    auto found = (*imported)->find(n.name);
    if (found == (*imported)->end())
      return error_at(s.file, n.pos, "interface `" + u.from.to_string() + "` has no type `" + n.name + "`");
    std::string local = n.as.empty() ? n.name : n.as;
    TypeBound bound;
    bound.name = type_name(local);
    Named entry = found->second;
    {
      Current current(s, u.attrs.gates);
      STRATUS_TRY(check_reference(s, n.name, entry, n.pos));
    }
    if (entry.resource) {
      bound.type = entry.resource;
      entry.alias = nullptr;
    } else {
      bound.type = *entry.value;
      entry.value = entry.value->with_name(bound.name);
    }
    s.bounds[local] = bound;
    s.done[local] = entry;
    return {};
  }

  // Emits the exports of `items` in order.
  template <class Items>
  Result<void> emit_types(Scope& s, const Items& items, const std::function<Result<void>(const FuncDecl&)>& func) {
    for (const auto& item : items) {
      if (const auto* u = std::get_if<UseDecl>(&item)) {
        for (const auto& n : u->names) STRATUS_TRY(emit(s, n.as.empty() ? n.name : n.as, n.pos));
      } else if (const auto* t = std::get_if<TypeDecl>(&item)) {
        STRATUS_TRY(emit(s, t->name, t->pos));
      } else if (const auto* f = std::get_if<FuncDecl>(&item)) {
        STRATUS_TRY(func(*f));
      }
    }
    return {};
  }

  // ------------------------------------------------------------ interfaces

  // The instance type of an interface body, with the names it defines.
  Result<std::pair<InstanceTypePtr, std::map<std::string, Named>>> interface_body(const InterfaceDecl& d,
                                                                                  const std::string* file,
                                                                                  const PackageName* package,
                                                                                  const PackageBody* body) {
    auto inst = std::make_shared<InstanceType>();
    Scope s;
    s.file = file;
    s.package = package;
    s.body = body;
    s.exports = &inst->exports;
    STRATUS_TRY(s.declare(d.items));
    std::set<std::string> funcs;
    STRATUS_TRY(emit_types(s, d.items, [&](const FuncDecl& f) -> Result<void> {
      if (!funcs.insert(f.name).second || s.decls.count(f.name) != 0 || s.uses.count(f.name) != 0)
        return error_at(file, f.pos, "`" + f.name + "` is defined more than once");
      Current current(s, f.attrs.gates);
      auto sig = signature(s, f.sig, {});
      if (!sig.ok()) return std::move(sig).error();
      inst->exports.push_back({f.name, *sig});
      return {};
    }));
    return std::make_pair(InstanceTypePtr(inst), std::move(s.done));
  }

  // Imports `ref` into the world once (its own uses first) and returns the
  // names it defines.
  Result<const std::map<std::string, Named>*> import_interface(const InterfaceRef& ref, Pos pos,
                                                               const std::string* file) {
    if (auto it = imported_.find(ref.decl); it != imported_.end()) return &it->second;
    if (!importing_.insert(ref.decl).second)
      return error_at(file, pos, "interface `" + ref.decl->name + "` depends on itself through `use`");
    if (importing_.size() > kMaxChain)
      return error_at(file, pos,
                      "interface `" + ref.decl->name + "` depends on more than " + std::to_string(kMaxChain) +
                          " interfaces in a chain");
    auto body = interface_body(*ref.decl, ref.file, &ref.package->name, ref.body);
    importing_.erase(ref.decl);
    if (!body.ok()) return std::move(body).error();
    out_.imports.push_back({qualified(ref.package->name, ref.decl->name), body->first});
    return &imported_.emplace(ref.decl, std::move(body->second)).first->second;
  }

  // ------------------------------------------------------------ worlds

  Result<void> world_items(const WorldRef& w, const std::map<std::string, std::string>& renames) {
    if (!including_.insert(w.decl).second)
      return error_at(w.file, w.decl->pos, "world `" + w.decl->name + "` includes itself");
    auto done = world_items_once(w, renames);
    including_.erase(w.decl);
    return done;
  }

  Result<void> world_items_once(const WorldRef& w, const std::map<std::string, std::string>& renames) {
    Scope s;
    s.file = w.file;
    s.package = &w.package->name;
    s.body = w.body;
    s.exports = &out_.imports;  // world-level types are imports
    STRATUS_TRY(s.declare(w.decl->items));
    auto renamed = [&](const std::string& n) {
      auto it = renames.find(n);
      return it == renames.end() ? n : it->second;
    };
    for (const auto& item : w.decl->items) {
      if (const auto* u = std::get_if<UseDecl>(&item)) {
        for (const auto& n : u->names) STRATUS_TRY(emit(s, n.as.empty() ? n.name : n.as, n.pos));
      } else if (const auto* t = std::get_if<TypeDecl>(&item)) {
        STRATUS_TRY(emit(s, t->name, t->pos));
      } else if (const auto* inc = std::get_if<IncludeDecl>(&item)) {
        std::string name = inc->world.local() ? inc->world.name : inc->world.to_string();
        if (inc->world.local()) {
          auto found = find_in<WorldDecl>(*w.package, inc->world.name);
          if (!found) return error_at(w.file, inc->pos, "no world `" + name + "` in this package");
          std::map<std::string, std::string> with;
          for (const auto& r : inc->with) with[r.from] = r.to;
          STRATUS_TRY(world_items(*found, with));
        } else {
          auto found = find_world(inc->world.to_string());
          if (!found.ok()) return error_at(w.file, inc->pos, found.error().message);
          std::map<std::string, std::string> with;
          for (const auto& r : inc->with) with[r.from] = r.to;
          STRATUS_TRY(world_items(*found, with));
        }
      } else {
        STRATUS_TRY(extern_item(s, std::get<ExternDecl>(item), renamed));
      }
    }
    return {};
  }

  Result<void> extern_item(Scope& s, const ExternDecl& e,
                           const std::function<std::string(const std::string&)>& renamed) {
    auto& list = e.import ? out_.imports : out_.exports;
    auto add = [&](const std::string& name, ExternType type) -> Result<void> {
      for (const auto& x : list)
        if (x.name == name) {
          // The same interface twice (say, through an include) is one import.
          if (std::holds_alternative<InstanceTypePtr>(type) && name.find('/') != std::string::npos) return {};
          return error_at(s.file, e.pos,
                          std::string(e.import ? "import" : "export") + " `" + name + "` is defined more than once");
        }
      list.push_back({name, std::move(type)});
      return {};
    };
    if (e.func) {
      Current current(s, e.attrs.gates);
      auto sig = signature(s, *e.func, {});
      if (!sig.ok()) return std::move(sig).error();
      return add(renamed(e.name), *sig);
    }
    if (e.interface) {
      auto body = interface_body(*e.interface, s.file, s.package, s.body);
      if (!body.ok()) return std::move(body).error();
      return add(renamed(e.name), body->first);
    }
    auto ref = find_interface(*e.path, s);
    if (!ref.ok()) return std::move(ref).error();
    std::string name = e.name.empty() ? qualified(ref->package->name, ref->decl->name) : renamed(e.name);
    if (e.import && e.name.empty()) {
      auto imported = import_interface(*ref, e.pos, s.file);
      if (!imported.ok()) return std::move(imported).error();
      return {};
    }
    // An export, or an import under a plain name: an instance of its own,
    // whose uses refer to the imported interfaces.
    auto body = interface_body(*ref->decl, ref->file, &ref->package->name, ref->body);
    if (!body.ok()) return std::move(body).error();
    return add(name, body->first);
  }

  const std::vector<ParsedPackage>& packages_;
  ComponentType out_;
  std::map<const InterfaceDecl*, std::map<std::string, Named>> imported_;
  std::set<const InterfaceDecl*> importing_;
  std::set<const WorldDecl*> including_;
  // Chains of definitions are resolved recursively; hostile text must not
  // exhaust the stack.
  static constexpr size_t kMaxChain = 256;
};

}  // namespace

Result<ComponentTypePtr> resolve_world(const std::vector<ParsedPackage>& packages, const std::string& world) {
  Resolver r(packages);
  return r.world(world);
}

}  // namespace stratus::wit
