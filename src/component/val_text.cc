#include "component/val_text.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "support/utf8.h"

namespace stratus::component {
namespace {

// Nesting deeper than this is refused before it can exhaust the stack.
constexpr int kMaxDepth = 100;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Val> value(const ValType& type, int depth) {
    if (depth > kMaxDepth) return fail("values nested deeper than " + std::to_string(kMaxDepth));
    blanks();
    if (type.is_primitive()) return primitive(type.primitive());
    return std::visit([&](const auto& k) { return defined(k, depth); }, type.defined().kind);
  }

  // Values separated by commas until `close` (or the end when it is 0); a
  // trailing comma is allowed.
  template <class Each>
  Result<void> sequence(char close, Each each) {
    blanks();
    size_t n = 0;
    while (!(close == 0 ? at_end() : peek(close))) {
      STRATUS_TRY(each(n++));
      blanks();
      if (close == 0 ? at_end() : peek(close)) break;
      STRATUS_TRY(expect(','));
      blanks();
    }
    if (close != 0) ++pos_;
    return {};
  }

  void blanks() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool at_end() const { return pos_ >= s_.size(); }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  Result<void> expect(char c) {
    blanks();
    if (!peek(c)) return fail(std::string("expected `") + c + "`");
    ++pos_;
    return {};
  }

  Error fail(const std::string& what) const {
    std::string near = at_end() ? std::string("the end") : "`" + std::string(s_.substr(pos_, 12)) + "`";
    return Error{"at byte " + std::to_string(pos_) + " (" + near + "): " + what};
  }

