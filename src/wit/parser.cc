#include "wit/parser.h"

#include <algorithm>
#include <deque>

#include "wit/lexer.h"

namespace stratus::wit {

// Declares `var` from a Result, or returns its error. (`var` is a
// declarator, so it cannot be parenthesized.)
// NOLINTBEGIN(bugprone-macro-parentheses)
#define WIT_ASSIGN(var, expr)                                     \
  auto var##_result = (expr);                                     \
  if (!var##_result.ok()) return std::move(var##_result).error(); \
  auto var = std::move(*var##_result)
// NOLINTEND(bugprone-macro-parentheses)

namespace {

using Kind = Token::Kind;
using component::PrimType;

std::optional<PrimType> prim_of(std::string_view w) {
  static const std::pair<std::string_view, PrimType> kPrims[] = {
      {"bool", PrimType::Bool},     {"s8", PrimType::S8},
      {"u8", PrimType::U8},         {"s16", PrimType::S16},
      {"u16", PrimType::U16},       {"s32", PrimType::S32},
      {"u32", PrimType::U32},       {"s64", PrimType::S64},
      {"u64", PrimType::U64},       {"f32", PrimType::F32},
      {"f64", PrimType::F64},       {"char", PrimType::Char},
      {"string", PrimType::String}, {"error-context", PrimType::ErrorContext},
  };
  for (const auto& [name, t] : kPrims)
    if (name == w) return t;
  return std::nullopt;
}

bool numeric_identifier(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  return s.size() == 1 || s[0] != '0';
}

bool dot_separated(std::string_view s, bool numeric_no_leading_zero) {
  if (s.empty()) return false;
  size_t i = 0;
  for (;;) {
    size_t j = std::min(s.find('.', i), s.size());
    std::string_view part = s.substr(i, j - i);
    if (part.empty()) return false;
    bool all_digits = true;
    for (char c : part) {
      bool digit = c >= '0' && c <= '9';
      all_digits = all_digits && digit;
      if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-') return false;
    }
    if (numeric_no_leading_zero && all_digits && !numeric_identifier(part)) return false;
    if (j == s.size()) return true;
    i = j + 1;
  }
}

class Parser {
 public:
  Parser(std::string_view source, const std::string& path) : lex_(source, path) {}

  Result<File> file() {
    File f;
    f.path = lex_.file();
    STRATUS_TRY(advance());
    // An optional `package name;` first; `package name { ... }` blocks may follow.
    if (at_keyword("package")) {
      STRATUS_TRY(advance());
      WIT_ASSIGN(name, package_name());
      if (at_op("{")) {
        STRATUS_TRY(advance());
        PackageBody body{name, {}};
        STRATUS_TRY(package_items(body, true));
        f.nested.push_back(std::move(body));
      } else {
        STRATUS_TRY(expect_op(";"));
        f.top.name = name;
      }
    }
    while (cur_.kind != Kind::End) {
      if (at_keyword("package")) {
        Pos at = cur_.pos;
        STRATUS_TRY(advance());
        WIT_ASSIGN(name, package_name());
        if (at_op(";")) return lex_.error_at(at, "a `package` declaration must come first in its file");
        STRATUS_TRY(expect_op("{"));
        PackageBody body{name, {}};
        STRATUS_TRY(package_items(body, true));
        f.nested.push_back(std::move(body));
        continue;
      }
      STRATUS_TRY(package_item(f.top));
    }
    return f;
  }

 private:
  // ------------------------------------------------------------ tokens

  Result<void> advance() {
    if (!ahead_.empty()) {
      cur_ = std::move(ahead_.front());
      ahead_.pop_front();
      return {};
    }
    WIT_ASSIGN(t, lex_.next());
    cur_ = std::move(t);
    return {};
  }

  Result<const Token*> peek(size_t n) {
    while (ahead_.size() < n) {
      WIT_ASSIGN(t, lex_.next());
      ahead_.push_back(std::move(t));
    }
    return &ahead_[n - 1];
  }

  bool at_op(std::string_view op) const { return cur_.kind == Kind::Op && cur_.text == op; }
  bool at_keyword(std::string_view k) const { return cur_.kind == Kind::Id && cur_.keyword && cur_.text == k; }

  Error error(const std::string& message) const { return lex_.error_at(cur_.pos, message); }
  Error unexpected(const std::string& wanted) const {
    std::string found = cur_.kind == Kind::End      ? "end of file"
                        : cur_.kind == Kind::String ? "a string"
                                                    : "`" + cur_.text + "`";
    return error("expected " + wanted + ", found " + found);
  }

  Result<void> expect_op(std::string_view op) {
    if (!at_op(op)) return unexpected("`" + std::string(op) + "`");
    return advance();
  }

  Result<void> expect_keyword(std::string_view k) {
    if (!at_keyword(k)) return unexpected("`" + std::string(k) + "`");
    return advance();
  }

  // A name: a non-keyword identifier or a `%`-escaped one.
  Result<std::string> id(const std::string& what) {
    if (cur_.kind != Kind::Id || cur_.keyword) {
      if (cur_.kind == Kind::Id && cur_.keyword)
        return error("expected " + what + ", found keyword `" + cur_.text + "` (write `%" + cur_.text +
                     "` to use it as a name)");
      return unexpected(what);
    }
    std::string name = cur_.text;
    STRATUS_TRY(advance());
    return name;
  }

  // ------------------------------------------------------------ names

  Result<std::string> version() {
    if (cur_.kind != Kind::Number || !is_semver(cur_.text)) return unexpected("a semantic version (like 0.2.0)");
    std::string v = cur_.text;
    STRATUS_TRY(advance());
    return v;
  }

  Result<PackageName> package_name() {
    PackageName p;
    p.pos = cur_.pos;
    WIT_ASSIGN(first, id("a package namespace"));
    std::vector<std::string> parts{first};
    if (!at_op(":")) return unexpected("`:` (package names are `namespace:name`)");
    while (at_op(":")) {
      STRATUS_TRY(advance());
      WIT_ASSIGN(part, id("a package name"));
      parts.push_back(part);
    }
    if (at_op("/")) return error("nested package names (`ns:pkg/sub`) are not supported");
    p.name = parts.back();
    parts.pop_back();
    p.namespaces = std::move(parts);
    if (at_op("@")) {
      STRATUS_TRY(advance());
      WIT_ASSIGN(v, version());
      p.version = v;
    }
    return p;
  }

  // `name`, or `ns:pkg/name@version`.
  Result<UsePath> use_path() {
    UsePath u;
    u.pos = cur_.pos;
    WIT_ASSIGN(first, id("an interface name"));
    if (!at_op(":")) {
      u.name = first;
      return u;
    }
    u.package.push_back(first);
    while (at_op(":")) {
      STRATUS_TRY(advance());
      WIT_ASSIGN(part, id("a package name"));
      u.package.push_back(part);
    }
    if (!at_op("/")) return unexpected("`/` and an interface name after the package");
    STRATUS_TRY(advance());
    WIT_ASSIGN(name, id("an interface name"));
    u.name = name;
    if (at_op("/")) return error("nested interface paths (`ns:pkg/a/b`) are not supported");
    if (at_op("@")) {
      STRATUS_TRY(advance());
      WIT_ASSIGN(v, version());
      u.version = v;
    }
    return u;
  }

  // ------------------------------------------------------------ attributes

  Result<Attributes> attributes() {
    Attributes a;
    a.docs = cur_.docs;
    while (at_op("@")) {
      Pos at = cur_.pos;
      STRATUS_TRY(advance());
      if (cur_.kind != Kind::Id) return unexpected("a gate (`since`, `unstable`, `deprecated`) or `external-id`");
      std::string which = cur_.text;
      STRATUS_TRY(advance());
      STRATUS_TRY(expect_op("("));
      if (which == "external-id") {
        if (a.external_id) return lex_.error_at(at, "`@external-id` is repeated");
        if (cur_.kind != Kind::String) return unexpected("a string");
        a.external_id = cur_.text;
        STRATUS_TRY(advance());
      } else if (which == "unstable") {
        if (a.gates.unstable) return lex_.error_at(at, "`@unstable` is repeated");
        if (cur_.kind != Kind::Id || cur_.text != "feature") return unexpected("`feature`");
        STRATUS_TRY(advance());
        STRATUS_TRY(expect_op("="));
        WIT_ASSIGN(feature, id("a feature name"));
        a.gates.unstable = feature;
      } else if (which == "since" || which == "deprecated") {
        auto& slot = which == "since" ? a.gates.since : a.gates.deprecated;
        if (slot) return lex_.error_at(at, "`@" + which + "` is repeated");
        if (cur_.kind != Kind::Id || cur_.text != "version") return unexpected("`version`");
        STRATUS_TRY(advance());
        STRATUS_TRY(expect_op("="));
        WIT_ASSIGN(v, version());
        slot = v;
      } else {
        return lex_.error_at(at, "unknown attribute `@" + which + "`");
      }
      STRATUS_TRY(expect_op(")"));
    }
    // WIT.md feature gates: @since or @unstable, not both.
    if (a.gates.since && a.gates.unstable) return error("an item cannot be both `@since` and `@unstable`");
    return a;
  }

  // ------------------------------------------------------------ types

  // Type expressions nest (`list<option<...>>`); hostile text must not
  // exhaust the stack.
  static constexpr int kMaxTypeDepth = 100;

  Result<TypePtr> type() {
    if (type_depth_ >= kMaxTypeDepth)
      return error("type nested more than " + std::to_string(kMaxTypeDepth) + " levels deep");
    ++type_depth_;
    auto t = nested_type();
    --type_depth_;
    return t;
  }

  Result<TypePtr> nested_type() {
    auto t = std::make_shared<Type>();
    t->pos = cur_.pos;
    if (cur_.kind != Kind::Id) return unexpected("a type");
    if (!cur_.keyword) {
      t->kind = Type::Kind::Named;
      t->name = cur_.text;
      STRATUS_TRY(advance());
      return TypePtr(t);
    }
    std::string k = cur_.text;
    if (auto p = prim_of(k)) {
      t->kind = Type::Kind::Prim;
      t->prim = *p;
      STRATUS_TRY(advance());
      return TypePtr(t);
    }
    STRATUS_TRY(advance());
    if (k == "list") {
      t->kind = Type::Kind::List;
      STRATUS_TRY(expect_op("<"));
      WIT_ASSIGN(e, type());
      t->args.push_back(e);
      if (at_op(",")) {
        STRATUS_TRY(advance());
        if (cur_.kind != Kind::Number || !numeric_identifier(cur_.text) || cur_.text == "0" || cur_.text.size() > 10 ||
            std::stoull(cur_.text) > UINT32_MAX)
          return unexpected("a list length from 1 to 4294967295");
        t->length = static_cast<uint32_t>(std::stoull(cur_.text));
        STRATUS_TRY(advance());
      }
      STRATUS_TRY(expect_op(">"));
    } else if (k == "tuple") {
      t->kind = Type::Kind::Tuple;
      STRATUS_TRY(expect_op("<"));
      for (;;) {
        WIT_ASSIGN(e, type());
        t->args.push_back(e);
        if (!at_op(",")) break;
        STRATUS_TRY(advance());
        if (at_op(">")) break;  // a trailing comma
      }
      STRATUS_TRY(expect_op(">"));
    } else if (k == "option") {
      t->kind = Type::Kind::Option;
      STRATUS_TRY(expect_op("<"));
      WIT_ASSIGN(e, type());
      t->args.push_back(e);
      STRATUS_TRY(expect_op(">"));
    } else if (k == "result") {
      t->kind = Type::Kind::Result;
      t->args = {nullptr, nullptr};
      if (at_op("<")) {
        STRATUS_TRY(advance());
        if (at_keyword("_")) {
          STRATUS_TRY(advance());
          STRATUS_TRY(expect_op(","));
          WIT_ASSIGN(err, type());
          t->args[1] = err;
        } else {
          WIT_ASSIGN(ok, type());
          t->args[0] = ok;
          if (at_op(",")) {
            STRATUS_TRY(advance());
            WIT_ASSIGN(err, type());
            t->args[1] = err;
          }
        }
        STRATUS_TRY(expect_op(">"));
      }
    } else if (k == "map") {
      t->kind = Type::Kind::Map;
      STRATUS_TRY(expect_op("<"));
      Pos key_at = cur_.pos;
      WIT_ASSIGN(key, type());
      if (key->kind != Type::Kind::Prim || key->prim == PrimType::F32 || key->prim == PrimType::F64)
        return lex_.error_at(key_at, "a map key must be bool, an integer, char or string");
      STRATUS_TRY(expect_op(","));
      WIT_ASSIGN(value, type());
      t->args = {key, value};
      STRATUS_TRY(expect_op(">"));
    } else if (k == "own") {
      // `own<r>` is `r` written out.
      t->kind = Type::Kind::Named;
      STRATUS_TRY(expect_op("<"));
      WIT_ASSIGN(name, id("a resource name"));
      t->name = name;
      STRATUS_TRY(expect_op(">"));
    } else if (k == "borrow") {
      t->kind = Type::Kind::Borrow;
      STRATUS_TRY(expect_op("<"));
      WIT_ASSIGN(name, id("a resource name"));
      t->name = name;
      STRATUS_TRY(expect_op(">"));
    } else if (k == "future" || k == "stream") {
      t->kind = k == "future" ? Type::Kind::Future : Type::Kind::Stream;
      t->args = {nullptr};
      if (at_op("<")) {
        STRATUS_TRY(advance());
        WIT_ASSIGN(e, type());
        t->args[0] = e;
        STRATUS_TRY(expect_op(">"));
      }
    } else {
      return lex_.error_at(t->pos, "expected a type, found keyword `" + k + "`");
    }
    return TypePtr(t);
  }

  Result<std::vector<Param>> params() {
    STRATUS_TRY(expect_op("("));
    std::vector<Param> out;
    while (!at_op(")")) {
      Param p;
      p.pos = cur_.pos;
      WIT_ASSIGN(name, id("a parameter name"));
      p.name = name;
      for (const auto& q : out)
        if (q.name == p.name) return lex_.error_at(p.pos, "parameter `" + p.name + "` is repeated");
      STRATUS_TRY(expect_op(":"));
      WIT_ASSIGN(t, type());
      p.type = t;
      out.push_back(std::move(p));
      if (!at_op(",")) break;
      STRATUS_TRY(advance());
    }
    STRATUS_TRY(expect_op(")"));
    return out;
  }

  Result<FuncSig> func_sig() {
    FuncSig sig;
    if (at_keyword("async")) {
      sig.async = true;
      STRATUS_TRY(advance());
    }
    STRATUS_TRY(expect_keyword("func"));
    WIT_ASSIGN(ps, params());
    sig.params = std::move(ps);
    if (at_op("->")) {
      STRATUS_TRY(advance());
      WIT_ASSIGN(r, type());
      sig.result = r;
    }
    return sig;
  }

  // ------------------------------------------------------------ items

  bool at_typedef() const {
    return at_keyword("type") || at_keyword("record") || at_keyword("variant") || at_keyword("enum") ||
           at_keyword("flags") || at_keyword("resource");
  }

  // A comma-separated list in braces with an optional trailing comma and
  // at least one entry.
  template <class F>
  Result<void> braced_list(const std::string& what, F&& entry) {
    STRATUS_TRY(expect_op("{"));
    Pos at = cur_.pos;
    size_t n = 0;
    while (!at_op("}")) {
      STRATUS_TRY(entry());
      ++n;
      if (!at_op(",")) break;
      STRATUS_TRY(advance());
    }
    if (n == 0) return lex_.error_at(at, what + " must have at least one entry");
    return expect_op("}");
  }

  Result<TypeDecl> typedef_item(Attributes attrs) {
    TypeDecl d;
    d.attrs = std::move(attrs);
    d.pos = cur_.pos;
    std::string k = cur_.text;
    STRATUS_TRY(advance());
    WIT_ASSIGN(name, id("a type name"));
    d.name = name;
    auto unique = [](const auto& list, const std::string& n) {
      return std::none_of(list.begin(), list.end(), [&](const auto& e) { return e.name == n; });
    };
    if (k == "type") {
      d.kind = TypeDecl::Kind::Alias;
      STRATUS_TRY(expect_op("="));
      WIT_ASSIGN(t, type());
      d.alias = t;
      STRATUS_TRY(expect_op(";"));
    } else if (k == "record") {
      d.kind = TypeDecl::Kind::Record;
      STRATUS_TRY(braced_list("a record", [&]() -> Result<void> {
        Field f;
        f.docs = cur_.docs;
        f.pos = cur_.pos;
        WIT_ASSIGN(fname, id("a field name"));
        f.name = fname;
        if (!unique(d.fields, f.name)) return lex_.error_at(f.pos, "field `" + f.name + "` is repeated");
        STRATUS_TRY(expect_op(":"));
        WIT_ASSIGN(t, type());
        f.type = t;
        d.fields.push_back(std::move(f));
        return {};
      }));
    } else if (k == "variant" || k == "enum" || k == "flags") {
      d.kind = k == "variant" ? TypeDecl::Kind::Variant : k == "enum" ? TypeDecl::Kind::Enum : TypeDecl::Kind::Flags;
      STRATUS_TRY(braced_list("a " + k, [&]() -> Result<void> {
        CaseDecl c;
        c.docs = cur_.docs;
        c.pos = cur_.pos;
        WIT_ASSIGN(cname, id(k == "flags" ? "a flag name" : "a case name"));
        c.name = cname;
        if (!unique(d.cases, c.name)) return lex_.error_at(c.pos, "`" + c.name + "` is repeated");
        if (k == "variant" && at_op("(")) {
          STRATUS_TRY(advance());
          WIT_ASSIGN(t, type());
          c.type = t;
          STRATUS_TRY(expect_op(")"));
        }
        d.cases.push_back(std::move(c));
        return {};
      }));
      if (d.kind == TypeDecl::Kind::Flags && d.cases.size() > 32)
        return lex_.error_at(d.pos, "flags `" + d.name + "` has more than 32 flags");
    } else {
      d.kind = TypeDecl::Kind::Resource;
      if (at_op(";")) {
        STRATUS_TRY(advance());
        return d;
      }
      STRATUS_TRY(expect_op("{"));
      bool has_constructor = false;
      while (!at_op("}")) {
        WIT_ASSIGN(fattrs, attributes());
        ResourceFunc f;
        f.attrs = std::move(fattrs);
        f.pos = cur_.pos;
        if (at_keyword("constructor")) {
          if (has_constructor) return error("resource `" + d.name + "` has more than one constructor");
          has_constructor = true;
          f.kind = ResourceFunc::Kind::Constructor;
          STRATUS_TRY(advance());
          WIT_ASSIGN(ps, params());
          f.sig.params = std::move(ps);
          if (at_op("->")) {
            STRATUS_TRY(advance());
            WIT_ASSIGN(r, type());
            f.sig.result = r;
          }
        } else {
          WIT_ASSIGN(fname, id("a method name"));
          f.name = fname;
          for (const auto& g : d.funcs)
            if (g.kind != ResourceFunc::Kind::Constructor && g.name == f.name)
              return lex_.error_at(f.pos, "`" + f.name + "` is defined twice in resource `" + d.name + "`");
          STRATUS_TRY(expect_op(":"));
          if (at_keyword("static")) {
            f.kind = ResourceFunc::Kind::Static;
            STRATUS_TRY(advance());
          }
          WIT_ASSIGN(sig, func_sig());
          f.sig = std::move(sig);
        }
        STRATUS_TRY(expect_op(";"));
        d.funcs.push_back(std::move(f));
      }
      STRATUS_TRY(advance());
    }
    return d;
  }

  Result<UseDecl> use_item(Attributes attrs) {
    UseDecl u;
    u.attrs = std::move(attrs);
    u.pos = cur_.pos;
    STRATUS_TRY(advance());  // `use`
    WIT_ASSIGN(from, use_path());
    u.from = from;
    STRATUS_TRY(expect_op("."));
    STRATUS_TRY(braced_list("a `use`", [&]() -> Result<void> {
      UseDecl::Name n;
      n.pos = cur_.pos;
      WIT_ASSIGN(name, id("a type name"));
      n.name = name;
      if (at_keyword("as")) {
        STRATUS_TRY(advance());
        WIT_ASSIGN(as, id("a new name"));
        n.as = as;
      }
      u.names.push_back(std::move(n));
      return {};
    }));
    STRATUS_TRY(expect_op(";"));
    return u;
  }

  // A `use` or a type definition, which interfaces and worlds both hold;
  // false when the item is neither.
  template <class Items>
  Result<bool> shared_item(Attributes& attrs, Items& items) {
    if (at_keyword("use")) {
      WIT_ASSIGN(u, use_item(std::move(attrs)));
      items.emplace_back(std::move(u));
      return true;
    }
    if (at_typedef()) {
      WIT_ASSIGN(d, typedef_item(std::move(attrs)));
      items.emplace_back(std::move(d));
      return true;
    }
    return false;
  }

  Result<InterfaceDecl> interface_body(InterfaceDecl iface) {
    STRATUS_TRY(expect_op("{"));
    while (!at_op("}")) {
      if (cur_.kind == Kind::End) return unexpected("`}`");
      WIT_ASSIGN(attrs, attributes());
      WIT_ASSIGN(shared, shared_item(attrs, iface.items));
      if (!shared) {
        FuncDecl f;
        f.attrs = std::move(attrs);
        f.pos = cur_.pos;
        WIT_ASSIGN(name, id("a function, type or `use`"));
        f.name = name;
        STRATUS_TRY(expect_op(":"));
        WIT_ASSIGN(sig, func_sig());
        f.sig = std::move(sig);
        STRATUS_TRY(expect_op(";"));
        iface.items.emplace_back(std::move(f));
      }
    }
    STRATUS_TRY(advance());
    return iface;
  }

  // Whether the current token and the next two are `a:b` with nothing in
  // between: a package path, not `name: type` (WIT.md "Item: world").
  Result<bool> at_package_path() {
    if (cur_.kind != Kind::Id) return false;
    WIT_ASSIGN(colon, peek(1));
    if (colon->kind != Kind::Op || colon->text != ":" || colon->begin != cur_.end) return false;
    WIT_ASSIGN(after, peek(2));
    return after->kind == Kind::Id && after->begin == colon->end;
  }

  Result<ExternDecl> extern_item(Attributes attrs) {
    ExternDecl e;
    e.attrs = std::move(attrs);
    e.import = at_keyword("import");
    e.pos = cur_.pos;
    STRATUS_TRY(advance());
    WIT_ASSIGN(path_form, at_package_path());
    if (!path_form && cur_.kind == Kind::Id) {
      WIT_ASSIGN(next, peek(1));
      path_form = next->kind == Kind::Op && next->text == ";";  // `import local-interface;`
    }
    if (path_form) {
      WIT_ASSIGN(p, use_path());
      e.path = p;
      STRATUS_TRY(expect_op(";"));
      return e;
    }
    WIT_ASSIGN(name, id("a name"));
    e.name = name;
    STRATUS_TRY(expect_op(":"));
    if (at_keyword("func") || at_keyword("async")) {
      WIT_ASSIGN(sig, func_sig());
      e.func = std::move(sig);
      STRATUS_TRY(expect_op(";"));
    } else if (at_keyword("interface")) {
      Pos at = cur_.pos;
      STRATUS_TRY(advance());
      InterfaceDecl inline_iface;
      inline_iface.pos = at;
      WIT_ASSIGN(body, interface_body(std::move(inline_iface)));
      e.interface = std::make_shared<InterfaceDecl>(std::move(body));
    } else {
      WIT_ASSIGN(p, use_path());
      e.path = p;
      STRATUS_TRY(expect_op(";"));
    }
    return e;
  }

  Result<IncludeDecl> include_item(Attributes attrs) {
    IncludeDecl inc;
    inc.attrs = std::move(attrs);
    inc.pos = cur_.pos;
    STRATUS_TRY(advance());
    WIT_ASSIGN(world, use_path());
    inc.world = world;
    if (at_keyword("with")) {
      STRATUS_TRY(advance());
      STRATUS_TRY(braced_list("an `include ... with`", [&]() -> Result<void> {
        IncludeDecl::Rename r;
        r.pos = cur_.pos;
        WIT_ASSIGN(from, id("a name"));
        r.from = from;
        STRATUS_TRY(expect_keyword("as"));
        WIT_ASSIGN(to, id("a new name"));
        r.to = to;
        inc.with.push_back(std::move(r));
        return {};
      }));
      return inc;  // WIT.md: no `;` after the `with { }` list
    }
    STRATUS_TRY(expect_op(";"));
    return inc;
  }

  Result<WorldDecl> world_body(WorldDecl w) {
    STRATUS_TRY(expect_op("{"));
    while (!at_op("}")) {
      if (cur_.kind == Kind::End) return unexpected("`}`");
      WIT_ASSIGN(attrs, attributes());
      WIT_ASSIGN(shared, shared_item(attrs, w.items));
      if (shared) continue;
      if (at_keyword("include")) {
        WIT_ASSIGN(inc, include_item(std::move(attrs)));
        w.items.emplace_back(std::move(inc));
      } else if (at_keyword("import") || at_keyword("export")) {
        WIT_ASSIGN(e, extern_item(std::move(attrs)));
        w.items.emplace_back(std::move(e));
      } else {
        return unexpected("`import`, `export`, `include`, `use` or a type");
      }
    }
    STRATUS_TRY(advance());
    return w;
  }

  Result<void> package_item(PackageBody& body) {
    WIT_ASSIGN(attrs, attributes());
    if (at_keyword("use")) {
      if (!attrs.gates.empty() || attrs.external_id) return error("a top-level `use` cannot have attributes");
      TopUse u;
      u.pos = cur_.pos;
      STRATUS_TRY(advance());
      WIT_ASSIGN(p, use_path());
      u.path = p;
      if (at_keyword("as")) {
        STRATUS_TRY(advance());
        WIT_ASSIGN(as, id("a name"));
        u.as = as;
      }
      STRATUS_TRY(expect_op(";"));
      body.items.emplace_back(std::move(u));
      return {};
    }
    if (at_keyword("interface")) {
      InterfaceDecl iface;
      iface.attrs = std::move(attrs);
      iface.pos = cur_.pos;
      STRATUS_TRY(advance());
      WIT_ASSIGN(name, id("an interface name"));
      iface.name = name;
      WIT_ASSIGN(done, interface_body(std::move(iface)));
      body.items.emplace_back(std::move(done));
      return {};
    }
    if (at_keyword("world")) {
      WorldDecl w;
      w.attrs = std::move(attrs);
      w.pos = cur_.pos;
      STRATUS_TRY(advance());
      WIT_ASSIGN(name, id("a world name"));
      w.name = name;
      WIT_ASSIGN(done, world_body(std::move(w)));
      body.items.emplace_back(std::move(done));
      return {};
    }
    if (at_keyword("package")) return error("a `package` declaration must come first in its file");
    return unexpected("`interface`, `world`, `use` or `package`");
  }

  Result<void> package_items(PackageBody& body, bool braced) {
    while (!(braced && at_op("}"))) {
      if (cur_.kind == Kind::End) return unexpected("`}`");
      STRATUS_TRY(package_item(body));
    }
    return advance();
  }

  Lexer lex_;
  Token cur_;
  std::deque<Token> ahead_;
  int type_depth_ = 0;
};

}  // namespace

bool is_semver(std::string_view text) {
  size_t plus = text.find('+');
  std::string_view build;
  if (plus != std::string_view::npos) {
    build = text.substr(plus + 1);
    text = text.substr(0, plus);
    if (!dot_separated(build, false)) return false;
  }
  size_t dash = text.find('-');
  if (dash != std::string_view::npos) {
    if (!dot_separated(text.substr(dash + 1), true)) return false;
    text = text.substr(0, dash);
  }
  size_t a = text.find('.');
  if (a == std::string_view::npos) return false;
  size_t b = text.find('.', a + 1);
  if (b == std::string_view::npos) return false;
  return numeric_identifier(text.substr(0, a)) && numeric_identifier(text.substr(a + 1, b - a - 1)) &&
         numeric_identifier(text.substr(b + 1));
}

Result<File> parse_file(std::string_view source, const std::string& path) {
  Parser p(source, path);
  return p.file();
}

}  // namespace stratus::wit
