#include "component/wit_print.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <vector>

namespace stratus::component {
namespace {

bool is_interface_name(const std::string& name) {
  return name.find(':') != std::string::npos && name.find('/') != std::string::npos;
}

// "wasi:io/streams@0.2.0" -> package "wasi:io@0.2.0", interface "streams".
struct InterfaceName {
  std::string package;
  std::string name;
};
InterfaceName split_interface_name(const std::string& full) {
  size_t slash = full.find('/');
  size_t at = full.find('@', slash);
  std::string version = at == std::string::npos ? "" : full.substr(at);
  std::string iface = full.substr(slash + 1, at == std::string::npos ? std::string::npos : at - slash - 1);
  return {full.substr(0, slash) + version, iface};
}

// Where a type was first exported: the interface ("" for the world) and the
// name it has there.
struct Owner {
  std::string scope;
  std::string name;
};

// One block being printed: a world or an interface, with the local names of
// the types it defines or uses.
struct Scope {
  std::string self;  // the interface name, or "" for the world
  std::map<const TypeName*, std::string> names;
  std::map<const ResourceType*, std::string> resources;
};

constexpr std::string_view kConstructor = "[constructor]";
constexpr std::string_view kMethod = "[method]";
constexpr std::string_view kStatic = "[static]";

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// The resource a [constructor]/[method]/[static] function belongs to, or "".
std::string resource_of(const std::string& name) {
  if (starts_with(name, kConstructor)) return name.substr(kConstructor.size());
  for (auto prefix : {kMethod, kStatic}) {
    if (starts_with(name, prefix)) {
      auto rest = name.substr(prefix.size());
      return rest.substr(0, rest.find('.'));
    }
  }
  return "";
}

class Printer {
 public:
  explicit Printer(const ComponentType& type) : type_(type) {
    register_scope("", type.imports);
    register_scope("", type.exports);
  }

  std::string print() {
    out_ = "package root:component;\n\nworld root {\n";
    Scope world;
    print_items(type_.imports, world, 1, "import ");
    if (!type_.imports.empty() && !type_.exports.empty()) out_ += "\n";
    print_items(type_.exports, world, 1, "export ");
    out_ += "}\n";
    print_packages();
    return out_;
  }

 private:
  void register_scope(const std::string& scope, const std::vector<NamedExtern>& items) {
    for (const auto& e : items) {
      if (const auto* b = std::get_if<TypeBound>(&e.type)) {
        if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) {
          resource_owner_.emplace(r->get(), Owner{scope, e.name});
        } else if (b->name != nullptr) {
          value_owner_.emplace(b->name.get(), Owner{scope, e.name});
        }
      } else if (const auto* i = std::get_if<InstanceTypePtr>(&e.type)) {
        if (is_interface_name(e.name) &&
            std::none_of(interfaces_.begin(), interfaces_.end(), [&](const auto& x) { return x.first == e.name; }))
          interfaces_.emplace_back(e.name, *i);
        register_scope(e.name, (*i)->exports);
      }
    }
  }

  void indent(int depth) { out_.append(static_cast<size_t>(depth) * 2, ' '); }

  // The `use` path of a type owned by another named interface, or "".
  std::string use_path(const Owner& owner, const Scope& scope) const {
    if (owner.scope == scope.self || !is_interface_name(owner.scope)) return "";
    // Within one package an interface is named without its package (the
    // full name would make the package depend on itself).
    auto theirs = split_interface_name(owner.scope);
    if (is_interface_name(scope.self) && split_interface_name(scope.self).package == theirs.package)
      return wit_ident(theirs.name);
    return owner.scope;
  }

  void print_use(const std::string& path, const std::string& theirs, const std::string& ours, int depth) {
    indent(depth);
    out_ += "use " + path + ".{" + wit_ident(theirs);
    if (theirs != ours) out_ += " as " + wit_ident(ours);
    out_ += "};\n";
  }