 private:
  // A name: a WIT identifier (kebab-case), maybe `%`-escaped.
  std::string name() {
    blanks();
    if (peek('%')) ++pos_;
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) != 0 || s_[pos_] == '-')) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  // The text of a number: sign, digits, point, exponent, or a word (nan, inf).
  std::string_view number_text() {
    size_t start = pos_;
    if (peek('-') || peek('+')) ++pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) != 0 || s_[pos_] == '.' ||
                                ((s_[pos_] == '-' || s_[pos_] == '+') && (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E'))))
      ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // `text`, after an optional '+', read whole into `v` by std::from_chars:
  // its error (result_out_of_range for a number too large), or
  // invalid_argument when it is empty or has more after the number.
  template <class T>
  static std::errc read_whole(std::string_view text, T& v) {
    if (text.empty()) return std::errc::invalid_argument;
    const char* b = text.data();
    const char* e = text.data() + text.size();
    if (*b == '+') ++b;
    auto [end, ec] = std::from_chars(b, e, v);
    if (ec != std::errc()) return ec;
    return end == e ? std::errc() : std::errc::invalid_argument;
  }

  template <class T>
  Result<T> integer(const char* type_name) {
    size_t start = pos_;
    auto text = number_text();
    T v{};
    auto ec = read_whole(text, v);
    if (ec != std::errc()) {
      pos_ = start;
      return fail(std::string("expected ") + (ec == std::errc::result_out_of_range ? "a value in range of " : "a ") +
                  type_name);
    }
    return v;
  }

  Result<double> floating(const char* type_name) {
    size_t start = pos_;
    auto text = number_text();
    if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (text == "inf" || text == "+inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
    double v = 0;
    if (read_whole(text, v) != std::errc()) {
      pos_ = start;
      return fail(std::string("expected a ") + type_name);
    }
    return v;
  }

  // One character of a string or char literal (after its quote), escapes decoded.
  Result<char32_t> character(char quote) {
    if (at_end()) return fail("unterminated literal");
    char c = s_[pos_];
    if (c == '\\') {
      ++pos_;
      if (at_end()) return fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '\\': return U'\\';
        case '"': return U'"';
        case '\'': return U'\'';
        case 't': return U'\t';
        case 'n': return U'\n';
        case 'r': return U'\r';
        case 'u': {
          if (!peek('{')) return fail("expected `{` after \\u");
          ++pos_;
          size_t start = pos_;
          while (pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_])) != 0) ++pos_;
          uint32_t cp = 0;
          auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, cp, 16);
          if (pos_ == start || pos_ - start > 6 || ec != std::errc() || !peek('}'))
            return fail("a bad \\u{...} escape");
          ++pos_;
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail("\\u{...} is not a Unicode scalar value");
          return static_cast<char32_t>(cp);
        }
        default: --pos_; return fail(std::string("unknown escape \\") + e);
      }
    }
    if (c == quote) return fail("empty literal");
    if (c == '\n' || c == '\r') return fail("a line break inside a literal");
    size_t i = pos_;
    auto cp = next_utf8(reinterpret_cast<const uint8_t*>(s_.data()), s_.size(), i);
    if (!cp) return fail("invalid UTF-8");
    pos_ = i;
    return *cp;
  }

  Result<Val> primitive(PrimType p) {
    switch (p) {
      case PrimType::Bool: {
        size_t start = pos_;
        auto word = name();
        if (word == "true") return Val::boolean(true);
        if (word == "false") return Val::boolean(false);
        pos_ = start;
        return fail("expected `true` or `false`");
      }
      case PrimType::S8: return from_int<int8_t>("s8", [](auto v) { return Val::s8(v); });
      case PrimType::U8: return from_int<uint8_t>("u8", [](auto v) { return Val::u8(v); });
      case PrimType::S16: return from_int<int16_t>("s16", [](auto v) { return Val::s16(v); });
      case PrimType::U16: return from_int<uint16_t>("u16", [](auto v) { return Val::u16(v); });
      case PrimType::S32: return from_int<int32_t>("s32", [](auto v) { return Val::s32(v); });
      case PrimType::U32: return from_int<uint32_t>("u32", [](auto v) { return Val::u32(v); });
      case PrimType::S64: return from_int<int64_t>("s64", [](auto v) { return Val::s64(v); });
      case PrimType::U64: return from_int<uint64_t>("u64", [](auto v) { return Val::u64(v); });
      case PrimType::F32: {
        auto v = floating("f32");
        if (!v) return std::move(v).error();
        return Val::f32(static_cast<float>(*v));
      }
      case PrimType::F64: {
        auto v = floating("f64");
        if (!v) return std::move(v).error();
        return Val::f64(*v);
      }
      case PrimType::Char: {
        STRATUS_TRY(expect('\''));
        auto c = character('\'');
        if (!c) return std::move(c).error();
        if (!peek('\'')) return fail("expected `'` closing the char");
        ++pos_;
        return Val::character(*c);
      }
      case PrimType::String: {
        STRATUS_TRY(expect('"'));
        std::string out;
        while (!peek('"')) {
          auto c = character('"');
          if (!c) return std::move(c).error();
          append_utf8(out, *c);
        }
        ++pos_;
        return Val::string(std::move(out));
      }
      case PrimType::ErrorContext: return fail("an error-context has no text");
    }
    return fail("an unknown type");
  }

  template <class T, class Make>
  Result<Val> from_int(const char* type_name, Make make) {
    auto v = integer<T>(type_name);
    if (!v) return std::move(v).error();
    return make(*v);
  }

  // `name` or `name(payload)` for a case with a payload type.
  Result<Val> tagged(const std::vector<std::pair<std::string, const std::optional<ValType>*>>& cases,
                     ValKind kind_of_result, int depth) {
    size_t start = pos_;
    auto word = name();
    for (size_t i = 0; i < cases.size(); ++i) {
      if (cases[i].first != word) continue;
      const auto& payload_type = *cases[i].second;
      std::optional<Val> payload;
      blanks();
      if (payload_type && peek('(')) {
        ++pos_;
        auto v = value(*payload_type, depth + 1);
        if (!v) return std::move(v).error();
        payload = std::move(*v);
        STRATUS_TRY(expect(')'));
      } else if (payload_type) {
        return fail("case `" + word + "` takes a value: `" + word + "(...)`");
      } else if (peek('(')) {
        return fail("case `" + word + "` takes no value");
      }
      auto index = static_cast<uint32_t>(i);
      switch (kind_of_result) {
        case ValKind::Option: return Val::option(std::move(payload));
        case ValKind::Result: return index == 0 ? Val::ok(std::move(payload)) : Val::err(std::move(payload));
        default: return Val::variant(index, std::move(payload));
      }
    }
    pos_ = start;
    std::string names;
    for (const auto& c : cases) names += (names.empty() ? "`" : ", `") + c.first + "`";
    return fail("expected one of " + names);
  }

  Result<Val> defined(const RecordType& r, int depth) {
    STRATUS_TRY(expect('{'));
    std::vector<std::optional<Val>> fields(r.fields.size());
    blanks();
    if (r.fields.empty()) {
      STRATUS_TRY(expect(':'));  // the empty record is `{:}`
      STRATUS_TRY(expect('}'));
      return Val::record({});
    }
    STRATUS_TRY(sequence('}', [&](size_t) -> Result<void> {
      size_t start = pos_;
      auto field = name();
      size_t i = 0;
      while (i < r.fields.size() && r.fields[i].name != field) ++i;
      if (i == r.fields.size()) {
        pos_ = start;
        return fail("no field `" + field + "` in this record");
      }
      if (fields[i]) {
        pos_ = start;
        return fail("field `" + field + "` given twice");
      }
      STRATUS_TRY(expect(':'));
      auto v = value(r.fields[i].type, depth + 1);
      if (!v) return std::move(v).error();
      fields[i] = std::move(*v);
      return {};
    }));
    std::vector<Val> out;
    for (size_t i = 0; i < r.fields.size(); ++i) {
      if (fields[i]) {
        out.push_back(std::move(*fields[i]));
        continue;
      }
      // An option field left out is none.
      const auto& t = r.fields[i].type;
      if (!t.is_primitive() && std::holds_alternative<OptionType>(t.defined().kind)) {
        out.push_back(Val::option(std::nullopt));
        continue;
      }
      return fail("field `" + r.fields[i].name + "` is missing");
    }
    return Val::record(std::move(out));
  }

  Result<Val> defined(const VariantType& v, int depth) {
    std::vector<std::pair<std::string, const std::optional<ValType>*>> cases;
    for (const auto& c : v.cases) cases.emplace_back(c.name, &c.type);
    return tagged(cases, ValKind::Variant, depth);
  }

  Result<Val> defined(const ListType& l, int depth) {
    STRATUS_TRY(expect('['));
    std::vector<Val> items;
    STRATUS_TRY(sequence(']', [&](size_t) -> Result<void> {
      auto v = value(l.element, depth + 1);
      if (!v) return std::move(v).error();
      items.push_back(std::move(*v));
      return {};
    }));
    if (l.length && items.size() != *l.length)
      return fail("expected a list of " + std::to_string(*l.length) + " elements, found " +
                  std::to_string(items.size()));
    return Val::list(std::move(items));
  }

  Result<Val> defined(const TupleType& t, int depth) {
    STRATUS_TRY(expect('('));
    std::vector<Val> items;
    STRATUS_TRY(sequence(')', [&](size_t i) -> Result<void> {
      if (i >= t.elements.size()) return fail("a tuple of " + std::to_string(t.elements.size()) + " elements");
      auto v = value(t.elements[i], depth + 1);
      if (!v) return std::move(v).error();
      items.push_back(std::move(*v));
      return {};
    }));
    if (items.size() != t.elements.size())
      return fail("expected a tuple of " + std::to_string(t.elements.size()) + " elements, found " +
                  std::to_string(items.size()));
    return Val::tuple(std::move(items));
  }

  Result<Val> defined(const FlagsType& f, int) {
    STRATUS_TRY(expect('{'));
    std::vector<uint32_t> set;
    STRATUS_TRY(sequence('}', [&](size_t) -> Result<void> {
      size_t start = pos_;
      auto flag = name();
      for (size_t i = 0; i < f.names.size(); ++i) {
        if (f.names[i] == flag) {
          set.push_back(static_cast<uint32_t>(i));
          return {};
        }
      }
      pos_ = start;
      return fail("no flag `" + flag + "`");
    }));
    return Val::flags(std::move(set));
  }

  Result<Val> defined(const EnumType& e, int) {
    size_t start = pos_;
    auto word = name();
    for (size_t i = 0; i < e.names.size(); ++i)
      if (e.names[i] == word) return Val::enumeration(static_cast<uint32_t>(i));
    pos_ = start;
    return fail("no case `" + word + "` in this enum");
  }

  Result<Val> defined(const OptionType& o, int depth) {
    std::optional<ValType> none, some = o.element;
    return tagged({{"none", &none}, {"some", &some}}, ValKind::Option, depth);
  }

  Result<Val> defined(const ResultType& r, int depth) {
    return tagged({{"ok", &r.ok}, {"err", &r.err}}, ValKind::Result, depth);
  }

  Result<Val> defined(const MapType& m, int depth) { return value(m.entries, depth + 1); }

  template <class Other>
  Result<Val> defined(const Other&, int) {
    return fail("handles, streams and futures have no text");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

void append_quoted(std::string& out, const std::string& s, char quote) {
  out += quote;
  size_t i = 0;
  while (i < s.size()) {
    auto cp = next_utf8(reinterpret_cast<const uint8_t*>(s.data()), s.size(), i);
    if (!cp) break;  // strings in a Val are valid UTF-8
    switch (*cp) {
      case U'\\': out += "\\\\"; break;
      case U'\t': out += "\\t"; break;
      case U'\n': out += "\\n"; break;
      case U'\r': out += "\\r"; break;
      default:
        if (*cp == static_cast<char32_t>(quote)) {
          out += '\\';
          out += quote;
        } else if (*cp < 0x20 || *cp == 0x7f) {
          char buf[16];
          std::snprintf(buf, sizeof buf, "\\u{%x}", static_cast<unsigned>(*cp));
          out += buf;
        } else {
          append_utf8(out, *cp);
        }
    }
  }
  out += quote;
}

std::string float_text(double d, bool f32) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, f32 ? "%.9g" : "%.17g", d);
  return buf;
}

