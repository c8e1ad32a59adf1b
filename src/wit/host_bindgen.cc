#include "wit/host_bindgen.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "component/wit_print.h"
#include "wit/resolve.h"

namespace stratus::wit {
namespace {

using namespace component;  // NOLINT(google-build-using-namespace): the type model throughout

bool cpp_keyword(const std::string& s) {
  static const std::set<std::string> kWords = {
      "alignas",  "alignof",  "and",      "asm",      "auto",      "bool",      "break",     "case",     "catch",
      "char",     "class",    "const",    "continue", "default",   "delete",    "do",        "double",   "else",
      "enum",     "explicit", "export",   "extern",   "false",     "float",     "for",       "friend",   "goto",
      "if",       "inline",   "int",      "long",     "mutable",   "namespace", "new",       "noexcept", "not",
      "nullptr",  "operator", "or",       "private",  "protected", "public",    "register",  "return",   "short",
      "signed",   "sizeof",   "static",   "struct",   "switch",    "template",  "this",      "throw",    "true",
      "try",      "typedef",  "typeid",   "typename", "union",     "unsigned",  "using",     "virtual",  "void",
      "volatile", "while",    "xor",      "concept",  "requires",  "co_await",  "co_return", "co_yield", "module",
      "import",   "final",    "override", "errno",    "stdin",     "stdout",    "stderr",    "EOF",
  };
  return kWords.count(s) != 0;
}

// `get-stdin` -> `get_stdin` (functions, fields, namespaces).
std::string snake(const std::string& kebab) {
  std::string out;
  for (char c : kebab) out.push_back(c == '-' ? '_' : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  if (cpp_keyword(out)) out += "_";
  return out;
}

// `descriptor-stat` -> `DescriptorStat` (types).
std::string camel(const std::string& kebab) {
  std::string out;
  bool up = true;
  for (char c : kebab) {
    if (c == '-') {
      up = true;
      continue;
    }
    bool upper = c >= 'A' && c <= 'Z';
    out.push_back(up && !upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A')
                                                       : (!up && upper ? static_cast<char>(c - 'A' + 'a') : c));
    up = false;
  }
  return out;
}

std::string string_literal(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// The host function a resource function binds to: `[constructor]r` ->
// `r_new`, `[method]r.f` and `[static]r.f` -> `r_f`.
std::string host_function_name(const std::string& name) {
  auto close = name.find(']');
  if (name.empty() || name[0] != '[' || close == std::string::npos) return snake(name);
  std::string rest = name.substr(close + 1);
  if (name.rfind("[constructor]", 0) == 0) return snake(rest) + "_new";
  auto dot = rest.find('.');
  return snake(rest.substr(0, dot)) + "_" + snake(rest.substr(dot + 1));
}

// One block of generated code: an imported interface.
// World-level imports (functions, and types they use) form one more unit,
// with `world` set and the world's own name.
struct Unit {
  std::string name;  // "wasi:cli/environment@0.2.0", or the world's name
  std::string ns;    // "wasi::cli::environment", or "<world>_world"
  const InstanceType* type = nullptr;
  bool world = false;
};

class Generator {
 public:
  Generator(const ComponentType& world, std::string wit) : world_(world), wit_(std::move(wit)) {}

  Result<GeneratedHost> run(const std::string& name, const std::string& world_name,
                            const std::vector<std::string>& only) {
    std::vector<Unit> units;
    for (const auto& e : world_.imports) {
      const auto* i = std::get_if<InstanceTypePtr>(&e.type);
      if (i == nullptr) {
        world_items_->exports.push_back(e);
        continue;
      }
      Unit u;
      u.name = e.name;
      u.type = i->get();
      std::string path = e.name.substr(0, e.name.find('@'));
      for (char& c : path)
        if (c == ':' || c == '/') c = ' ';
      std::string part;
      for (size_t k = 0; k <= path.size(); ++k) {
        if (k == path.size() || path[k] == ' ') {
          if (!part.empty()) u.ns += (u.ns.empty() ? "" : "::") + snake(part);
          part.clear();
        } else {
          part.push_back(path[k]);
        }
      }
      units.push_back(u);
    }
    bool world_funcs = std::any_of(world_items_->exports.begin(), world_items_->exports.end(),
                                   [](const NamedExtern& e) { return std::holds_alternative<FuncTypePtr>(e.type); });
    if (world_funcs) {
      std::string bare = world_name.substr(world_name.rfind('/') == std::string::npos ? 0 : world_name.rfind('/') + 1);
      units.push_back(Unit{world_name, snake(bare.substr(0, bare.find('@'))) + "_world", world_items_.get(), true});
    }
    for (const auto& u : units) {
      for (const auto& x : u.type->exports) {
        const auto* b = std::get_if<TypeBound>(&x.type);
        if (b == nullptr) continue;
        if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) {
          if (b->sub_resource)
            resources_[r->get()] = {"::" + u.ns + "::" + camel(x.name), "::" + u.ns + "::" + camel(x.name) + "Borrow"};
        } else if (b->name != nullptr) {
          names_[b->name.get()] = "::" + u.ns + "::" + camel(x.name);
        }
      }
    }
    GeneratedHost out;
    out.header =
        "// Generated by `stratus bindgen --host`. Do not edit.\n#pragma once\n\n"
        "#include <cstdint>\n#include <optional>\n#include <string>\n#include <tuple>\n#include <variant>\n"
        "#include <vector>\n\n#include \"component/runtime/runtime.h\"\n#include \"wit/host_support.h\"\n";
    out.source = "// Generated by `stratus bindgen --host`. Do not edit.\n#include \"" + name +
                 ".h\"\n\n#include <functional>\n#include <span>\n\n#include \"component/binary/subtype.h\"\n#include "
                 "\"wit/parser.h\"\n#include \"wit/resolve.h\"\n\n";
    STRATUS_TRY(world_source(out.source));
    auto wanted = [&](const std::string& iface) {
      if (only.empty()) return true;
      std::string bare = iface.substr(0, iface.find('@'));
      return std::find(only.begin(), only.end(), iface) != only.end() ||
             std::find(only.begin(), only.end(), bare) != only.end();
    };
    size_t generated = 0;
    for (const auto& u : units) {
      if (!wanted(u.name)) continue;
      STRATUS_TRY(unit(u, out));
      ++generated;
    }
    if (generated == 0) return make_error("the world imports no interface to generate (see --interface)");
    return out;
  }

 private:
  // ------------------------------------------------------------ types

  Result<std::string> cpp(const ValType& t) {
    if (t.name() != nullptr)
      if (auto it = names_.find(t.name()); it != names_.end()) return it->second;
    if (t.is_primitive()) {
      switch (t.primitive()) {
        case PrimType::Bool: return std::string("bool");
        case PrimType::S8: return std::string("int8_t");
        case PrimType::U8: return std::string("uint8_t");
        case PrimType::S16: return std::string("int16_t");
        case PrimType::U16: return std::string("uint16_t");
        case PrimType::S32: return std::string("int32_t");
        case PrimType::U32: return std::string("uint32_t");
        case PrimType::S64: return std::string("int64_t");
        case PrimType::U64: return std::string("uint64_t");
        case PrimType::F32: return std::string("float");
        case PrimType::F64: return std::string("double");
        case PrimType::Char: return std::string("char32_t");
        case PrimType::String: return std::string("std::string");
        case PrimType::ErrorContext: return make_error("error-context values are not supported by the host generator");
      }
    }
    const auto& k = t.defined().kind;
    auto wrap = [&](const std::string& tmpl, const std::vector<const ValType*>& args) -> Result<std::string> {
      std::string out = tmpl + "<";
      for (size_t i = 0; i < args.size(); ++i) {
        std::string a = "::stratus::wit::Unit";
        if (args[i] != nullptr) {
          auto c = cpp(*args[i]);
          if (!c.ok()) return std::move(c).error();
          a = *c;
        }
        out += (i ? ", " : "") + a;
      }
      return out + ">";
    };
    if (const auto* l = std::get_if<ListType>(&k)) return wrap("std::vector", {&l->element});
    if (const auto* o = std::get_if<OptionType>(&k)) return wrap("std::optional", {&o->element});
    if (const auto* r = std::get_if<ResultType>(&k))
      return wrap("::stratus::wit::WitResult", {r->ok ? &*r->ok : nullptr, r->err ? &*r->err : nullptr});
    if (const auto* tu = std::get_if<TupleType>(&k)) {
      std::vector<const ValType*> args;
      for (const auto& e : tu->elements) args.push_back(&e);
      return wrap("std::tuple", args);
    }
    if (const auto* m = std::get_if<MapType>(&k)) {
      auto pair = wrap("std::pair", {&m->key, &m->value});
      if (!pair.ok()) return std::move(pair).error();
      return "std::vector<" + *pair + ">";
    }
    if (const auto* o = std::get_if<OwnType>(&k)) {
      auto it = resources_.find(o->resource.get());
      if (it == resources_.end())
        return make_error("handle of resource `" + o->resource->name + "` no interface defines");
      return it->second.first;
    }
    if (const auto* b = std::get_if<BorrowType>(&k)) {
      auto it = resources_.find(b->resource.get());
      if (it == resources_.end())
        return make_error("handle of resource `" + b->resource->name + "` no interface defines");
      return it->second.second;
    }
    if (std::holds_alternative<StreamType>(k) || std::holds_alternative<FutureType>(k))
      return make_error("streams and futures are not supported by the host generator yet");
    return make_error("an anonymous record, variant, enum or flags has no C++ name");
  }

  // The named types `t` refers to directly or through its structure.
  void deps(const ValType& t, std::vector<const TypeName*>& out, bool top) {
    if (!top && t.name() != nullptr && names_.count(t.name()) != 0) {
      out.push_back(t.name());
      return;
    }
    if (t.is_primitive()) return;
    std::visit(
        [&](const auto& x) {
          using K = std::decay_t<decltype(x)>;
          auto one = [&](const std::optional<ValType>& v) {
            if (v) deps(*v, out, false);
          };
          if constexpr (std::is_same_v<K, RecordType>) {
            for (const auto& f : x.fields) deps(f.type, out, false);
          } else if constexpr (std::is_same_v<K, VariantType>) {
            for (const auto& c : x.cases) one(c.type);
          } else if constexpr (std::is_same_v<K, TupleType>) {
            for (const auto& e : x.elements) deps(e, out, false);
          } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType>) {
            deps(x.element, out, false);
          } else if constexpr (std::is_same_v<K, ResultType>) {
            one(x.ok);
            one(x.err);
          } else if constexpr (std::is_same_v<K, MapType>) {
            deps(x.key, out, false);
            deps(x.value, out, false);
          }
        },
        t.defined().kind);
  }

  // Emits the definition of type export `name` (after what it depends on).
  Result<void> type_def(const Unit& u, const std::string& name, const TypeBound& b, std::string& h) {
    const auto* v = std::get_if<ValType>(&b.type);
    if (v == nullptr)
      return make_error("interface `" + u.name + "`: resource `" + name +
                        "`: resources are not supported by the host generator yet");
    std::string cname = camel(name);
    bool alias = v->name() != nullptr && v->name() != b.name.get();
    if (alias || v->is_primitive()) {
      auto c = cpp(alias ? *v : v->with_name(nullptr));
      if (!c.ok()) return std::move(c).error().context("interface `" + u.name + "`, type `" + name + "`");
      h += "using " + cname + " = " + *c + ";\n\n";
      return {};
    }
    const auto& k = v->defined().kind;
    const std::string V = "::stratus::component::Val";
    if (const auto* rec = std::get_if<RecordType>(&k)) {
      h += "struct " + cname + " {\n";
      std::string to = "inline " + V + " to_val(const " + cname + "& x) {\n  using ::stratus::wit::to_val;\n  return " +
                       V + "::record({";
      std::string from =
          "inline void from_val(const " + V + "& v, " + cname + "& x) {\n  using ::stratus::wit::from_val;\n";
      for (size_t i = 0; i < rec->fields.size(); ++i) {
        auto c = cpp(rec->fields[i].type);
        if (!c.ok()) return std::move(c).error().context("interface `" + u.name + "`, record `" + name + "`");
        std::string f = snake(rec->fields[i].name);
        h += "  " + *c + " " + f + "{};\n";
        to += (i ? ", " : "") + std::string("to_val(x.") + f + ")";
        from += "  from_val(v.items()[" + std::to_string(i) + "], x." + f + ");\n";
      }
      h += "  bool operator==(const " + cname + "&) const = default;\n};\n" + to + "});\n}\n" + from + "}\n\n";
      return {};
    }
    if (const auto* var = std::get_if<VariantType>(&k)) {
      std::string alts;
      std::string to = "inline " + V + " to_val(const " + cname + "& x) {\n  using ::stratus::wit::to_val;\n" +
                       "  switch (x.index()) {\n";
      std::string from = "inline void from_val(const " + V + "& v, " + cname +
                         "& x) {\n  using ::stratus::wit::from_val;\n  switch (v.discriminant()) {\n";
      for (size_t i = 0; i < var->cases.size(); ++i) {
        const auto& c = var->cases[i];
        std::string cs = cname + camel(c.name);
        std::string idx = std::to_string(i);
        h += "struct " + cs + " {\n";
        if (c.type) {
          auto ct = cpp(*c.type);
          if (!ct.ok()) return std::move(ct).error().context("interface `" + u.name + "`, variant `" + name + "`");
          h += "  " + *ct + " value{};\n";
          to +=
              "    case " + idx + ": return " + V + "::variant(" + idx + ", to_val(std::get<" + idx + ">(x).value));\n";
          from += "    case " + idx + ": from_val(*v.payload(), x.emplace<" + idx + ">().value); break;\n";
        } else {
          to += "    case " + idx + ": return " + V + "::variant(" + idx + ", std::nullopt);\n";
          from += "    case " + idx + ": x.emplace<" + idx + ">(); break;\n";
        }
        h += "  bool operator==(const " + cs + "&) const = default;\n};\n";
        alts += (i ? ", " : "") + cs;
      }
      h += "using " + cname + " = std::variant<" + alts + ">;\n" + to + "  }\n  return " + V +
           "::variant(0, std::nullopt);\n}\n" + from + "    default: break;\n  }\n}\n\n";
      return {};
    }
    if (const auto* en = std::get_if<EnumType>(&k)) {
      h += "enum class " + cname + " : uint32_t {\n";
      for (const auto& n : en->names) h += "  k" + camel(n) + ",\n";
      h += "};\ninline " + V + " to_val(" + cname + " x) { return " + V +
           "::enumeration(static_cast<uint32_t>(x)); }\ninline void from_val(const " + V + "& v, " + cname +
           "& x) { x = static_cast<" + cname + ">(v.discriminant()); }\n\n";
      return {};
    }
    if (const auto* fl = std::get_if<FlagsType>(&k)) {
      h += "struct " + cname + " {\n";
      std::string to = "inline " + V + " to_val(const " + cname + "& x) {\n  std::vector<uint32_t> set;\n";
      std::string from = "inline void from_val(const " + V + "& v, " + cname + "& x) {\n  x = " + cname +
                         "{};\n  for (uint32_t i : v.set_flags()) {\n    switch (i) {\n";
      for (size_t i = 0; i < fl->names.size(); ++i) {
        std::string f = snake(fl->names[i]);
        h += "  bool " + f + " = false;\n";
        to += "  if (x." + f + ") set.push_back(" + std::to_string(i) + ");\n";
        from += "      case " + std::to_string(i) + ": x." + f + " = true; break;\n";
      }
      h += "  bool operator==(const " + cname + "&) const = default;\n};\n" + to + "  return " + V +
           "::flags(std::move(set));\n}\n" + from + "      default: break;\n    }\n  }\n}\n\n";
      return {};
    }
    auto c = cpp(v->with_name(nullptr));
    if (!c.ok()) return std::move(c).error().context("interface `" + u.name + "`, type `" + name + "`");
    h += "using " + cname + " = " + *c + ";\n\n";
    return {};
  }

  // ------------------------------------------------------------ units

  Result<void> unit(const Unit& u, GeneratedHost& out) {
    std::string& h = out.header;
    h += "\nnamespace " + u.ns + " {\n\n" +
         (u.world ? "// The functions world `" + u.name + "` imports itself.\n"
                  : "inline constexpr const char* kInterface = " + string_literal(u.name) + ";\n") +
         "\n";
    // Types, each after the ones it depends on.
    std::map<const TypeName*, std::pair<std::string, const TypeBound*>> local;
    std::vector<std::string> defined_resources;
    for (const auto& e : u.type->exports) {
      const auto* b = std::get_if<TypeBound>(&e.type);
      if (b == nullptr) continue;
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) {
        std::string cname = camel(e.name);
        auto names = resources_.find(r->get());
        if (names == resources_.end())
          return make_error("interface `" + u.name + "`: resource `" + e.name + "` is not defined by an import");
        if (b->sub_resource) {
          defined_resources.push_back(e.name);
          h += "// Handles of resource `" + e.name + "`, by the representation the host gave it.\nstruct " + cname +
               "Tag {\n  static constexpr const char* kKey = " + string_literal(u.name + "#" + e.name) +
               ";\n};\nusing " + cname + " = ::stratus::wit::Own<" + cname + "Tag>;\nusing " + cname +
               "Borrow = ::stratus::wit::Borrow<" + cname + "Tag>;\n\n";
        } else if (names->second.first != "::" + u.ns + "::" + cname) {
          h += "using " + cname + " = " + names->second.first + ";\nusing " + cname +
               "Borrow = " + names->second.second + ";\n\n";
        }
        continue;
      }
      if (b->name != nullptr) local[b->name.get()] = {e.name, b};
    }
    std::set<const TypeName*> emitted, visiting;
    std::function<Result<void>(const TypeName*)> emit = [&](const TypeName* n) -> Result<void> {
      if (emitted.count(n) != 0 || local.count(n) == 0) return {};
      if (!visiting.insert(n).second) return make_error("interface `" + u.name + "`: recursive types");
      const auto& [name, b] = local[n];
      std::vector<const TypeName*> ds;
      deps(std::get<ValType>(b->type), ds, true);
      if (const auto* v = std::get_if<ValType>(&b->type); v->name() != nullptr && v->name() != n)
        ds.push_back(v->name());
      for (const auto* d : ds) STRATUS_TRY(emit(d));
      STRATUS_TRY(type_def(u, name, *b, h));
      emitted.insert(n);
      return {};
    };
    for (const auto& e : u.type->exports)
      if (const auto* b = std::get_if<TypeBound>(&e.type)) STRATUS_TRY(emit(b->name.get()));

    // The interface the host implements.
    h += "class Host {\n public:\n  virtual ~Host() = default;\n";
    std::string drops;
    for (const auto& r : defined_resources) {
      h += "  // The guest dropped its last handle of `" + r + "` `rep`.\n  virtual void drop_" + snake(r) +
           "(uint32_t rep) = 0;\n";
      drops += "  if (name == \"" + r +
               "\") return [&host](uint32_t rep) -> ::stratus::Result<void> {\n    host.drop_" + snake(r) +
               "(rep);\n    return {};\n  };\n";
    }
    std::string binds;
    for (const auto& e : u.type->exports) {
      const auto* f = std::get_if<FuncTypePtr>(&e.type);
      if (f == nullptr) continue;
      const FuncType& ft = **f;
      std::string result = "::stratus::wit::Unit";
      if (ft.result) {
        auto r = cpp(*ft.result);
        if (!r.ok()) return std::move(r).error().context("interface `" + u.name + "`, function `" + e.name + "`");
        result = *r;
      }
      std::string params, args, reads;
      for (size_t i = 0; i < ft.params.size(); ++i) {
        auto p = cpp(ft.params[i].type);
        if (!p.ok()) return std::move(p).error().context("interface `" + u.name + "`, function `" + e.name + "`");
        std::string pn = snake(ft.params[i].name);
        params += (i ? ", " : "") + std::string("const ") + *p + "& " + pn;
        args += (i ? ", " : "") + std::string("a") + std::to_string(i);
        reads += "        " + *p + " a" + std::to_string(i) + "{};\n        from_val(args[" + std::to_string(i) +
                 "], a" + std::to_string(i) + ");\n";
      }
      std::string fn = host_function_name(e.name);
      h += "  virtual ::stratus::wit::HostResult<" + result + "> " + fn + "(" + params + ") = 0;\n";
      binds += "  {\n    auto type = func_type(\"" + e.name +
               "\");\n    if (!type.ok()) return std::move(type).error();\n" + "    instance.funcs[\"" + e.name +
               "\"] = {*type, [&host, &resources](::stratus::component::CallContext&, std::span<const "
               "::stratus::component::Val> "
               "args)\n        -> std::variant<std::optional<::stratus::component::Val>, ::stratus::engine::Trap> {\n" +
               "        ::stratus::wit::HostResourcesScope scope(&resources);\n"
               "        using ::stratus::wit::from_val;\n        using ::stratus::wit::to_val;\n" +
               reads + "        auto r = host." + fn + "(" + args +
               ");\n        if (r.trapped()) return std::move(r.trap());\n" +
               (ft.result ? "        return std::optional<::stratus::component::Val>(to_val(r.value()));\n"
                          : "        return std::optional<::stratus::component::Val>();\n") +
               "      }};\n  }\n";
    }
    h += "};\n\n// The host instance for " + std::string(u.world ? "the world's functions" : "`kInterface`") +
         ", calling `host`. Its resources are added to\n"
         "// `resources`, where interfaces defined later find those they use; both must\n"
         "// outlive the instance.\n"
         "::stratus::Result<::stratus::component::HostInstance> make_host_instance(Host& host,\n"
         "                                                                        ::stratus::wit::HostResources& "
         "resources);\n"
         "// Defines " +
         std::string(u.world ? "the world's functions (and the resources they name)" : "`kInterface`") +
         " in `linker` with `host`.\n"
         "::stratus::Result<void> define(::stratus::component::Linker& linker, Host& host,\n"
         "                               ::stratus::wit::HostResources& resources);\n\n}  // namespace " +
         u.ns + "\n";

    std::string& s = out.source;
    s += "namespace " + u.ns + " {\nnamespace {\n\n" +
         "std::function<::stratus::Result<void>(uint32_t)> destructor([[maybe_unused]] Host& host,\n"
         "                                                          [[maybe_unused]] const std::string& name) {\n" +
         drops + "  return nullptr;\n}\n\n}  // namespace\n\n" +
         "::stratus::Result<::stratus::component::HostInstance> make_host_instance(Host& host,\n"
         "                                                                        ::stratus::wit::HostResources& "
         "resources) {\n" +
         (u.world ? std::string("  auto iface = generated_world::world_items();\n")
                  : std::string("  auto iface = generated_world::interface_type(kInterface);\n")) +
         "  if (!iface.ok()) return std::move(iface).error();\n" + "  ::stratus::component::HostInstance instance;\n" +
         "  // The resources this interface defines become host resource types.\n"
         "  for (const auto& e : (*iface)->exports)\n"
         "    if (const auto* b = std::get_if<::stratus::component::TypeBound>(&e.type); b != nullptr && "
         "b->sub_resource)\n"
         "      if (const auto* r = std::get_if<::stratus::component::ResourceTypePtr>(&b->type)) {\n"
         "        auto runtime = std::make_shared<::stratus::component::ResourceType>();\n"
         "        runtime->name = e.name;\n        runtime->destructor = destructor(host, e.name);\n"
         "        resources.add(r->get(), " +
         (u.world ? string_literal(u.name + "#") : std::string("std::string(kInterface) + \"#\"")) +
         " + e.name, runtime);\n"
         "        instance.resources[e.name] = runtime;\n      }\n" +
         (u.world
              ? std::string(
                    "  // Resources of imported interfaces the world names itself.\n"
                    "  for (const auto& e : (*iface)->exports)\n"
                    "    if (const auto* b = std::get_if<::stratus::component::TypeBound>(&e.type); b != nullptr && "
                    "!b->sub_resource)\n"
                    "      if (const auto* r = std::get_if<::stratus::component::ResourceTypePtr>(&b->type))\n"
                    "        if (auto it = resources.by_static().find(r->get()); it != resources.by_static().end())\n"
                    "          instance.resources[e.name] = it->second;\n")
              : std::string()) +
         "  // Function and value types name the runtime resource types.\n"
         "  [[maybe_unused]] auto func_type = [&](const char* name) -> "
         "::stratus::Result<::stratus::component::FuncTypePtr> {\n"
         "    auto f = generated_world::func_type(**iface, name);\n    if (!f.ok()) return f;\n"
         "    return std::get<::stratus::component::FuncTypePtr>(\n"
         "        ::stratus::component::binary::substitute(::stratus::component::ExternType(*f), "
         "resources.by_static()));\n"
         "  };\n"
         "  for (const auto& e : (*iface)->exports)\n"
         "    if (const auto* b = std::get_if<::stratus::component::TypeBound>(&e.type))\n"
         "      if (const auto* v = std::get_if<::stratus::component::ValType>(&b->type))\n"
         "        instance.types[e.name] = ::stratus::component::binary::substitute(*v, resources.by_static());\n" +
         binds + "  return instance;\n}\n\n" +
         "::stratus::Result<void> define(::stratus::component::Linker& linker, Host& host,\n"
         "                               ::stratus::wit::HostResources& resources) {\n"
         "  auto instance = make_host_instance(host, resources);\n  if (!instance.ok()) return "
         "std::move(instance).error();\n" +
         (u.world
              ? std::string(
                    "  for (auto& [name, r] : instance->resources) STRATUS_TRY(linker.define_resource(name, r));\n"
                    "  for (auto& [name, f] : instance->funcs) STRATUS_TRY(linker.define_func(name, std::move(f)));\n"
                    "  return {};\n")
              : std::string("  return linker.define_instance(kInterface, std::move(*instance));\n")) +
         "}\n\n}  // namespace " + u.ns + "\n\n";
    return {};
  }

