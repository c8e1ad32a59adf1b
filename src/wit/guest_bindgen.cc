#include "wit/guest_bindgen.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "component/canon/abi.h"
#include "wit/cpp_names.h"
#include "wit/resolve.h"

namespace stratus::wit {
namespace {

using namespace component;  // NOLINT(google-build-using-namespace): the type model throughout
using Core = engine::ValType;

// One core value of a lowered or lifted value: a C++ expression and the
// core type it has.
struct Flat {
  std::string expr;
  Core type;
};

std::string core_cpp(Core t) {
  switch (t) {
    case Core::I64: return "int64_t";
    case Core::F32: return "float";
    case Core::F64: return "double";
    default: return "int32_t";
  }
}

uint32_t align_to(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

std::string at(const std::string& p, uint32_t off) { return off == 0 ? p : p + " + " + std::to_string(off); }

std::string disc_cpp(size_t cases) {
  switch (canon::discriminant_size(cases)) {
    case 1: return "uint8_t";
    case 2: return "uint16_t";
    default: return "uint32_t";
  }
}

// A variant payload's core value `expr` of type `have` into the joined slot
// type `want` (lower_flat_variant), and back (lift_flat_variant).
std::string coerce_lower(Core have, Core want, const std::string& expr) {
  if (have == want) return expr;
  if (have == Core::F32 && want == Core::I32) return "std::bit_cast<int32_t>(" + expr + ")";
  if (have == Core::I32) return "static_cast<int64_t>(static_cast<uint32_t>(" + expr + "))";
  if (have == Core::F32) return "static_cast<int64_t>(std::bit_cast<uint32_t>(" + expr + "))";
  return "std::bit_cast<int64_t>(" + expr + ")";  // f64 -> i64
}
std::string coerce_lift(Core have, Core want, const std::string& expr) {
  if (have == want) return expr;
  if (have == Core::I32) return "std::bit_cast<float>(" + expr + ")";  // i32 -> f32
  if (want == Core::I32) return "static_cast<int32_t>(" + expr + ")";
  if (want == Core::F32) return "std::bit_cast<float>(static_cast<int32_t>(" + expr + "))";
  return "std::bit_cast<double>(" + expr + ")";  // i64 -> f64
}

// The sub-types a type is made of.
std::vector<const ValType*> children(const ValType& t) {
  std::vector<const ValType*> out;
  if (t.is_primitive()) return out;
  std::visit(
      [&](const auto& k) {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RecordType>) {
          for (const auto& f : k.fields) out.push_back(&f.type);
        } else if constexpr (std::is_same_v<K, VariantType>) {
          for (const auto& c : k.cases)
            if (c.type) out.push_back(&*c.type);
        } else if constexpr (std::is_same_v<K, TupleType>) {
          for (const auto& e : k.elements) out.push_back(&e);
        } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType>) {
          out.push_back(&k.element);
        } else if constexpr (std::is_same_v<K, StreamType> || std::is_same_v<K, FutureType>) {
          if (k.element) out.push_back(&*k.element);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          if (k.ok) out.push_back(&*k.ok);
          if (k.err) out.push_back(&*k.err);
        }
      },
      t.defined().kind);
  return out;
}

bool any_in(const ValType& t, const std::function<bool(const ValType&)>& pred) {
  if (pred(t)) return true;
  for (const auto* c : children(t))
    if (any_in(*c, pred)) return true;
  return false;
}

// Strings and lists: what lowering points at and lifting must free.
bool has_pointer(const ValType& t) {
  return any_in(t, [](const ValType& x) {
    return x.is_primitive() ? x.primitive() == PrimType::String : std::holds_alternative<ListType>(x.defined().kind);
  });
}
// Streams, futures and error-context values: handles the C++ side owns.
bool is_async_value(const ValType& t) {
  if (t.is_primitive()) return t.primitive() == PrimType::ErrorContext;
  const auto& k = t.defined().kind;
  return std::holds_alternative<StreamType>(k) || std::holds_alternative<FutureType>(k);
}
// What holds owned handles: move-only in C++.
bool has_own(const ValType& t) {
  return any_in(t, [](const ValType& x) {
    return is_async_value(x) || (!x.is_primitive() && std::holds_alternative<OwnType>(x.defined().kind));
  });
}
// Numbers and chars: a list of them is its C++ array as it is.
bool trivial(const ValType& t) {
  return t.is_primitive() && t.primitive() != PrimType::Bool && t.primitive() != PrimType::String &&
         t.primitive() != PrimType::ErrorContext;
}
template <class K>
const K* kind_of(const ValType& t) {
  return t.is_primitive() ? nullptr : std::get_if<K>(&t.defined().kind);
}

// `[method]r.f` and friends.
struct FuncName {
  enum Kind { Free, Constructor, Method, Static } kind = Free;
  std::string resource;  // WIT name
  std::string name;      // WIT name of the function (the resource's, for constructors)
};
FuncName parse_func_name(const std::string& n) {
  auto close = n.find(']');
  if (n.empty() || n[0] != '[' || close == std::string::npos) return {FuncName::Free, "", n};
  std::string rest = n.substr(close + 1);
  if (n.rfind("[constructor]", 0) == 0) return {FuncName::Constructor, rest, rest};
  auto dot = rest.find('.');
  FuncName::Kind k = n.rfind("[method]", 0) == 0 ? FuncName::Method : FuncName::Static;
  return {k, rest.substr(0, dot), rest.substr(dot + 1)};
}

// Member names the generated resource classes use themselves.
std::string member_name(const std::string& wit, bool exported) {
  std::string s = snake(wit);
  static const std::set<std::string> kImported = {"handle", "release", "from_handle", "reset"};
  if (exported ? s == "create" : kImported.count(s) != 0) s += "_";
  return s;
}

// A block of generated code: an interface the world imports or exports,
// or the world's own imported or exported functions.
struct Unit {
  std::string name;    // "wasi:cli/environment@0.2.0", or the world's name
  std::string ns;      // C++ namespace, without the leading "::"
  std::string module;  // core import module of its functions ("$root" for the world's)
  std::string prefix;  // core export names' prefix ("iface#", "" for the world's)
  const InstanceType* type = nullptr;
  bool world = false;
  bool exported = false;
};

struct Resource {
  std::string cpp;  // qualified class name
  bool exported = false;
  std::string id;  // numbering of the core functions and helpers that serve it
};

struct Code {
  std::string text;
  int depth = 1;
  bool allocs = false;  // the code allocates through `allocs`
  void line(const std::string& s) {
    text.append(static_cast<size_t>(depth) * 2, ' ');
    text += s;
    text += '\n';
  }
};

class Generator {
 public:
  Generator(const ComponentType& world, const std::string& world_name, const std::string& name)
      : world_(world), world_name_(world_name), name_(name) {
    for (char c : name)
      base_.push_back((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
    if (base_.empty() || (base_[0] >= '0' && base_[0] <= '9')) base_ = "g" + base_;
    abi_ = "::" + base_ + "_abi::";
  }

  Result<GeneratedGuest> run();

 private:
  // ------------------------------------------------------------ checks

  // Whether the generator maps `t`. `nested_borrow`: whether borrow
  // handles may appear inside it (not where an exported function lifts
  // them: those would need objects living for the call).
  Result<void> check(const ValType& t, bool nested_borrow) {
    if (t.is_primitive()) {
      if (t.primitive() == PrimType::ErrorContext) async_ = true;
      return {};
    }
    const auto& k = t.defined().kind;
    if (const auto* st = std::get_if<StreamType>(&k)) {
      if (!st->element) return make_error("a stream without an element type is not supported by the guest generator");
      if (has_own(*st->element) ||
          any_in(*st->element, [](const ValType& x) { return kind_of<BorrowType>(x) != nullptr; }))
        return make_error("a stream of values holding handles is not supported by the guest generator");
      async_ = true;
      return check(*st->element, false);
    }
    if (const auto* fu = std::get_if<FutureType>(&k)) {
      if (!fu->element) return make_error("a future without a value type is not supported by the guest generator");
      async_ = true;
      return check(*fu->element, false);
    }
    if (std::holds_alternative<MapType>(k)) return make_error("maps are not supported by the guest generator yet");
    if (const auto* l = std::get_if<ListType>(&k); l != nullptr && l->length)
      return make_error("fixed-length lists are not supported by the guest generator yet");
    if (const auto* b = std::get_if<BorrowType>(&k)) {
      if (!nested_borrow)
        return make_error("borrow<" + b->resource->name +
                          "> inside another type is not supported in exported functions' parameters");
      if (resources_.count(b->resource.get()) == 0)
        return make_error("handle of resource `" + b->resource->name + "` no interface defines");
      return {};
    }
    if (const auto* o = std::get_if<OwnType>(&k); o != nullptr && resources_.count(o->resource.get()) == 0)
      return make_error("handle of resource `" + o->resource->name + "` no interface defines");
    if ((std::holds_alternative<RecordType>(k) || std::holds_alternative<VariantType>(k) ||
         std::holds_alternative<EnumType>(k) || std::holds_alternative<FlagsType>(k)) &&
        (t.name() == nullptr || names_.count(t.name()) == 0))
      return make_error("an anonymous record, variant, enum or flags has no C++ name");
    for (const auto* c : children(t)) STRATUS_TRY(check(*c, nested_borrow));
    return {};
  }

  Result<void> check_children(const ValType& t) {
    for (const auto* c : children(t)) STRATUS_TRY(check(*c, true));
    return {};
  }

  Result<void> check_func(const Unit& u, const std::string& name, const FuncType& f) {
    auto where = "interface `" + u.name + "`, function `" + name + "`";
    if (f.async) {
      async_ = true;
      if (u.exported && parse_func_name(name).kind != FuncName::Free)
        return make_error(where + ": async functions of exported resources are not supported by the guest generator");
      if (u.exported)
        for (const auto& p : f.params)
          if (any_in(p.type, [](const ValType& x) { return kind_of<BorrowType>(x) != nullptr; }))
            return make_error(where + ": an exported async function's borrow parameters are not supported");
    }
    for (const auto& p : f.params) {
      auto r = kind_of<BorrowType>(p.type) != nullptr ? check(p.type, true) : check(p.type, !u.exported);
      if (!r.ok()) return std::move(r).error().context(where);
    }
    if (f.result)
      if (auto r = check(*f.result, false); !r.ok()) return std::move(r).error().context(where);
    return {};
  }

  // ------------------------------------------------------------ C++ types

  const Resource& resource(const ResourceTypePtr& r) const { return resources_.at(r.get()); }

  // The C++ type of `t`. Where one type has several names (`use`d into
  // other interfaces), `canonical` spells it by the name of its definition,
  // so that one C++ type has one spelling (the streams' and futures' Ops).
  std::string cpp(const ValType& t, bool canonical = false) const {
    if (t.name() != nullptr) {
      const TypeName* n = t.name();
      for (auto a = aliases_.find(n); canonical && a != aliases_.end(); a = aliases_.find(n)) n = a->second;
      if (auto it = names_.find(n); it != names_.end()) return it->second;
    }
    if (t.is_primitive()) {
      switch (t.primitive()) {
        case PrimType::Bool: return "bool";
        case PrimType::S8: return "int8_t";
        case PrimType::U8: return "uint8_t";
        case PrimType::S16: return "int16_t";
        case PrimType::U16: return "uint16_t";
        case PrimType::S32: return "int32_t";
        case PrimType::U32: return "uint32_t";
        case PrimType::S64: return "int64_t";
        case PrimType::U64: return "uint64_t";
        case PrimType::F32: return "float";
        case PrimType::F64: return "double";
        case PrimType::Char: return "char32_t";
        case PrimType::ErrorContext: return "::stratus_guest::ErrorContext";
        default: return "std::string";
      }
    }
    const auto& k = t.defined().kind;
    if (const auto* l = std::get_if<ListType>(&k)) return "std::vector<" + cpp(l->element, canonical) + ">";
    if (const auto* st = std::get_if<StreamType>(&k))
      return "::stratus_guest::StreamReader<" + cpp(*st->element, canonical) + ">";
    if (const auto* fu = std::get_if<FutureType>(&k))
      return "::stratus_guest::FutureReader<" + cpp(*fu->element, canonical) + ">";
    if (const auto* o = std::get_if<OptionType>(&k)) return "std::optional<" + cpp(o->element, canonical) + ">";
    if (const auto* r = std::get_if<ResultType>(&k))
      return "std::expected<" + (r->ok ? cpp(*r->ok, canonical) : "void") + ", " +
             (r->err ? cpp(*r->err, canonical) : "::stratus_guest::Unit") + ">";
    if (const auto* tu = std::get_if<TupleType>(&k)) {
      std::string out = "std::tuple<";
      for (size_t i = 0; i < tu->elements.size(); ++i) out += (i ? ", " : "") + cpp(tu->elements[i], canonical);
      return out + ">";
    }
    if (const auto* o = std::get_if<OwnType>(&k)) {
      const auto& r = resource(o->resource);
      return r.exported ? "std::unique_ptr<" + r.cpp + ">" : r.cpp;
    }
    if (const auto* b = std::get_if<BorrowType>(&k)) {
      // Inside other types; a parameter is a reference (param_cpp).
      const auto& r = resource(b->resource);
      return r.exported ? r.cpp + "*" : "const " + r.cpp + "*";
    }
    return "void";  // refused by check()
  }

  // A parameter's C++ type: views for strings and lists, references for
  // what is large, values for what moves ownership of handles.
  std::string param_cpp(const ValType& t) const {
    if (t.is_primitive()) return t.primitive() == PrimType::String ? "std::string_view" : cpp(t);
    const auto& k = t.defined().kind;
    if (const auto* b = std::get_if<BorrowType>(&k)) {
      const auto& r = resource(b->resource);
      return r.exported ? r.cpp + "&" : "const " + r.cpp + "&";
    }
    if (std::holds_alternative<EnumType>(k) || has_own(t)) return cpp(t);
    if (const auto* l = std::get_if<ListType>(&k)) {
      std::string e = cpp(l->element);
      return "std::span<" + (e.back() == '*' ? e + " const" : "const " + e) + ">";
    }
    return "const " + cpp(t) + "&";
  }

  // ------------------------------------------------------------ lifting

  // The C++ value of `t` from its flat core values (`v`, exactly
  // flatten(t)), taking ownership of what the other side allocated.
  std::string lift_flat(const ValType& t, const std::vector<Flat>& v) {
    if (t.is_primitive()) {
      const std::string& x = v[0].expr;
      switch (t.primitive()) {
        case PrimType::Bool: return "(" + x + " != 0)";
        case PrimType::S32:
        case PrimType::S64:
        case PrimType::F32:
        case PrimType::F64: return x;
        case PrimType::Char: return "static_cast<char32_t>(static_cast<uint32_t>(" + x + "))";
        case PrimType::String: return abi_ + "take_string(" + x + ", " + v[1].expr + ")";
        case PrimType::ErrorContext: return handle_value(t, x);
        default: return "static_cast<" + cpp(t) + ">(" + x + ")";
      }
    }
    const auto& k = t.defined().kind;
    std::string T = cpp(t);
    auto slices = [&](const std::vector<const ValType*>& parts) {
      std::vector<std::string> out;
      size_t i = 0;
      for (const auto* p : parts) {
        size_t n = canon::flatten(*p).size();
        out.push_back(lift_flat(
            *p, std::vector<Flat>(v.begin() + static_cast<ptrdiff_t>(i), v.begin() + static_cast<ptrdiff_t>(i + n))));
        i += n;
      }
      return out;
    };
    if (std::holds_alternative<RecordType>(k) || std::holds_alternative<TupleType>(k)) {
      auto parts = slices(children(t));
      std::string out = T + (std::holds_alternative<RecordType>(k) ? "{" : "(");
      for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
      return out + (std::holds_alternative<RecordType>(k) ? "}" : ")");
    }
    if (const auto* l = std::get_if<ListType>(&k)) return take_list(l->element, v[0].expr, v[1].expr);
    if (const auto* fl = std::get_if<FlagsType>(&k)) {
      std::string out = T + "{";
      for (size_t i = 0; i < fl->names.size(); ++i)
        out += (i ? ", " : "") + std::string("((static_cast<uint32_t>(") + v[i / 32].expr + ") >> " +
               std::to_string(i % 32) + ") & 1) != 0";
      return out + "}";
    }
    if (std::holds_alternative<EnumType>(k)) return "static_cast<" + T + ">(" + v[0].expr + ")";
    if (const auto* o = std::get_if<OwnType>(&k)) return own_from_handle(o->resource, v[0].expr);
    if (is_async_value(t)) return handle_value(t, v[0].expr);
    // Variants, options and results: the case's payload from the joined slots.
    auto cases = canon::variant_cases(t.defined());
    std::vector<std::string> payloads;
    for (const auto& c : cases) {
      if (c.type == nullptr) {
        payloads.emplace_back();
        continue;
      }
      auto want = canon::flatten(*c.type);
      std::vector<Flat> p;
      for (size_t i = 0; i < want.size(); ++i)
        p.push_back({coerce_lift(v[1 + i].type, want[i], v[1 + i].expr), want[i]});
      payloads.push_back(lift_flat(*c.type, p));
    }
    return construct_case(t, v[0].expr, payloads);
  }

  // The C++ value of `t` stored at `p + off`, taking ownership likewise.
  std::string load(const ValType& t, const std::string& p, uint32_t off) {
    std::string a = at(p, off);
    if (t.is_primitive()) {
      switch (t.primitive()) {
        case PrimType::Bool: return "(" + abi_ + "load<uint8_t>(" + a + ") != 0)";
        case PrimType::Char: return "static_cast<char32_t>(" + abi_ + "load<uint32_t>(" + a + "))";
        case PrimType::String:
          return abi_ + "take_string(" + abi_ + "load<int32_t>(" + a + "), " + abi_ + "load<int32_t>(" +
                 at(p, off + 4) + "))";
        case PrimType::ErrorContext: return handle_value(t, abi_ + "load<int32_t>(" + a + ")");
        default: return abi_ + "load<" + cpp(t) + ">(" + a + ")";
      }
    }
    const auto& k = t.defined().kind;
    std::string T = cpp(t);
    if (std::holds_alternative<RecordType>(k) || std::holds_alternative<TupleType>(k)) {
      bool rec = std::holds_alternative<RecordType>(k);
      std::string out = T + (rec ? "{" : "(");
      uint32_t o = 0;
      auto parts = children(t);
      for (size_t i = 0; i < parts.size(); ++i) {
        o = align_to(o, canon::alignment(*parts[i]));
        out += (i ? ", " : "") + load(*parts[i], p, off + o);
        o += canon::elem_size(*parts[i]);
      }
      return out + (rec ? "}" : ")");
    }
    if (const auto* l = std::get_if<ListType>(&k))
      return take_list(l->element, abi_ + "load<int32_t>(" + a + ")", abi_ + "load<int32_t>(" + at(p, off + 4) + ")");
    if (const auto* fl = std::get_if<FlagsType>(&k)) {
      uint32_t size = canon::flags_size(fl->names.size());
      std::string word = size == 1 ? "uint8_t" : size == 2 ? "uint16_t" : "uint32_t";
      std::string out = T + "{";
      for (size_t i = 0; i < fl->names.size(); ++i)
        out += (i ? ", " : "") + std::string("((") + abi_ + "load<" + word + ">(" +
               at(p, off + static_cast<uint32_t>(i / 32) * 4) + ") >> " + std::to_string(i % 32) + ") & 1) != 0";
      return out + "}";
    }
    if (const auto* e = std::get_if<EnumType>(&k))
      return "static_cast<" + T + ">(" + abi_ + "load<" + disc_cpp(e->names.size()) + ">(" + a + "))";
    if (const auto* o = std::get_if<OwnType>(&k))
      return own_from_handle(o->resource, abi_ + "load<int32_t>(" + a + ")");
    if (is_async_value(t)) return handle_value(t, abi_ + "load<int32_t>(" + a + ")");
    auto cases = canon::variant_cases(t.defined());
    uint32_t payload = off + align_to(canon::discriminant_size(cases.size()), payload_alignment(cases));
    std::vector<std::string> payloads;
    for (const auto& c : cases) payloads.push_back(c.type == nullptr ? "" : load(*c.type, p, payload));
    return construct_case(t, abi_ + "load<" + disc_cpp(cases.size()) + ">(" + a + ")", payloads);
  }

  static uint32_t payload_alignment(const std::vector<canon::CaseView>& cases) {
    uint32_t a = 1;
    for (const auto& c : cases)
      if (c.type != nullptr) a = std::max(a, canon::alignment(*c.type));
    return a;
  }

  std::string take_list(const ValType& elem, const std::string& ptr, const std::string& len) {
    if (trivial(elem)) return abi_ + "take_trivial_list<" + cpp(elem) + ">(" + ptr + ", " + len + ")";
    std::string e = tmp("e");
    return abi_ + "take_list<" + cpp(elem) + ">(" + ptr + ", " + len + ", " + std::to_string(canon::elem_size(elem)) +
           ", [&](const uint8_t* " + e + ") { return " + load(elem, e, 0) + "; })";
  }

  // A stream's or future's readable end, or an error-context, from its handle.
  std::string handle_value(const ValType& t, const std::string& handle) const {
    return cpp(t) + "::from_handle(static_cast<uint32_t>(" + handle + "))";
  }

  std::string own_from_handle(const ResourceTypePtr& r, const std::string& handle) const {
    const auto& res = resource(r);
    if (res.exported) return abi_ + "adopt_" + res.id + "(" + handle + ")";
    return res.cpp + "::from_handle(static_cast<uint32_t>(" + handle + "))";
  }

  // A variant, option or result from its discriminant and each case's
  // payload expression (empty when the case has none).
  std::string construct_case(const ValType& t, const std::string& disc, const std::vector<std::string>& payloads) {
    const auto& k = t.defined().kind;
    std::string T = cpp(t);
    std::string out = "[&]() -> " + T + " {\n    switch (" + disc + ") {\n";
    for (size_t i = 0; i < payloads.size(); ++i) {
      std::string value;
      if (const auto* var = std::get_if<VariantType>(&k)) {
        std::string cs = variant_prefix_.at(&t.defined()) + camel(var->cases[i].name);
        value = T + "(std::in_place_index<" + std::to_string(i) + ">, " + cs + "{" + payloads[i] + "})";
      } else if (std::holds_alternative<OptionType>(k)) {
        value = i == 0 ? T + "()" : T + "(std::in_place, " + payloads[i] + ")";
      } else {
        if (i == 0) {
          value = payloads[0].empty() ? T + "()" : T + "(std::in_place, " + payloads[0] + ")";
        } else {
          value = T + "(std::unexpect" + (payloads[1].empty() ? "" : ", " + payloads[1]) + ")";
        }
      }
      out += "      case " + std::to_string(i) + ": return " + value + ";\n";
    }
    return out + "      default: __builtin_trap();\n    }\n  }()";
  }

  // ------------------------------------------------------------ lowering

  // Appends the flat core values of `x` (an lvalue of type `t`) to `out`,
  // emitting what computes them into `c`. Strings and lists of numbers
  // point at the C++ value's own storage; other lists are built in buffers
  // from `allocs`. Owned handles are released from `x`.
  void lower_flat(const ValType& t, const std::string& x, Code& c, std::vector<Flat>& out) {
    if (t.is_primitive()) {
      switch (t.primitive()) {
        case PrimType::Bool: out.push_back({"(" + x + " ? 1 : 0)", Core::I32}); return;
        case PrimType::S32: out.push_back({x, Core::I32}); return;
        case PrimType::S64: out.push_back({x, Core::I64}); return;
        case PrimType::U64: out.push_back({"static_cast<int64_t>(" + x + ")", Core::I64}); return;
        case PrimType::F32: out.push_back({x, Core::F32}); return;
        case PrimType::F64: out.push_back({x, Core::F64}); return;
        case PrimType::String:
          out.push_back({abi_ + "i32_of(" + x + ".data())", Core::I32});
          out.push_back({"static_cast<int32_t>(" + x + ".size())", Core::I32});
          return;
        case PrimType::ErrorContext: out.push_back({handle_of(t, x), Core::I32}); return;
        default: out.push_back({"static_cast<int32_t>(" + x + ")", Core::I32}); return;
      }
    }
    const auto& k = t.defined().kind;
    if (const auto* r = std::get_if<RecordType>(&k)) {
      for (const auto& f : r->fields) lower_flat(f.type, x + "." + snake(f.name), c, out);
      return;
    }
    if (const auto* tu = std::get_if<TupleType>(&k)) {
      for (size_t i = 0; i < tu->elements.size(); ++i)
        lower_flat(tu->elements[i], "std::get<" + std::to_string(i) + ">(" + x + ")", c, out);
      return;
    }
    if (const auto* l = std::get_if<ListType>(&k)) {
      auto [ptr, len] = lower_list(l->element, x, c);
      out.push_back({ptr, Core::I32});
      out.push_back({len, Core::I32});
      return;
    }
    if (const auto* fl = std::get_if<FlagsType>(&k)) {
      for (size_t w = 0; w < std::max<size_t>(1, (fl->names.size() + 31) / 32); ++w)
        out.push_back({"static_cast<int32_t>(" + flag_word(*fl, x, w) + ")", Core::I32});
      return;
    }
    if (std::holds_alternative<EnumType>(k)) {
      out.push_back({"static_cast<int32_t>(" + x + ")", Core::I32});
      return;
    }
    if (std::holds_alternative<OwnType>(k) || std::holds_alternative<BorrowType>(k) || is_async_value(t)) {
      out.push_back({handle_of(t, x), Core::I32});
      return;
    }
    // Variants, options and results: the discriminant, then the joined
    // payload slots the case fills (with zeros past its own values).
    auto flat = canon::flatten(t);
    std::vector<Flat> slots;
    for (auto type : flat) {
      std::string s = tmp("s");
      c.line(core_cpp(type) + " " + s + " = 0;");
      slots.push_back({s, type});
    }
    auto cases = canon::variant_cases(t.defined());
    c.line(switch_on(t, x));
    for (size_t i = 0; i < cases.size(); ++i) {
      c.line("  case " + std::to_string(i) + ": {");
      c.depth += 2;
      c.line(slots[0].expr + " = " + std::to_string(i) + ";");
      if (cases[i].type != nullptr) {
        std::vector<Flat> p;
        lower_flat(*cases[i].type, case_payload(t, x, i), c, p);
        for (size_t j = 0; j < p.size(); ++j)
          c.line(slots[1 + j].expr + " = " + coerce_lower(p[j].type, slots[1 + j].type, p[j].expr) + ";");
      }
      c.line("break;");
      c.depth -= 2;
      c.line("  }");
    }
    c.line("  default: __builtin_trap();");
    c.line("}");
    out.insert(out.end(), slots.begin(), slots.end());
  }

  // Stores `x` (an lvalue of type `t`) at `p + off`, as lower_flat does.
  void store(const ValType& t, const std::string& x, const std::string& p, uint32_t off, Code& c) {
    std::string a = at(p, off);
    if (t.is_primitive()) {
      switch (t.primitive()) {
        case PrimType::Bool: c.line(abi_ + "store<uint8_t>(" + a + ", " + x + " ? 1 : 0);"); return;
        case PrimType::Char: c.line(abi_ + "store<uint32_t>(" + a + ", static_cast<uint32_t>(" + x + "));"); return;
        case PrimType::String:
          c.line(abi_ + "store<int32_t>(" + a + ", " + abi_ + "i32_of(" + x + ".data()));");
          c.line(abi_ + "store<int32_t>(" + at(p, off + 4) + ", static_cast<int32_t>(" + x + ".size()));");
          return;
        case PrimType::ErrorContext: c.line(abi_ + "store<int32_t>(" + a + ", " + handle_of(t, x) + ");"); return;
        default: c.line(abi_ + "store<" + cpp(t) + ">(" + a + ", " + x + ");"); return;
      }
    }
    const auto& k = t.defined().kind;
    if (std::holds_alternative<RecordType>(k) || std::holds_alternative<TupleType>(k)) {
      const auto* rec = std::get_if<RecordType>(&k);
      uint32_t o = 0;
      auto parts = children(t);
      for (size_t i = 0; i < parts.size(); ++i) {
        o = align_to(o, canon::alignment(*parts[i]));
        std::string field =
            rec != nullptr ? x + "." + snake(rec->fields[i].name) : "std::get<" + std::to_string(i) + ">(" + x + ")";
        store(*parts[i], field, p, off + o, c);
        o += canon::elem_size(*parts[i]);
      }
      return;
    }
    if (const auto* l = std::get_if<ListType>(&k)) {
      auto [ptr, len] = lower_list(l->element, x, c);
      c.line(abi_ + "store<int32_t>(" + a + ", " + ptr + ");");
      c.line(abi_ + "store<int32_t>(" + at(p, off + 4) + ", " + len + ");");
      return;
    }
    if (const auto* fl = std::get_if<FlagsType>(&k)) {
      uint32_t size = canon::flags_size(fl->names.size());
      std::string word = size == 1 ? "uint8_t" : size == 2 ? "uint16_t" : "uint32_t";
      for (size_t w = 0; w < std::max<size_t>(1, (fl->names.size() + 31) / 32); ++w)
        c.line(abi_ + "store<" + word + ">(" + at(p, off + static_cast<uint32_t>(w) * 4) + ", static_cast<" + word +
               ">(" + flag_word(*fl, x, w) + "));");
      return;
    }
    if (const auto* e = std::get_if<EnumType>(&k)) {
      std::string d = disc_cpp(e->names.size());
      c.line(abi_ + "store<" + d + ">(" + a + ", static_cast<" + d + ">(" + x + "));");
      return;
    }
    if (std::holds_alternative<OwnType>(k) || std::holds_alternative<BorrowType>(k) || is_async_value(t)) {
      c.line(abi_ + "store<int32_t>(" + a + ", " + handle_of(t, x) + ");");
      return;
    }
    auto cases = canon::variant_cases(t.defined());
    std::string d = disc_cpp(cases.size());
    uint32_t payload = off + align_to(canon::discriminant_size(cases.size()), payload_alignment(cases));
    c.line(switch_on(t, x));
    for (size_t i = 0; i < cases.size(); ++i) {
      c.line("  case " + std::to_string(i) + ": {");
      c.depth += 2;
      c.line(abi_ + "store<" + d + ">(" + a + ", " + std::to_string(i) + ");");
      if (cases[i].type != nullptr) store(*cases[i].type, case_payload(t, x, i), p, payload, c);
      c.line("break;");
      c.depth -= 2;
      c.line("  }");
    }
    c.line("  default: __builtin_trap();");
    c.line("}");
  }

  // A list's (pointer, length) core values.
  std::pair<std::string, std::string> lower_list(const ValType& elem, const std::string& x, Code& c) {
    std::string len = "static_cast<int32_t>(" + x + ".size())";
    if (trivial(elem)) return {abi_ + "i32_of(" + x + ".data())", len};
    uint32_t size = canon::elem_size(elem);
    std::string b = tmp("b");
    std::string i = tmp("i");
    std::string e = tmp("e");
    c.allocs = true;
    c.line("auto* " + b + " = static_cast<uint8_t*>(allocs.alloc(" + x + ".size() * " + std::to_string(size) + ", " +
           std::to_string(canon::alignment(elem)) + "));");
    c.line("for (size_t " + i + " = 0; " + i + " < " + x + ".size(); ++" + i + ") {");
    c.depth++;
    c.line("uint8_t* " + e + " = " + b + " + " + i + " * " + std::to_string(size) + ";");
    store(elem, x + "[" + i + "]", e, 0, c);
    c.depth--;
    c.line("}");
    return {abi_ + "i32_of(" + b + ")", len};
  }

  std::string flag_word(const FlagsType& fl, const std::string& x, size_t w) const {
    std::string out = "0u";
    for (size_t i = w * 32; i < std::min(fl.names.size(), w * 32 + 32); ++i)
      out += " | (" + x + "." + snake(fl.names[i]) + " ? (1u << " + std::to_string(i % 32) + ") : 0u)";
    return out;
  }

  std::string handle_of(const ValType& t, const std::string& x) const {
    if (is_async_value(t)) return "static_cast<int32_t>(" + x + ".release())";
    if (const auto* b = kind_of<BorrowType>(t)) {
      // A pointer (inside another type); parameters are lowered by
      // borrowed_param.
      const auto& r = resource(b->resource);
      return r.exported ? abi_ + "i32_of(" + x + ")" : "static_cast<int32_t>(" + x + "->handle())";
    }
    const auto& r = resource(std::get<OwnType>(t.defined().kind).resource);
    if (r.exported) return abi_ + "new_handle_" + r.id + "(std::move(" + x + "))";
    return "static_cast<int32_t>(" + x + ".release())";
  }

  // The handle a borrow parameter (a reference) passes.
  std::string borrowed_param(const ValType& t, const std::string& x) const {
    const auto& r = resource(std::get<BorrowType>(t.defined().kind).resource);
    return r.exported ? abi_ + "i32_of(&" + x + ")" : "static_cast<int32_t>(" + x + ".handle())";
  }

  static std::string switch_on(const ValType& t, const std::string& x) {
    const auto& k = t.defined().kind;
    if (std::holds_alternative<VariantType>(k)) return "switch (" + x + ".index()) {";
    if (std::holds_alternative<OptionType>(k)) return "switch (" + x + ".has_value() ? 1 : 0) {";
    return "switch (" + x + ".has_value() ? 0 : 1) {";  // result
  }

  static std::string case_payload(const ValType& t, const std::string& x, size_t i) {
    const auto& k = t.defined().kind;
    if (std::holds_alternative<VariantType>(k)) return "std::get<" + std::to_string(i) + ">(" + x + ").value";
    if (std::holds_alternative<OptionType>(k) || i == 0) return "(*" + x + ")";
    return x + ".error()";
  }

  std::string tmp(const std::string& prefix) { return prefix + std::to_string(counter_++); }

  // ------------------------------------------------------------ types

  void deps(const ValType& t, std::vector<const TypeName*>& out, bool top) {
    if (!top && t.name() != nullptr && names_.count(t.name()) != 0) {
      out.push_back(t.name());
      return;
    }
    for (const auto* c : children(t)) deps(*c, out, false);
  }

  // How a type definition reads in C++: a struct (records, flags, and each
  // case of a variant), an enum, or an alias (the rest, and variants).
  enum class DefKind { Alias, Struct, Variant, Enum };
  static DefKind def_kind(const TypeBound& b) {
    const auto& v = std::get<ValType>(b.type);
    if ((v.name() != nullptr && v.name() != b.name.get()) || v.is_primitive()) return DefKind::Alias;
    const auto& k = v.defined().kind;
    if (std::holds_alternative<RecordType>(k) || std::holds_alternative<FlagsType>(k)) return DefKind::Struct;
    if (std::holds_alternative<VariantType>(k)) return DefKind::Variant;
    if (std::holds_alternative<EnumType>(k)) return DefKind::Enum;
    return DefKind::Alias;
  }

  // The unit's named types: forward declarations and aliases (which may
  // name types not defined yet), so that resource classes can declare
  // their functions before the definitions (which may hold resources).
  Result<void> declare_types(const Unit& u, std::string& h) {
    locals_.clear();
    for (const auto& e : u.type->exports) {
      const auto* b = std::get_if<TypeBound>(&e.type);
      if (b == nullptr || !std::holds_alternative<ValType>(b->type)) continue;
      const auto& v = std::get<ValType>(b->type);
      auto checked = def_kind(*b) == DefKind::Alias ? check(v, false) : check_children(v);
      if (!checked.ok()) return std::move(checked).error().context("interface `" + u.name + "`, type `" + e.name + "`");
      locals_[b->name.get()] = {e.name, b};
      std::string cname = camel(e.name);
      switch (def_kind(*b)) {
        case DefKind::Struct: h += "struct " + cname + ";\n"; break;
        case DefKind::Enum: h += "enum class " + cname + " : uint32_t;\n"; break;
        case DefKind::Variant:
          for (const auto& c : std::get<VariantType>(v.defined().kind).cases)
            h += "struct " + cname + camel(c.name) + ";\n";
          break;
        case DefKind::Alias: break;
      }
    }
    std::set<const TypeName*> emitted, visiting;
    std::function<Result<void>(const TypeName*)> alias = [&](const TypeName* n) -> Result<void> {
      if (emitted.count(n) != 0 || locals_.count(n) == 0) return {};
      const auto& [name, b] = locals_[n];
      DefKind dk = def_kind(*b);
      if (dk != DefKind::Alias && dk != DefKind::Variant) return {};
      if (!visiting.insert(n).second) return make_error("interface `" + u.name + "`: recursive types");
      const auto& v = std::get<ValType>(b->type);
      std::vector<const TypeName*> ds;
      if (dk == DefKind::Alias) {
        deps(v, ds, true);
        if (v.name() != nullptr && v.name() != n) ds.push_back(v.name());
      }
      for (const auto* d : ds) STRATUS_TRY(alias(d));
      std::string cname = camel(name);
      if (dk == DefKind::Variant) {
        std::string alts;
        const auto& cases = std::get<VariantType>(v.defined().kind).cases;
        for (size_t i = 0; i < cases.size(); ++i) alts += (i ? ", " : "") + cname + camel(cases[i].name);
        h += "using " + cname + " = std::variant<" + alts + ">;\n";
      } else {
        bool named = v.name() != nullptr && v.name() != n;
        h += "using " + cname + " = " + cpp(named ? v : v.with_name(nullptr)) + ";\n";
      }
      emitted.insert(n);
      return {};
    };
    for (const auto& e : u.type->exports)
      if (const auto* b = std::get_if<TypeBound>(&e.type); b != nullptr && std::holds_alternative<ValType>(b->type))
        STRATUS_TRY(alias(b->name.get()));
    return {};
  }

  // The definitions of the unit's structs and enums, each after what it
  // holds.
  Result<void> define_types(const Unit& u, std::string& h) {
    std::set<const TypeName*> emitted, visiting;
    std::function<Result<void>(const TypeName*)> emit = [&](const TypeName* n) -> Result<void> {
      if (emitted.count(n) != 0 || locals_.count(n) == 0) return {};
      if (!visiting.insert(n).second) return make_error("interface `" + u.name + "`: recursive types");
      const auto& [name, b] = locals_[n];
      const auto& v = std::get<ValType>(b->type);
      std::vector<const TypeName*> ds;
      deps(v, ds, true);
      if (v.name() != nullptr && v.name() != n) ds.push_back(v.name());
      for (const auto* d : ds) STRATUS_TRY(emit(d));
      type_def(name, *b, h);
      emitted.insert(n);
      return {};
    };
    for (const auto& e : u.type->exports)
      if (const auto* b = std::get_if<TypeBound>(&e.type); b != nullptr && std::holds_alternative<ValType>(b->type))
        STRATUS_TRY(emit(b->name.get()));
    return {};
  }

  // Values holding imported resources (move-only, not comparable) have no ==.
  static std::string equality(const ValType& t, const std::string& cname) {
    return has_own(t) ? "" : "  bool operator==(const " + cname + "&) const = default;\n";
  }

  void type_def(const std::string& name, const TypeBound& b, std::string& h) {
    const auto& v = std::get<ValType>(b.type);
    std::string cname = camel(name);
    auto member = [&](const ValType& t, const std::string& n) {
      // Values holding handles have no empty state to start from.
      return "  " + cpp(t) + " " + n + (has_own(t) ? ";\n" : "{};\n");
    };
    switch (def_kind(b)) {
      case DefKind::Alias: return;
      case DefKind::Struct:
        h += "struct " + cname + " {\n";
        if (const auto* rec = std::get_if<RecordType>(&v.defined().kind)) {
          for (const auto& f : rec->fields) h += member(f.type, snake(f.name));
        } else {
          for (const auto& n : std::get<FlagsType>(v.defined().kind).names) h += "  bool " + snake(n) + " = false;\n";
        }
        h += equality(v, cname) + "};\n\n";
        return;
      case DefKind::Variant:
        for (const auto& c : std::get<VariantType>(v.defined().kind).cases) {
          std::string cs = cname + camel(c.name);
          h += "struct " + cs + " {\n" + (c.type ? member(*c.type, "value") : "") + equality(v, cs) + "};\n";
        }
        h += "\n";
        return;
      case DefKind::Enum:
        h += "enum class " + cname + " : uint32_t {\n";
        for (const auto& n : std::get<EnumType>(v.defined().kind).names) h += "  k" + camel(n) + ",\n";
        h += "};\n\n";
        return;
    }
  }

  // ------------------------------------------------------------ functions

  // The core signature of a function: flatten_functype, for async ones
  // too (a lowered async call takes at most 4 flat parameters, an out-pointer
  // for its result and returns its status; a lifted one with a callback
  // returns the callback code, its result going through task.return).
  static canon::FlatSignature core_sig(const FuncType& f, canon::Direction d) {
    if (!f.async) return canon::flatten_func(f, d);
    canon::FlatSignature sig;
    for (const auto& p : f.params) {
      auto flat = canon::flatten(p.type);
      sig.params.insert(sig.params.end(), flat.begin(), flat.end());
    }
    size_t max = d == canon::Direction::Lower ? canon::kMaxFlatAsyncParams : canon::kMaxFlatParams;
    if (sig.params.size() > max) {
      sig.params = {Core::I32};
      sig.params_indirect = true;
    }
    if (d == canon::Direction::Lower && f.result) {
      sig.params.push_back(Core::I32);
      sig.results_indirect = true;
    }
    sig.results = {Core::I32};
    return sig;
  }

  // Parameters: views and references for a synchronous function; values
  // for an async one, whose coroutine keeps them past its first suspension.
  std::string params_decl(const FuncType& f, size_t first, bool named) const {
    std::string out;
    for (size_t i = first; i < f.params.size(); ++i)
      out += (i > first ? ", " : "") + (f.async ? cpp(f.params[i].type) : param_cpp(f.params[i].type)) + " " +
             (named ? snake(f.params[i].name) : "p" + std::to_string(i));
    return out;
  }

  std::string result_cpp(const FuncType& f) const {
    std::string r = f.result ? cpp(*f.result) : "void";
    return f.async ? "::stratus_guest::Task<" + r + ">" : r;
  }

  std::string core_signature(const std::vector<Core>& params, const std::vector<Core>& results,
                             const std::string& cname, bool named) const {
    std::string out = (results.empty() ? "void" : core_cpp(results[0])) + " " + cname + "(";
    for (size_t i = 0; i < params.size(); ++i)
      out += (i ? ", " : "") + core_cpp(params[i]) + (named ? " a" + std::to_string(i) : "");
    return out + ")";
  }

  // The body of an imported function's C++ definition: parameters are
  // `p<i>` (the method's receiver is `handle_`).
  std::string import_body(const FuncType& f, const FuncName& fn, const std::string& core) {
    auto sig = core_sig(f, canon::Direction::Lower);
    Code c;
    std::vector<std::string> args;
    if (!sig.params_indirect) {
      for (size_t i = 0; i < f.params.size(); ++i) {
        if (fn.kind == FuncName::Method && i == 0) {
          args.push_back("static_cast<int32_t>(handle_)");
          continue;
        }
        if (kind_of<BorrowType>(f.params[i].type) != nullptr) {
          args.push_back(borrowed_param(f.params[i].type, "p" + std::to_string(i)));
          continue;
        }
        std::vector<Flat> flats;
        lower_flat(f.params[i].type, "p" + std::to_string(i), c, flats);
        for (auto& x : flats) args.push_back(x.expr);
      }
    } else {
      std::vector<ValType> types;
      for (const auto& p : f.params) types.push_back(p.type);
      ValType tuple = make_type(TupleType{types});
      std::string buf = tmp("args");
      c.line("alignas(" + std::to_string(canon::alignment(tuple)) + ") uint8_t " + buf + "[" +
             std::to_string(canon::elem_size(tuple)) + "];");
      uint32_t o = 0;
      for (size_t i = 0; i < f.params.size(); ++i) {
        o = align_to(o, canon::alignment(types[i]));
        if (fn.kind == FuncName::Method && i == 0) {
          c.line(abi_ + "store<int32_t>(" + at(buf, o) + ", static_cast<int32_t>(handle_));");
        } else if (kind_of<BorrowType>(types[i]) != nullptr) {
          c.line(abi_ + "store<int32_t>(" + at(buf, o) + ", " + borrowed_param(types[i], "p" + std::to_string(i)) +
                 ");");
        } else {
          store(types[i], "p" + std::to_string(i), buf, o, c);
        }
        o += canon::elem_size(types[i]);
      }
      args.push_back(abi_ + "i32_of(" + buf + ")");
    }
    std::string ret;
    if (sig.results_indirect) {
      ret = tmp("ret");
      c.line("alignas(" + std::to_string(canon::alignment(*f.result)) + ") uint8_t " + ret + "[" +
             std::to_string(canon::elem_size(*f.result)) + "];");
      args.push_back(abi_ + "i32_of(" + ret + ")");
    }
    std::string call = "::" + core + "(";
    for (size_t i = 0; i < args.size(); ++i) call += (i ? ", " : "") + args[i];
    call += ")";
    if (f.async) {
      // The call returns its status: wait until the subtask has returned
      // (the result is in `ret` then). The coroutine's frame holds the
      // parameters' memory meanwhile.
      c.line("co_await ::stratus_guest::detail::finish_subtask(static_cast<uint32_t>(" + call + "));");
      if (f.result) c.line("co_return " + load(*f.result, ret, 0) + ";");
    } else if (fn.kind == FuncName::Constructor) {
      c.line("handle_ = static_cast<uint32_t>(" + call + ");");
    } else if (!f.result) {
      c.line(call + ";");
    } else if (sig.results_indirect) {
      c.line(call + ";");
      c.line("return " + load(*f.result, ret, 0) + ";");
    } else {
      std::string r = tmp("r");
      c.line(core_cpp(sig.results[0]) + " " + r + " = " + call + ";");
      c.line("return " + lift_flat(*f.result, {{r, sig.results[0]}}) + ";");
    }
    return (c.allocs ? "  " + abi_ + "Allocs allocs;\n" : "") + c.text;
  }

  // Declares the core import of function `name` of `module`; returns its C name.
  std::string declare_import(const std::string& module, const std::string& name, const FuncType& f) {
    auto sig = core_sig(f, canon::Direction::Lower);
    std::string cname = base_ + "_import_" + std::to_string(core_count_++);
    decls_ += "extern \"C\" __attribute__((import_module(" + string_literal(module) + "), import_name(" +
              string_literal((f.async ? "[async-lower]" : "") + name) + "))) " +
              core_signature(sig.params, sig.results, cname, false) + ";\n";
    return cname;
  }

  // An imported resource: a move-only class owning its handle.
  void imported_resource(const Unit& u, const std::string& wit, std::string& h) {
    std::string cls = camel(wit);
    std::string q = "::" + u.ns + "::" + cls;
    std::string drop = base_ + "_import_" + std::to_string(core_count_++);
    decls_ += "extern \"C\" __attribute__((import_module(" + string_literal(u.module) + "), import_name(" +
              string_literal("[resource-drop]" + wit) + "))) void " + drop + "(int32_t);\n";
    defs_ += "void " + q + "::reset() {\n  if (handle_ != 0) ::" + drop +
             "(static_cast<int32_t>(std::exchange(handle_, 0)));\n}\n\n";
    std::string members;
    for (const auto& e : u.type->exports) {
      const auto* fp = std::get_if<FuncTypePtr>(&e.type);
      if (fp == nullptr) continue;
      auto fn = parse_func_name(e.name);
      if (fn.kind == FuncName::Free || fn.resource != wit) continue;
      const FuncType& f = **fp;
      note_async_types(u, e.name, f);
      std::string core = declare_import(u.module, e.name, f);
      std::string body = import_body(f, fn, core);
      if (fn.kind == FuncName::Constructor) {
        members += "  // `" + e.name + "`: a new resource from the host.\n  explicit " + cls + "(" +
                   params_decl(f, 0, true) + ");\n";
        defs_ += q + "::" + cls + "(" + params_decl(f, 0, false) + ") {\n" + body + "}\n\n";
      } else if (fn.kind == FuncName::Method) {
        std::string m = member_name(fn.name, false);
        members += "  " + result_cpp(f) + " " + m + "(" + params_decl(f, 1, true) + ") const;\n";
        defs_ += "auto " + q + "::" + m + "(" + params_decl(f, 1, false) + ") const -> " + result_cpp(f) + " {\n" +
                 body + "}\n\n";
      } else {
        std::string m = member_name(fn.name, false);
        members += "  static " + result_cpp(f) + " " + m + "(" + params_decl(f, 0, true) + ");\n";
        defs_ +=
            "auto " + q + "::" + m + "(" + params_decl(f, 0, false) + ") -> " + result_cpp(f) + " {\n" + body + "}\n\n";
      }
    }
    h += "// Resource `" + wit + "` (imported): owns one handle, dropped with the object.\nclass " + cls +
         " {\n public:\n" + members + "  // Takes ownership of `handle` (an own handle of `" + wit + "`).\n" +
         "  static " + cls + " from_handle(uint32_t handle) { return " + cls + "(Adopt{}, handle); }\n" + "  " + cls +
         "(" + cls + "&& other) noexcept : handle_(std::exchange(other.handle_, 0)) {}\n" + "  " + cls +
         "& operator=(" + cls +
         "&& other) noexcept {\n    if (this != &other) {\n      reset();\n      handle_ = "
         "std::exchange(other.handle_, 0);\n    }\n    return *this;\n  }\n" +
         "  " + cls + "(const " + cls + "&) = delete;\n  " + cls + "& operator=(const " + cls + "&) = delete;\n  ~" +
         cls + "() { reset(); }\n" +
         "  // The handle (0 once moved from or released).\n  uint32_t handle() const { return handle_; }\n" +
         "  // Gives up the handle without dropping it.\n  uint32_t release() { return std::exchange(handle_, 0); }\n" +
         "\n private:\n  struct Adopt {};\n  " + cls + "(Adopt, uint32_t handle) : handle_(handle) {}\n" +
         "  void reset();  // drops the handle\n  uint32_t handle_ = 0;\n};\n\n";
  }

  // An exported resource: an abstract class the guest implements; its
  // objects are the resource's representations.
  void exported_resource(const Unit& u, const std::string& wit, const Resource& r, std::string& h) {
    std::string cls = camel(wit);
    std::string module = "[export]" + u.name;
    auto intrinsic = [&](const std::string& what, const std::string& ret) {
      std::string n = base_ + "_import_" + std::to_string(core_count_++);
      decls_ += "extern \"C\" __attribute__((import_module(" + string_literal(module) + "), import_name(" +
                string_literal("[resource-" + what + "]" + wit) + "))) " + ret + " " + n + "(int32_t);\n";
      return n;
    };
    std::string new_fn = intrinsic("new", "int32_t");
    std::string rep_fn = intrinsic("rep", "int32_t");
    std::string drop_fn = intrinsic("drop", "void");
    helpers_ += "namespace " + base_ + "_abi {\nnamespace {\n\n// An own handle of exported `" + wit +
                "` the host gave back: the object it names, which the\n// handle no longer owns.\n"
                "std::unique_ptr<" +
                r.cpp + "> adopt_" + r.id + "(int32_t handle) {\n  int32_t rep = ::" + rep_fn +
                "(handle);\n  adopting = rep;  // the destructor export leaves it alone\n  ::" + drop_fn +
                "(handle);\n  adopting = 0;\n  return std::unique_ptr<" + r.cpp + ">(reinterpret_cast<" + r.cpp +
                "*>(ptr_of(rep)));\n}\n\n// A new own handle of exported `" + wit +
                "`, which now owns the object.\nint32_t new_handle_" + r.id + "(std::unique_ptr<" + r.cpp +
                "> object) { return ::" + new_fn +
                "(i32_of(object.release())); }\n\n}  // namespace\n}  // namespace " + base_ + "_abi\n\n";
    exports_ += "extern \"C\" __attribute__((export_name(" + string_literal(u.prefix + "[dtor]" + wit) + "))) void " +
                base_ + "_dtor_" + r.id + "(int32_t rep) {\n  if (rep != " + abi_ +
                "adopting) delete reinterpret_cast<" + r.cpp + "*>(" + abi_ + "ptr_of(rep));\n}\n\n";
    std::string members;
    for (const auto& e : u.type->exports) {
      const auto* fp = std::get_if<FuncTypePtr>(&e.type);
      if (fp == nullptr) continue;
      auto fn = parse_func_name(e.name);
      if (fn.kind == FuncName::Free || fn.resource != wit) continue;
      const FuncType& f = **fp;
      if (fn.kind == FuncName::Constructor) {
        members += "  // `" + e.name +
                   "`: the guest defines it, returning its implementation.\n  static std::unique_ptr<" + cls +
                   "> create(" + params_decl(f, 0, true) + ");\n";
      } else if (fn.kind == FuncName::Method) {
        members += "  virtual " + result_cpp(f) + " " + member_name(fn.name, true) + "(" + params_decl(f, 1, true) +
                   ") = 0;\n";
      } else {
        members += "  static " + result_cpp(f) + " " + member_name(fn.name, true) + "(" + params_decl(f, 0, true) +
                   ");  // the guest defines it\n";
      }
    }
    h += "// Resource `" + wit +
         "` (exported): the guest derives its implementation from\n// this class; handles own "
         "objects (std::unique_ptr), a borrow is a reference.\nclass " +
         cls + " {\n public:\n  virtual ~" + cls + "() = default;\n" + members + "};\n\n";
  }

  // The core export of an exported function, calling what the guest defines.
  void export_func(const Unit& u, const std::string& name, const FuncType& f) {
    auto fn = parse_func_name(name);
    auto sig = canon::flatten_func(f, canon::Direction::Lift);
    std::string id = std::to_string(core_count_++);
    std::string cname = base_ + "_export_" + id;
    Code c;
    std::vector<std::string> after;
    std::vector<std::string> args;
    std::string self;
    // Where each parameter's core values are: flat arguments, or memory.
    std::vector<Flat> flat;
    for (size_t i = 0; i < sig.params.size(); ++i) flat.push_back({"a" + std::to_string(i), sig.params[i]});
    std::string mem;
    std::vector<uint32_t> offsets;
    if (sig.params_indirect) {
      mem = tmp("args");
      c.line("const uint8_t* " + mem + " = " + abi_ + "ptr_of(a0);");
      uint32_t o = 0;
      for (const auto& p : f.params) {
        o = align_to(o, canon::alignment(p.type));
        offsets.push_back(o);
        o += canon::elem_size(p.type);
      }
    }
    size_t next = 0;
    for (size_t i = 0; i < f.params.size(); ++i) {
      const ValType& t = f.params[i].type;
      size_t n = canon::flatten(t).size();
      std::vector<Flat> mine;
      if (!sig.params_indirect)
        mine.assign(flat.begin() + static_cast<ptrdiff_t>(next), flat.begin() + static_cast<ptrdiff_t>(next + n));
      next += n;
      // The core value at `k` of this parameter (flat) or its word at `k * 4` (memory).
      auto word = [&](size_t k) {
        if (!sig.params_indirect) return mine[k].expr;
        std::string w = tmp("w");
        c.line("int32_t " + w + " = " + abi_ + "load<int32_t>(" + at(mem, offsets[i] + static_cast<uint32_t>(k) * 4) +
               ");");
        return w;
      };
      std::string v = tmp("v");
      const auto* list = kind_of<ListType>(t);
      if (t.is_primitive() && t.primitive() == PrimType::String) {
        std::string ptr = word(0), len = word(1);
        c.line("std::string_view " + v + "(reinterpret_cast<const char*>(" + abi_ + "ptr_of(" + ptr +
               ")), static_cast<uint32_t>(" + len + "));");
        after.push_back(abi_ + "free_buf(" + ptr + ", static_cast<uint32_t>(" + len + "));");
        args.push_back(v);
      } else if (list != nullptr && trivial(list->element)) {
        std::string ptr = word(0), len = word(1);
        std::string e = cpp(list->element);
        c.line("std::span<const " + e + "> " + v + "(reinterpret_cast<const " + e + "*>(" + abi_ + "ptr_of(" + ptr +
               ")), static_cast<uint32_t>(" + len + "));");
        after.push_back(abi_ + "free_buf(" + ptr + ", static_cast<uint32_t>(" + len + ") * sizeof(" + e + "));");
        args.push_back(v);
      } else if (const auto* b = kind_of<BorrowType>(t)) {
        const auto& r = resource(b->resource);
        std::string h = word(0);
        if (r.exported) {
          std::string obj = "(*reinterpret_cast<" + r.cpp + "*>(" + abi_ + "ptr_of(" + h + ")))";
          if (fn.kind == FuncName::Method && i == 0) {
            self = obj;
          } else {
            args.push_back(obj);
          }
        } else {
          // A borrowed handle: dropped (returned) when the call ends.
          c.line(r.cpp + " " + v + " = " + r.cpp + "::from_handle(static_cast<uint32_t>(" + h + "));");
          args.push_back(v);
        }
      } else {
        std::string value = sig.params_indirect ? load(t, mem, offsets[i]) : lift_flat(t, mine);
        c.line("auto " + v + " = " + value + ";");
        args.push_back(has_own(t) ? "std::move(" + v + ")" : v);
      }
    }
    if (sig.params_indirect) after.push_back("std::free(" + abi_ + "ptr_of(a0));");
    std::string ns = "::" + u.ns + "::";
    std::string callee;
    switch (fn.kind) {
      case FuncName::Free: callee = ns + snake(fn.name); break;
      case FuncName::Constructor: callee = ns + camel(fn.resource) + "::create"; break;
      case FuncName::Static: callee = ns + camel(fn.resource) + "::" + member_name(fn.name, true); break;
      case FuncName::Method: callee = self + "." + member_name(fn.name, true); break;
    }
    std::string call = callee + "(";
    for (size_t i = 0; i < args.size(); ++i) call += (i ? ", " : "") + args[i];
    call += ")";
    std::string post;
    if (!f.result) {
      c.line(call + ";");
      for (const auto& a : after) c.line(a);
    } else if (!sig.results_indirect) {
      std::string r = tmp("r");
      c.line("auto " + r + " = " + call + ";");
      for (const auto& a : after) c.line(a);
      std::vector<Flat> out;
      lower_flat(*f.result, r, c, out);
      c.line("return " + out[0].expr + ";");
    } else {
      std::string area = base_ + "_ret_" + id;
      exports_ += "alignas(" + std::to_string(canon::alignment(*f.result)) + ") static uint8_t " + area + "[" +
                  std::to_string(canon::elem_size(*f.result)) + "];\n";
      std::string r = tmp("r");
      if (has_pointer(*f.result)) {
        // The result lives until the post-return function: the lowered
        // strings and lists point into it.
        std::string keep = base_ + "_keep_" + id;
        exports_ += "static " + cpp(*f.result) + "* " + keep + " = nullptr;\n";
        c.line(keep + " = new " + cpp(*f.result) + "(" + call + ");");
        for (const auto& a : after) c.line(a);
        c.line("auto& " + r + " = *" + keep + ";");
        post = "extern \"C\" __attribute__((export_name(" + string_literal("cabi_post_" + u.prefix + name) +
               "))) void " + base_ + "_post_" + id + "(int32_t) {\n  delete " + keep + ";\n  " + keep +
               " = nullptr;\n  " + abi_ + "post_allocs().release();\n}\n\n";
      } else {
        c.line("auto " + r + " = " + call + ";");
        for (const auto& a : after) c.line(a);
      }
      Code lowering;
      store(*f.result, r, area, 0, lowering);
      if (lowering.allocs) c.line(abi_ + "Allocs& allocs = " + abi_ + "post_allocs();");
      c.text += lowering.text;
      c.line("return " + abi_ + "i32_of(" + area + ");");
    }
    exports_ += "extern \"C\" __attribute__((export_name(" + string_literal(u.prefix + name) + "))) " +
                core_signature(sig.params, sig.results, cname, true) + " {\n" + c.text + "}\n\n" + post;
  }

  // An exported async function: lifted with a callback. The core export
  // lifts the parameters into values and starts the task with a coroutine
  // that awaits what the guest defines and hands its result to
  // `task.return`; the callback export passes each event to the task.
  void export_async_func(const Unit& u, const std::string& name, const FuncType& f) {
    auto sig = core_sig(f, canon::Direction::Lift);
    std::string id = std::to_string(core_count_++);
    Code c;
    std::vector<std::string> values;
    std::vector<Flat> flat;
    for (size_t i = 0; i < sig.params.size(); ++i) flat.push_back({"a" + std::to_string(i), sig.params[i]});
    uint32_t o = 0;
    size_t next = 0;
    for (const auto& p : f.params) {
      std::string v = tmp("v");
      std::string value;
      if (sig.params_indirect) {
        o = align_to(o, canon::alignment(p.type));
        value = load(p.type, abi_ + "ptr_of(a0)", o);
        o += canon::elem_size(p.type);
      } else {
        size_t n = canon::flatten(p.type).size();
        value = lift_flat(p.type, std::vector<Flat>(flat.begin() + static_cast<ptrdiff_t>(next),
                                                    flat.begin() + static_cast<ptrdiff_t>(next + n)));
        next += n;
      }
      c.line("auto " + v + " = " + value + ";");
      values.push_back("std::move(" + v + ")");
    }
    if (sig.params_indirect) c.line("std::free(" + abi_ + "ptr_of(a0));");

    // task.return takes the result as an imported function's parameters.
    std::vector<Core> ret_params = f.result ? canon::flatten(*f.result) : std::vector<Core>{};
    bool ret_indirect = ret_params.size() > canon::kMaxFlatParams;
    if (ret_indirect) ret_params = {Core::I32};
    std::string task_return = base_ + "_import_" + std::to_string(core_count_++);
    decls_ += "extern \"C\" __attribute__((import_module(" + string_literal(async_module(u)) + "), import_name(" +
              string_literal("[task-return]" + name) + "))) " + core_signature(ret_params, {}, task_return, false) +
              ";\n";

    Code body;
    body.depth = 2;
    std::string call = "::" + u.ns + "::" + snake(name) + "(";
    for (size_t i = 0; i < f.params.size(); ++i)
      call += std::string(i ? ", " : "") + "std::move(p" + std::to_string(i) + ")";
    call += ")";
    if (!f.result) {
      body.line("co_await " + call + ";");
      body.line("::" + task_return + "();");
    } else {
      body.line("auto r = co_await " + call + ";");
      Code lowering;
      lowering.depth = 2;
      std::vector<std::string> args;
      if (ret_indirect) {
        lowering.line("alignas(" + std::to_string(canon::alignment(*f.result)) + ") uint8_t ret[" +
                      std::to_string(canon::elem_size(*f.result)) + "];");
        store(*f.result, "r", "ret", 0, lowering);
        args.push_back(abi_ + "i32_of(ret)");
      } else {
        std::vector<Flat> out;
        lower_flat(*f.result, "r", lowering, out);
        for (const auto& x : out) args.push_back(x.expr);
      }
      if (lowering.allocs) body.line(abi_ + "Allocs allocs;");
      body.text += lowering.text;
      std::string ret_call = "::" + task_return + "(";
      for (size_t i = 0; i < args.size(); ++i) ret_call += (i ? ", " : "") + args[i];
      body.line(ret_call + ");");
    }
    body.line("::stratus_guest::detail::scheduler().returned();");
    std::string lambda = "[](" + params_decl(f, 0, false) + ") -> ::stratus_guest::Task<void> {\n" + body.text + "  }(";
    for (size_t i = 0; i < values.size(); ++i) lambda += (i ? ", " : "") + values[i];
    c.line("return ::stratus_guest::detail::start_task(" + lambda + "));");
    exports_ += "extern \"C\" __attribute__((export_name(" + string_literal("[async-lift]" + u.prefix + name) + "))) " +
                core_signature(sig.params, sig.results, base_ + "_export_" + id, true) + " {\n" + c.text + "}\n\n";
    exports_ += "extern \"C\" __attribute__((export_name(" +
                string_literal("[callback][async-lift]" + u.prefix + name) + "))) int32_t " + base_ + "_callback_" +
                id + "(int32_t event, int32_t index, int32_t payload) {\n" +
                "  return ::stratus_guest::detail::on_callback(event, index, payload);\n}\n\n";
  }

  // The core module the component model's built-ins of a unit's functions
  // (task.return, stream.new, ...) come from.
  static std::string async_module(const Unit& u) {
    if (!u.exported) return u.module;
    return "[export]" + (u.world ? std::string("$root") : u.name);
  }

  // ------------------------------------------------------------ streams and futures

  // Notes each stream and future type function `name` of `u` mentions, with
  // its index among them (wit-parser's find_futures_and_streams: depth
  // first, parameters then result, a type after what it holds): the
  // built-ins of that type are imported as `[stream-new-<index>]<name>` etc.
  void note_async_types(const Unit& u, const std::string& name, const FuncType& f) {
    size_t index = 0;
    std::function<void(const ValType&)> walk = [&](const ValType& t) {
      if (t.is_primitive()) return;
      const auto& k = t.defined().kind;
      if (std::holds_alternative<OwnType>(k) || std::holds_alternative<BorrowType>(k)) return;
      for (const auto* c : children(t)) walk(*c);
      const auto* st = std::get_if<StreamType>(&k);
      const auto* fu = std::get_if<FutureType>(&k);
      if (st == nullptr && fu == nullptr) return;
      const ValType& elem = st != nullptr ? *st->element : *fu->element;
      std::string key = (st != nullptr ? "stream " : "future ") + cpp(elem, true);
      async_types_.emplace(key, AsyncType{st != nullptr, elem, async_module(u), name, index});
      ++index;
    };
    for (const auto& p : f.params) walk(p.type);
    if (f.result) walk(*f.result);
  }

  // StreamOps<T> and FutureOps<T> for each stream and future type: their
  // declarations (header) and definitions over the imported built-ins.
  void async_ops(std::string& h) {
    if (async_types_.empty()) return;
    h += "\n// The component model's built-ins of each stream and future type (stratus_guest_async.h).\n"
         "namespace stratus_guest {\n\n";
    for (const auto& entry : async_types_) {
      const AsyncType& a = entry.second;
      std::string T = cpp(a.elem, true);
      std::string ops = std::string(a.stream ? "StreamOps" : "FutureOps") + "<" + T + ">";
      std::string kind = a.stream ? "stream" : "future";
      std::string n = std::to_string(a.index);
      auto import = [&](const std::string& what, const std::string& sig_ret, const std::string& sig_params) {
        std::string cname = base_ + "_import_" + std::to_string(core_count_++);
        decls_ += "extern \"C\" __attribute__((import_module(" + string_literal(a.module) + "), import_name(" +
                  string_literal(what + "-" + n + "]" + a.func) + "))) " + sig_ret + " " + cname + "(" + sig_params +
                  ");\n";
        return cname;
      };
      std::string q = "stratus_guest::" + ops + "::";
      std::string count = a.stream ? ", int32_t" : "";
      std::string count_param = a.stream ? ", uint32_t count" : "";
      std::string count_arg = a.stream ? ", static_cast<int32_t>(count)" : "";
      std::string mk = import("[" + kind + "-new", "int64_t", "");
      std::string rd = import("[async-lower][" + kind + "-read", "int32_t", "int32_t, int32_t" + count);
      std::string wr = import("[async-lower][" + kind + "-write", "int32_t", "int32_t, int32_t" + count);
      std::string cr = import("[" + kind + "-cancel-read", "int32_t", "int32_t");
      std::string cw = import("[" + kind + "-cancel-write", "int32_t", "int32_t");
      std::string dr = import("[" + kind + "-drop-readable", "void", "int32_t");
      std::string dw = import("[" + kind + "-drop-writable", "void", "int32_t");
      h += "template <>\nstruct " + ops +
           " {\n  static constexpr uint32_t kSize = " + std::to_string(canon::elem_size(a.elem)) +
           ";\n  static constexpr uint32_t kAlign = " + std::to_string(canon::alignment(a.elem)) +
           ";\n  static constexpr bool kTrivial = " + (trivial(a.elem) ? "true" : "false") +
           ";\n  static uint64_t make();\n" + "  static uint32_t read(uint32_t handle, void* into" + count_param +
           ");\n" + "  static uint32_t write(uint32_t handle, const void* from" + count_param + ");\n" +
           "  static uint32_t cancel_read(uint32_t handle);\n  static uint32_t cancel_write(uint32_t handle);\n" +
           "  static void drop_readable(uint32_t handle);\n  static void drop_writable(uint32_t handle);\n" +
           "  static " + T + " load(const uint8_t* p);\n  static void store(" + (a.stream ? "const " : "") + T +
           "& value, uint8_t* p, Buffers& allocs);\n};\n\n";
      defs_ += "uint64_t " + q + "make() { return static_cast<uint64_t>(::" + mk + "()); }\n";
      defs_ += "uint32_t " + q + "read(uint32_t handle, void* into" + count_param +
               ") {\n  return static_cast<uint32_t>(::" + rd + "(static_cast<int32_t>(handle), " + abi_ +
               "i32_of(into)" + count_arg + "));\n}\n";
      defs_ += "uint32_t " + q + "write(uint32_t handle, const void* from" + count_param +
               ") {\n  return static_cast<uint32_t>(::" + wr + "(static_cast<int32_t>(handle), " + abi_ +
               "i32_of(from)" + count_arg + "));\n}\n";
      defs_ += "uint32_t " + q + "cancel_read(uint32_t handle) {\n  return static_cast<uint32_t>(::" + cr +
               "(static_cast<int32_t>(handle)));\n}\n";
      defs_ += "uint32_t " + q + "cancel_write(uint32_t handle) {\n  return static_cast<uint32_t>(::" + cw +
               "(static_cast<int32_t>(handle)));\n}\n";
      defs_ += "void " + q + "drop_readable(uint32_t handle) { ::" + dr + "(static_cast<int32_t>(handle)); }\n";
      defs_ += "void " + q + "drop_writable(uint32_t handle) { ::" + dw + "(static_cast<int32_t>(handle)); }\n";
      defs_ += "auto " + q + "load(const uint8_t* p) -> " + T + " { return " + load(a.elem, "p", 0) + "; }\n";
      Code st;
      store(a.elem, "value", "p", 0, st);
      defs_ += "void " + q + "store(" + (a.stream ? "const " : "") + T +
               "& value, uint8_t* p, [[maybe_unused]] ::stratus_guest::Buffers& allocs) {\n" + st.text + "}\n\n";
    }
    h += "}  // namespace stratus_guest\n";
  }

  // ------------------------------------------------------------ units

  Result<void> unit(const Unit& u, GeneratedGuest& out) {
    std::string& h = out.header;
    h += "\nnamespace " + u.ns + " {\n\n";
    if (u.world) {
      h += std::string("// The functions world `") + world_name_ + "` " + (u.exported ? "exports" : "imports") +
           " itself" + (u.exported ? " (the guest defines them)" : "") + ".\n";
    } else if (u.exported) {
      h += "// Exported interface `" + u.name + "`: the guest defines the functions below.\n";
    } else {
      h += "// Imported interface `" + u.name + "`.\n";
    }
    // Declarations first (resources, forward-declared types, aliases), then
    // the resource classes (whose functions name types not defined yet),
    // then the types' definitions (which may hold resources).
    std::string decls, classes, defs, funcs;
    for (const auto& e : u.type->exports) {
      const auto* b = std::get_if<TypeBound>(&e.type);
      if (b == nullptr) continue;
      const auto* r = std::get_if<ResourceTypePtr>(&b->type);
      if (r == nullptr) continue;
      std::string cls = camel(e.name);
      auto res = resources_.find(r->get());
      if (res == resources_.end())
        return make_error("interface `" + u.name + "`: resource `" + e.name + "` is not defined by an interface");
      decls += b->sub_resource ? "class " + cls + ";\n" : "using " + cls + " = " + res->second.cpp + ";\n";
    }
    for (const auto& e : u.type->exports) {
      const auto* fp = std::get_if<FuncTypePtr>(&e.type);
      if (fp != nullptr) STRATUS_TRY(check_func(u, e.name, **fp));
    }
    STRATUS_TRY(declare_types(u, decls));
    for (const auto& e : u.type->exports) {
      const auto* b = std::get_if<TypeBound>(&e.type);
      if (b == nullptr || !b->sub_resource) continue;
      const auto& res = resources_.at(std::get<ResourceTypePtr>(b->type).get());
      if (u.exported) {
        exported_resource(u, e.name, res, classes);
      } else {
        imported_resource(u, e.name, classes);
      }
    }
    STRATUS_TRY(define_types(u, defs));
    for (const auto& e : u.type->exports) {
      const auto* fp = std::get_if<FuncTypePtr>(&e.type);
      if (fp == nullptr || parse_func_name(e.name).kind != FuncName::Free) continue;
      const FuncType& f = **fp;
      std::string fname = snake(e.name);
      funcs += result_cpp(f) + " " + fname + "(" + params_decl(f, 0, true) + ");" +
               (u.exported ? "  // the guest defines it" : "") + "\n";
      note_async_types(u, e.name, f);
      if (u.exported) {
        if (f.async) {
          export_async_func(u, e.name, f);
        } else {
          export_func(u, e.name, f);
        }
      } else {
        std::string core = declare_import(u.module, e.name, f);
        defs_ += "auto ::" + u.ns + "::" + fname + "(" + params_decl(f, 0, false) + ") -> " + result_cpp(f) + " {\n" +
                 import_body(f, FuncName{}, core) + "}\n\n";
      }
    }
    if (u.exported) {
      for (const auto& e : u.type->exports) {
        const auto* fp = std::get_if<FuncTypePtr>(&e.type);
        if (fp == nullptr || parse_func_name(e.name).kind == FuncName::Free) continue;
        note_async_types(u, e.name, **fp);
        export_func(u, e.name, **fp);
      }
    }
    for (std::string* section : {&decls, &classes, &defs, &funcs}) {
      while (!section->empty() && section->back() == '\n') section->pop_back();
      if (!section->empty()) h += "\n" + *section + "\n";
    }
    h += "\n}  // namespace " + u.ns + "\n";
    return {};
  }

  std::vector<Unit> units();
  std::string source_prelude() const;

  const ComponentType& world_;
  std::string world_name_;
  std::string name_;
  std::string base_;  // C identifier from `name_`
  std::string abi_;   // "::<base>_abi::"
  std::map<const TypeName*, std::string> names_;
  std::map<const TypeName*, const TypeName*> aliases_;        // a `use`d or aliased name -> the name it stands for
  std::map<const DefinedType*, std::string> variant_prefix_;  // variant -> qualified case struct prefix
  std::map<const ResourceType*, Resource> resources_;
  std::map<const TypeName*, std::pair<std::string, const TypeBound*>> locals_;  // the unit's named types
  std::shared_ptr<InstanceType> world_imports_ = std::make_shared<InstanceType>();
  std::shared_ptr<InstanceType> world_exports_ = std::make_shared<InstanceType>();
  struct AsyncType {
    bool stream = false;
    ValType elem;
    std::string module;  // of the built-ins
    std::string func;    // the function whose type names it
    size_t index = 0;    // among that function's streams and futures
  };
  std::map<std::string, AsyncType> async_types_;  // by "stream T" / "future T"
  bool async_ = false;                            // the world needs stratus_guest_async.h
  size_t counter_ = 0;                            // temporaries
  size_t core_count_ = 0;                         // core functions
  std::string decls_;                             // core imports
  std::string helpers_;                           // helpers of exported resources
  std::string defs_;                              // imported functions
  std::string exports_;                           // core exports
};

std::vector<Unit> Generator::units() {
  std::vector<Unit> out;
  std::string bare = world_name_.substr(world_name_.rfind('/') == std::string::npos ? 0 : world_name_.rfind('/') + 1);
  std::string world_ns = snake(bare.substr(0, bare.find('@'))) + "_world";
  for (const auto& e : world_.imports) {
    if (const auto* i = std::get_if<InstanceTypePtr>(&e.type)) {
      out.push_back(Unit{e.name, interface_namespace(e.name), e.name, "", i->get(), false, false});
    } else {
      world_imports_->exports.push_back(e);
    }
  }
  if (!world_imports_->exports.empty())
    out.push_back(Unit{world_name_, world_ns, "$root", "", world_imports_.get(), true, false});
  for (const auto& e : world_.exports) {
    if (const auto* i = std::get_if<InstanceTypePtr>(&e.type)) {
      out.push_back(Unit{e.name, "exports::" + interface_namespace(e.name), "", e.name + "#", i->get(), false, true});
    } else {
      world_exports_->exports.push_back(e);
    }
  }
  if (!world_exports_->exports.empty())
    out.push_back(Unit{world_name_, "exports::" + world_ns, "", "", world_exports_.get(), true, true});
  return out;
}

std::string Generator::source_prelude() const {
  return "namespace " + base_ +
         "_abi {\nnamespace {\n\n"
         "[[maybe_unused]] uint8_t* ptr_of(int32_t p) { return "
         "reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(static_cast<uint32_t>(p))); "
         "}\n"
         "[[maybe_unused]] int32_t i32_of(const void* p) { return "
         "static_cast<int32_t>(reinterpret_cast<uintptr_t>(p)); }\n"
         "template <class T>\nT load(const uint8_t* p) {\n  T v;\n  std::memcpy(&v, p, sizeof(T));\n  return v;\n}\n"
         "template <class T>\nvoid store(uint8_t* p, T v) {\n  std::memcpy(p, &v, sizeof(T));\n}\n\n"
         "// What the host allocated with cabi_realloc (nothing for 0 bytes).\n"
         "[[maybe_unused]] void free_buf(int32_t p, size_t bytes) {\n  if (bytes != 0) std::free(ptr_of(p));\n}\n"
         "[[maybe_unused]] std::string take_string(int32_t p, int32_t len) {\n"
         "  std::string s(reinterpret_cast<const char*>(ptr_of(p)), static_cast<uint32_t>(len));\n"
         "  free_buf(p, static_cast<uint32_t>(len));\n  return s;\n}\n"
         "template <class T>\nstd::vector<T> take_trivial_list(int32_t p, int32_t len) {\n"
         "  const auto* b = reinterpret_cast<const T*>(ptr_of(p));\n"
         "  std::vector<T> v(b, b + static_cast<uint32_t>(len));\n"
         "  free_buf(p, static_cast<uint32_t>(len) * sizeof(T));\n  return v;\n}\n"
         "template <class T, class F>\nstd::vector<T> take_list(int32_t p, int32_t len, size_t size, F load_elem) {\n"
         "  std::vector<T> v;\n  v.reserve(static_cast<uint32_t>(len));\n"
         "  for (size_t i = 0; i < static_cast<uint32_t>(len); ++i) v.push_back(load_elem(ptr_of(p) + i * size));\n"
         "  free_buf(p, static_cast<uint32_t>(len) * size);\n  return v;\n}\n\n"
         "// Buffers of lowered lists, freed together.\n"
         "class Allocs {\n public:\n  Allocs() = default;\n  Allocs(const Allocs&) = delete;\n"
         "  Allocs& operator=(const Allocs&) = delete;\n  ~Allocs() { release(); }\n"
         "  void* alloc(size_t size, size_t align) {\n"
         "    if (size == 0) return reinterpret_cast<void*>(align);\n"
         "    void* p = std::malloc(size);\n    if (p == nullptr) __builtin_trap();\n"
         "    ptrs_.push_back(p);\n    return p;\n  }\n"
         "  void release() {\n    for (void* p : ptrs_) std::free(p);\n    ptrs_.clear();\n  }\n\n"
         " private:\n  std::vector<void*> ptrs_;\n};\n\n"
         "// The buffers of the last exported function's result, until its post-return.\n"
         "[[maybe_unused]] Allocs& post_allocs() {\n  static Allocs allocs;\n  return allocs;\n}\n\n"
         "// The representation an exported resource's handle is being taken back from.\n"
         "[[maybe_unused]] int32_t adopting = 0;\n\n"
         "}  // namespace\n}  // namespace " +
         base_ + "_abi\n\n";
}

Result<GeneratedGuest> Generator::run() {
  auto all = units();
  // C++ names of every named type and resource, before any code refers to them.
  for (const auto& u : all) {
    for (const auto& x : u.type->exports) {
      const auto* b = std::get_if<TypeBound>(&x.type);
      if (b == nullptr) continue;
      std::string q = "::" + u.ns + "::" + camel(x.name);
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) {
        if (b->sub_resource) resources_[r->get()] = Resource{q, u.exported, std::to_string(resources_.size())};
      } else if (b->name != nullptr) {
        names_[b->name.get()] = q;
        if (const auto& v = std::get<ValType>(b->type); v.name() != nullptr && v.name() != b->name.get())
          aliases_[b->name.get()] = v.name();
        const auto& v = std::get<ValType>(b->type);
        if (!v.is_primitive() && std::holds_alternative<VariantType>(v.defined().kind) &&
            (v.name() == nullptr || v.name() == b->name.get()))
          variant_prefix_[&v.defined()] = q;
      }
    }
  }
  GeneratedGuest out;
  out.header =
      "// Generated by `stratus bindgen --guest cpp` from world `" + world_name_ +
      "`. Do not edit.\n"
      "//\n"
      "// Imports: call them as the C++ functions below. An imported interface is a\n"
      "// namespace named after it (`wasi:cli/environment` -> `wasi::cli::environment`),\n"
      "// the world's own imported functions are in `<world>_world`, and an imported\n"
      "// resource is a move-only class owning its handle (dropped by the destructor).\n"
      "//\n"
      "// Exports: define the functions declared under `exports::` (an exported\n"
      "// interface `pkg:name/iface` -> `exports::pkg::name::iface`, the world's own\n"
      "// exported functions in `exports::<world>_world`). For an exported resource,\n"
      "// derive a class from the one declared there and define its static `create`\n"
      "// (the WIT constructor) and static functions; the host's handles own objects\n"
      "// (std::unique_ptr). Inside `exports::`, name imports with a leading `::`.\n"
      "//\n"
      "// Strings are UTF-8: std::string_view parameters, std::string results; lists\n"
      "// are std::span parameters, std::vector results; `result<T, E>` is\n"
      "// std::expected (stratus_guest::Unit for an absent error). Views (string_view,\n"
      "// span) and references given to exported functions are valid for the call.\n"
      "//\n"
      "// Build the guest as a wasm32 core module, then make it a component:\n"
      "//   clang++-19 --target=wasm32-wasi --sysroot=/usr -std=c++23 -fno-exceptions -O2 \\\n"
      "//       -mexec-model=reactor guest.cc " +
      name_ +
      ".cc -o guest.wasm\n"
      "//   jco embed --wit WIT -n WORLD guest.wasm -o guest.embedded.wasm\n"
      "//       (or wasm-tools component embed WIT --world WORLD guest.wasm -o ...)\n"
      "//   jco new guest.embedded.wasm --wasi-reactor -o guest.component.wasm\n"
      "//       (--wasi-command, without -mexec-model=reactor, for a wasi:cli/command\n"
      "//       with `main`)\n"
      "// The component calls the module's `_initialize` (static constructors) when\n"
      "// it is instantiated. The generated .cc defines `cabi_realloc` (weak: one per\n"
      "// module) and the core imports and exports the component model names\n"
      "// (`iface#func`, `cabi_post_iface#func`, `[resource-drop]r`, ...).\n"
      "#pragma once\n\n#include <cstdint>\n#include <expected>\n#include <memory>\n#include <optional>\n#include "
      "<span>\n#include <string>\n#include <string_view>\n#include <tuple>\n#include <utility>\n#include "
      "<variant>\n#include <vector>\n\n"
      "#ifndef STRATUS_GUEST_UNIT\n#define STRATUS_GUEST_UNIT\nnamespace stratus_guest {\n"
      "// The absent side of a `result` (`result<T>`, `result`).\nstruct Unit {\n"
      "  bool operator==(const Unit&) const = default;\n};\n}  // namespace stratus_guest\n#endif\n";
  std::string units;
  for (const auto& u : all) {
    GeneratedGuest part;
    STRATUS_TRY(unit(u, part));
    units += part.header;
  }
  async_ops(units);
  if (async_) {
    out.header += "\n// Tasks, streams and futures: C++20 coroutines.\n#include \"stratus_guest_async.h\"\n";
    out.runtime = std::string(guest_async_runtime());
  }
  out.header += units;
  out.source = "// Generated by `stratus bindgen --guest cpp` from world `" + world_name_ +
               "`. Do not edit.\n#include \"" + name_ +
               ".h\"\n\n#include <bit>\n#include <cstdlib>\n#include <cstring>\n\n" + source_prelude() +
               "// The core functions the component model gives the module.\n" + decls_ + "\n" + helpers_ +
               "extern \"C\" __attribute__((export_name(\"cabi_realloc\"), weak)) void* cabi_realloc(void* old, size_t "
               "old_size, size_t align,\n                                                                             "
               "      size_t new_size) {\n"
               "  if (new_size == 0) {\n    if (old_size != 0) std::free(old);\n"
               "    return reinterpret_cast<void*>(align);\n  }\n"
               "  void* p = old_size == 0 ? std::malloc(new_size) : std::realloc(old, new_size);\n"
               "  if (p == nullptr) __builtin_trap();\n  return p;\n}\n\n" +
               defs_ + exports_;
  return out;
}

}  // namespace

Result<GeneratedGuest> generate_guest_cpp(const std::vector<ParsedPackage>& packages, const std::string& world,
                                          const std::string& name) {
  auto resolved = resolve_world(packages, world);
  if (!resolved.ok()) return std::move(resolved).error();
  Generator g(**resolved, world, name);
  return g.run();
}

}  // namespace stratus::wit