  // The items of a world (prefix "import "/"export ") or an interface body
  // (prefix "").
  void print_items(const std::vector<NamedExtern>& items, Scope& scope, int depth, const std::string& prefix) {
    // Names first: a resource's methods may use types declared after it.
    for (const auto& e : items) {
      const auto* b = std::get_if<TypeBound>(&e.type);
      if (b == nullptr) continue;
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) scope.resources.emplace(r->get(), e.name);
      if (b->name != nullptr) scope.names[b->name.get()] = e.name;
    }
    for (const auto& e : items) {
      if (const auto* b = std::get_if<TypeBound>(&e.type)) {
        print_type_item(e.name, *b, items, scope, depth);
      } else if (const auto* f = std::get_if<FuncTypePtr>(&e.type)) {
        if (!resource_of(e.name).empty()) continue;  // printed inside its resource
        indent(depth);
        out_ += prefix + wit_ident(e.name) + ": " + func(**f, 0, scope) + ";\n";
      } else if (const auto* i = std::get_if<InstanceTypePtr>(&e.type)) {
        indent(depth);
        if (is_interface_name(e.name)) {
          out_ += prefix + e.name + ";\n";
          continue;
        }
        out_ += prefix + wit_ident(e.name) + ": interface {\n";
        Scope inner{e.name, {}, {}};
        print_items((*i)->exports, inner, depth + 1, "");
        indent(depth);
        out_ += "}\n";
      } else {
        // Core modules, components and values have no WIT form.
        indent(depth);
        const char* what = std::holds_alternative<ValueBound>(e.type)         ? "a value"
                           : std::holds_alternative<ComponentTypePtr>(e.type) ? "a component"
                                                                              : "a core module";
        out_ += "// " + prefix + e.name + ": " + what + " (not expressible in WIT)\n";
      }
    }
  }

  void print_type_item(const std::string& name, const TypeBound& b, const std::vector<NamedExtern>& items,
                       const Scope& scope, int depth) {
    if (const auto* r = std::get_if<ResourceTypePtr>(&b.type)) {
      auto found = resource_owner_.find(r->get());
      Owner owner = found == resource_owner_.end() ? Owner{scope.self, name} : found->second;
      if (owner.scope == scope.self && owner.name == name) {
        print_resource(name, items, scope, depth);
      } else if (auto path = use_path(owner, scope); !path.empty()) {
        print_use(path, owner.name, name, depth);
      } else {
        indent(depth);
        out_ += "type " + wit_ident(name) + " = " + wit_ident(owner.name) + ";\n";
      }
      return;
    }
    const auto& v = std::get<ValType>(b.type);
    if (v.name() != nullptr) {
      if (auto it = value_owner_.find(v.name()); it != value_owner_.end()) {
        if (auto path = use_path(it->second, scope); !path.empty()) {
          print_use(path, it->second.name, name, depth);
          return;
        }
        if (scope.names.count(v.name()) != 0) {
          indent(depth);
          out_ += "type " + wit_ident(name) + " = " + type(v, scope) + ";\n";
          return;
        }
      }
    }
    print_definition(name, v, scope, depth);
  }

  void print_definition(const std::string& name, const ValType& v, const Scope& scope, int depth) {
    indent(depth);
    if (v.is_primitive()) {
      out_ += "type " + wit_ident(name) + " = " + prim_name(v.primitive()) + ";\n";
      return;
    }
    auto block = [&](const char* keyword, const std::vector<std::string>& lines) {
      out_ += std::string(keyword) + " " + wit_ident(name) + " {\n";
      for (const auto& l : lines) {
        indent(depth + 1);
        out_ += l + ",\n";
      }
      indent(depth);
      out_ += "}\n";
    };
    std::vector<std::string> lines;
    const auto& kind = v.defined().kind;
    if (const auto* rec = std::get_if<RecordType>(&kind)) {
      for (const auto& f : rec->fields) lines.push_back(wit_ident(f.name) + ": " + type(f.type, scope));
      block("record", lines);
    } else if (const auto* var = std::get_if<VariantType>(&kind)) {
      for (const auto& c : var->cases)
        lines.push_back(wit_ident(c.name) + (c.type ? "(" + type(*c.type, scope) + ")" : ""));
      block("variant", lines);
    } else if (const auto* en = std::get_if<EnumType>(&kind)) {
      for (const auto& n : en->names) lines.push_back(wit_ident(n));
      block("enum", lines);
    } else if (const auto* fl = std::get_if<FlagsType>(&kind)) {
      for (const auto& n : fl->names) lines.push_back(wit_ident(n));
      block("flags", lines);
    } else {
      out_ += "type " + wit_ident(name) + " = " + type(v.with_name(nullptr), scope) + ";\n";
    }
  }