  // The embedded world and the lookups the units use.
  Result<void> world_source(std::string& s) {
    std::string delim = "WIT";
    while (wit_.find(")" + delim + "\"") != std::string::npos) delim += "_";
    s +=
        "namespace {\nnamespace generated_world {\n\nconstexpr const char* kWit = R\"" + delim + "(" + wit_ + ")" +
        delim +
        "\";\n\n"
        "const ::stratus::Result<::stratus::component::ComponentTypePtr>& world() {\n"
        "  static const auto* resolved = [] {\n"
        "    auto file = ::stratus::wit::parse_file(kWit, \"<generated world>\");\n"
        "    if (!file.ok()) return new "
        "::stratus::Result<::stratus::component::ComponentTypePtr>(std::move(file).error());\n"
        "    auto packages = ::stratus::wit::packages_of(*file);\n"
        "    if (!packages.ok())\n"
        "      return new ::stratus::Result<::stratus::component::ComponentTypePtr>(std::move(packages).error());\n"
        "    return new ::stratus::Result<::stratus::component::ComponentTypePtr>(\n"
        "        ::stratus::wit::resolve_world(*packages, \"root\"));\n"
        "  }();\n  return *resolved;\n}\n\n"
        "::stratus::Result<::stratus::component::InstanceTypePtr> interface_type(const char* name) {\n"
        "  const auto& w = world();\n  if (!w.ok()) return w.error();\n"
        "  for (const auto& e : (*w)->imports)\n"
        "    if (e.name == name)\n"
        "      if (const auto* i = std::get_if<::stratus::component::InstanceTypePtr>(&e.type)) return *i;\n"
        "  return ::stratus::make_error(std::string(\"generated world has no interface `\") + name + \"`\");\n}\n\n"
        "// The world's own imports (functions and types), as one instance type.\n"
        "::stratus::Result<::stratus::component::InstanceTypePtr> world_items() {\n"
        "  const auto& w = world();\n  if (!w.ok()) return w.error();\n"
        "  auto items = std::make_shared<::stratus::component::InstanceType>();\n"
        "  for (const auto& e : (*w)->imports)\n"
        "    if (!std::holds_alternative<::stratus::component::InstanceTypePtr>(e.type)) items->exports.push_back(e);\n"
        "  return ::stratus::component::InstanceTypePtr(items);\n}\n\n"
        "::stratus::Result<::stratus::component::FuncTypePtr> func_type(const ::stratus::component::InstanceType& i,\n"
        "                                                         const char* name) {\n"
        "  for (const auto& e : i.exports)\n"
        "    if (e.name == name)\n"
        "      if (const auto* f = std::get_if<::stratus::component::FuncTypePtr>(&e.type)) return *f;\n"
        "  return ::stratus::make_error(std::string(\"generated interface has no function `\") + name + \"`\");\n}\n\n"
        "}  // namespace generated_world\n}  // namespace\n\n";
    return {};
  }

  const ComponentType& world_;
  std::string wit_;
  std::map<const TypeName*, std::string> names_;
  std::shared_ptr<InstanceType> world_items_ = std::make_shared<InstanceType>();
  // Resource -> the C++ names of its own and borrow handles.
  std::map<const ResourceType*, std::pair<std::string, std::string>> resources_;
};

}  // namespace

Result<GeneratedHost> generate_host(const std::vector<ParsedPackage>& packages, const std::string& world,
                                    const std::string& name, const std::vector<std::string>& only) {
  auto resolved = resolve_world(packages, world);
  if (!resolved.ok()) return std::move(resolved).error();
  // The printed world resolves back to the same types (tested over every
  // jco fixture), so it is what the generated code embeds.
  Generator g(**resolved, print_wit(**resolved));
  return g.run(name, world, only);
}

}  // namespace stratus::wit