Result<void> write(std::string& out, const Val& v, const ValType& type, int depth);

Result<void> write_items(std::string& out, const std::vector<Val>& items, const std::vector<const ValType*>& types,
                         char open, char close, int depth) {
  if (items.size() != types.size()) return make_error("the value does not have the type's shape");
  out += open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    STRATUS_TRY(write(out, items[i], *types[i], depth + 1));
  }
  out += close;
  return {};
}

Result<void> write(std::string& out, const Val& v, const ValType& type, int depth) {
  if (depth > kMaxDepth) return make_error("values nested deeper than " + std::to_string(kMaxDepth));
  auto wrong = [&] { return make_error("the value does not have the type's shape"); };
  if (type.is_primitive()) {
    if (v.kind() != val_kind_of(type.primitive())) return wrong();
    switch (type.primitive()) {
      case PrimType::Bool: out += v.as_bool() ? "true" : "false"; return {};
      case PrimType::S8:
      case PrimType::S16:
      case PrimType::S32:
      case PrimType::S64: out += std::to_string(v.as_signed()); return {};
      case PrimType::U8:
      case PrimType::U16:
      case PrimType::U32:
      case PrimType::U64: out += std::to_string(v.as_unsigned()); return {};
      case PrimType::F32: out += float_text(std::bit_cast<float>(v.f32_bits()), true); return {};
      case PrimType::F64: out += float_text(std::bit_cast<double>(v.f64_bits()), false); return {};
      case PrimType::Char: {
        std::string one;
        append_utf8(one, v.as_char());
        append_quoted(out, one, '\'');
        return {};
      }
      case PrimType::String: append_quoted(out, v.as_string(), '"'); return {};
      case PrimType::ErrorContext: return make_error("an error-context has no text");
    }
    return wrong();
  }
  return std::visit(
      [&](const auto& k) -> Result<void> {
        using K = std::decay_t<decltype(k)>;
        auto payload = [&](const std::string& name, const std::optional<ValType>& t) -> Result<void> {
          out += name;
          if (t && v.payload() != nullptr) {
            out += '(';
            STRATUS_TRY(write(out, *v.payload(), *t, depth + 1));
            out += ')';
          }
          return {};
        };
        if constexpr (std::is_same_v<K, RecordType>) {
          if (v.kind() != ValKind::Record || v.items().size() != k.fields.size()) return wrong();
          if (k.fields.empty()) {
            out += "{:}";
            return {};
          }
          out += '{';
          for (size_t i = 0; i < k.fields.size(); ++i) {
            if (i > 0) out += ", ";
            out += k.fields[i].name + ": ";
            STRATUS_TRY(write(out, v.items()[i], k.fields[i].type, depth + 1));
          }
          out += '}';
          return {};
        } else if constexpr (std::is_same_v<K, VariantType>) {
          if (v.kind() != ValKind::Variant || v.discriminant() >= k.cases.size()) return wrong();
          const auto& c = k.cases[v.discriminant()];
          return payload(c.name, c.type);
        } else if constexpr (std::is_same_v<K, ListType>) {
          if (v.kind() != ValKind::List) return wrong();
          std::vector<const ValType*> types(v.items().size(), &k.element);
          return write_items(out, v.items(), types, '[', ']', depth);
        } else if constexpr (std::is_same_v<K, TupleType>) {
          if (v.kind() != ValKind::Tuple) return wrong();
          std::vector<const ValType*> types;
          for (const auto& e : k.elements) types.push_back(&e);
          return write_items(out, v.items(), types, '(', ')', depth);
        } else if constexpr (std::is_same_v<K, FlagsType>) {
          if (v.kind() != ValKind::Flags) return wrong();
          out += '{';
          for (size_t i = 0; i < v.set_flags().size(); ++i) {
            if (v.set_flags()[i] >= k.names.size()) return wrong();
            if (i > 0) out += ", ";
            out += k.names[v.set_flags()[i]];
          }
          out += '}';
          return {};
        } else if constexpr (std::is_same_v<K, EnumType>) {
          if (v.kind() != ValKind::Enum || v.discriminant() >= k.names.size()) return wrong();
          out += k.names[v.discriminant()];
          return {};
        } else if constexpr (std::is_same_v<K, OptionType>) {
          if (v.kind() != ValKind::Option) return wrong();
          return v.discriminant() == 0 ? payload("none", std::nullopt) : payload("some", k.element);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          if (v.kind() != ValKind::Result) return wrong();
          return v.discriminant() == 0 ? payload("ok", k.ok) : payload("err", k.err);
        } else if constexpr (std::is_same_v<K, MapType>) {
          return write(out, v, k.entries, depth + 1);
        } else {
          return make_error("handles, streams and futures have no text");
        }
      },
      type.defined().kind);
}

}  // namespace

Result<Val> parse_wave(std::string_view text, const ValType& type) {
  Parser p(text);
  auto v = p.value(type, 0);
  if (!v) return std::move(v).error();
  p.blanks();
  if (!p.at_end()) return p.fail("unexpected text after the value");
  return v;
}

Result<std::vector<Val>> parse_wave_args(std::string_view text, const std::vector<Field>& params) {
  Parser p(text);
  std::vector<Val> args;
  STRATUS_TRY(p.sequence(0, [&](size_t i) -> Result<void> {
    if (i >= params.size()) return p.fail("the function takes " + std::to_string(params.size()) + " arguments");
    auto v = p.value(params[i].type, 0);
    if (!v) return std::move(v).error().context("argument `" + params[i].name + "`");
    args.push_back(std::move(*v));
    return {};
  }));
  if (args.size() != params.size())
    return p.fail("the function takes " + std::to_string(params.size()) + " arguments, found " +
                  std::to_string(args.size()));
  return args;
}

Result<std::string> to_wave(const Val& v, const ValType& type) {
  std::string out;
  STRATUS_TRY(write(out, v, type, 0));
  return out;
}

}  // namespace stratus::component