  void print_resource(const std::string& name, const std::vector<NamedExtern>& items, const Scope& scope, int depth) {
    std::vector<std::string> members;
    for (const auto& e : items) {
      const auto* f = std::get_if<FuncTypePtr>(&e.type);
      if (f == nullptr || resource_of(e.name) != name) continue;
      const FuncType& ft = **f;
      if (starts_with(e.name, kConstructor)) {
        std::string line = "constructor" + params(ft, 0, scope);
        bool plain =
            ft.result && !ft.result->is_primitive() && std::holds_alternative<OwnType>(ft.result->defined().kind);
        if (ft.result && !plain) line += " -> " + type(*ft.result, scope);
        members.push_back(line);
      } else if (starts_with(e.name, kMethod)) {
        members.push_back(wit_ident(e.name.substr(e.name.find('.') + 1)) + ": " + func(ft, 1, scope));
      } else {
        members.push_back(wit_ident(e.name.substr(e.name.find('.') + 1)) + ": static " + func(ft, 0, scope));
      }
    }
    indent(depth);
    out_ += "resource " + wit_ident(name);
    if (members.empty()) {
      out_ += ";\n";
      return;
    }
    out_ += " {\n";
    for (const auto& m : members) {
      indent(depth + 1);
      out_ += m + ";\n";
    }
    indent(depth);
    out_ += "}\n";
  }

  void print_packages() {
    std::vector<std::string> order;
    std::map<std::string, std::vector<std::pair<std::string, InstanceTypePtr>>> packages;
    for (const auto& [full, type] : interfaces_) {
      auto n = split_interface_name(full);
      if (packages.count(n.package) == 0) order.push_back(n.package);
      packages[n.package].emplace_back(full, type);
    }
    for (const auto& package : order) {
      out_ += "\npackage " + package + " {\n";
      bool first = true;
      for (const auto& [full, type] : packages[package]) {
        if (!first) out_ += "\n";
        first = false;
        out_ += "  interface " + wit_ident(split_interface_name(full).name) + " {\n";
        Scope scope{full, {}, {}};
        print_items(type->exports, scope, 2, "");
        out_ += "  }\n";
      }
      out_ += "}\n";
    }
  }

  std::string params(const FuncType& f, size_t skip, const Scope& scope) {
    std::string s = "(";
    for (size_t i = skip; i < f.params.size(); ++i) {
      if (i > skip) s += ", ";
      s += wit_ident(f.params[i].name) + ": " + type(f.params[i].type, scope);
    }
    return s + ")";
  }

  std::string func(const FuncType& f, size_t skip, const Scope& scope) {
    std::string s = f.async ? "async func" : "func";
    s += params(f, skip, scope);
    if (f.result) s += " -> " + type(*f.result, scope);
    return s;
  }

  std::string handle_name(const ResourceTypePtr& r, const TypeNamePtr& alias, const Scope& scope) const {
    if (alias != nullptr) {
      if (auto it = scope.names.find(alias.get()); it != scope.names.end()) return wit_ident(it->second);
    }
    return resource_name(r, scope);
  }

  std::string resource_name(const ResourceTypePtr& r, const Scope& scope) const {
    if (auto it = scope.resources.find(r.get()); it != scope.resources.end()) return wit_ident(it->second);
    if (auto it = resource_owner_.find(r.get()); it != resource_owner_.end()) return wit_ident(it->second.name);
    return wit_ident(r->name);
  }

  std::string opt(const std::optional<ValType>& t, const Scope& scope) {
    return t ? type(*t, scope) : std::string("_");
  }

  // Anonymous types are printed in full where they are used, and a type can
  // share subtrees (tuple<T, T> of tuple<U, U> ...): past kMaxTypeNodes the
  // printer writes "…" instead of a text exponential in the component's size.
  static constexpr size_t kMaxTypeNodes = 100000;

  std::string type(const ValType& t, const Scope& scope) {
    if (++type_nodes_ > kMaxTypeNodes) return "…";
    if (const auto* n = t.name()) {
      if (auto it = scope.names.find(n); it != scope.names.end()) return wit_ident(it->second);
    }
    if (t.is_primitive()) return prim_name(t.primitive());
    const auto& kind = t.defined().kind;
    auto fields = [&](const char* open, const auto& list, auto each) {
      std::string s = open;
      bool first = true;
      for (const auto& x : list) {
        if (!first) s += ", ";
        first = false;
        s += each(x);
      }
      return s;
    };
    if (const auto* l = std::get_if<ListType>(&kind))
      return "list<" + type(l->element, scope) + (l->length ? ", " + std::to_string(*l->length) : "") + ">";
    if (const auto* o = std::get_if<OptionType>(&kind)) return "option<" + type(o->element, scope) + ">";
    if (const auto* r = std::get_if<ResultType>(&kind)) {
      if (!r->ok && !r->err) return "result";
      if (!r->err) return "result<" + type(*r->ok, scope) + ">";
      return "result<" + opt(r->ok, scope) + ", " + type(*r->err, scope) + ">";
    }
    if (const auto* tu = std::get_if<TupleType>(&kind))
      return fields("tuple<", tu->elements, [&](const ValType& e) { return type(e, scope); }) + ">";
    if (const auto* o = std::get_if<OwnType>(&kind)) return handle_name(o->resource, o->alias, scope);
    if (const auto* b = std::get_if<BorrowType>(&kind))
      return "borrow<" + handle_name(b->resource, b->alias, scope) + ">";
    if (const auto* s = std::get_if<StreamType>(&kind))
      return s->element ? "stream<" + type(*s->element, scope) + ">" : "stream";
    if (const auto* f = std::get_if<FutureType>(&kind))
      return f->element ? "future<" + type(*f->element, scope) + ">" : "future";
    if (const auto* m = std::get_if<MapType>(&kind))
      return "map<" + type(m->key, scope) + ", " + type(m->value, scope) + ">";
    // An anonymous record, variant, enum or flags: WIT only has named ones,
    // so this shows the structure.
    if (const auto* rec = std::get_if<RecordType>(&kind))
      return fields("record { ", rec->fields,
                    [&](const Field& f) { return wit_ident(f.name) + ": " + type(f.type, scope); }) +
             " }";
    if (const auto* var = std::get_if<VariantType>(&kind))
      return fields(
                 "variant { ", var->cases,
                 [&](const Case& c) { return wit_ident(c.name) + (c.type ? "(" + type(*c.type, scope) + ")" : ""); }) +
             " }";
    if (const auto* en = std::get_if<EnumType>(&kind))
      return fields("enum { ", en->names, [](const std::string& n) { return wit_ident(n); }) + " }";
    const auto& fl = std::get<FlagsType>(kind);
    return fields("flags { ", fl.names, [](const std::string& n) { return wit_ident(n); }) + " }";
  }

  const ComponentType& type_;
  std::string out_;
  size_t type_nodes_ = 0;
  std::map<const TypeName*, Owner> value_owner_;
  std::map<const ResourceType*, Owner> resource_owner_;
  std::vector<std::pair<std::string, InstanceTypePtr>> interfaces_;  // by interface name, first seen first
};

}  // namespace

std::string wit_ident(const std::string& name) {
  static const std::set<std::string_view> keywords = {
      "as",   "async", "bool",   "borrow", "char",    "constructor", "enum",     "error-context", "export",
      "f32",  "f64",   "flags",  "from",   "func",    "future",      "import",   "include",       "interface",
      "list", "map",   "option", "own",    "package", "record",      "resource", "result",        "s16",
      "s32",  "s64",   "s8",     "static", "stream",  "string",      "tuple",    "type",          "u16",
      "u32",  "u64",   "u8",     "use",    "variant", "with",        "world",
  };
  return keywords.count(name) != 0 ? "%" + name : name;
}

std::string print_wit(const ComponentType& type) { return Printer(type).print(); }

}  // namespace stratus::component
