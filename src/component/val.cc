#include "component/val.h"

#include <algorithm>
#include <bit>
#include <cstdio>

namespace stratus::component {

ValKind val_kind_of(PrimType p) {
  static const ValKind kinds[] = {ValKind::Bool, ValKind::S8,   ValKind::U8,     ValKind::S16,         ValKind::U16,
                                  ValKind::S32,  ValKind::U32,  ValKind::S64,    ValKind::U64,         ValKind::F32,
                                  ValKind::F64,  ValKind::Char, ValKind::String, ValKind::ErrorContext};
  return kinds[static_cast<int>(p)];
}

Val Val::f32(float v) { return f32_bits(std::bit_cast<uint32_t>(v)); }
Val Val::f64(double v) { return f64_bits(std::bit_cast<uint64_t>(v)); }

Val Val::flags(std::vector<uint32_t> set_indices) {
  std::sort(set_indices.begin(), set_indices.end());
  set_indices.erase(std::unique(set_indices.begin(), set_indices.end()), set_indices.end());
  Val v(ValKind::Flags);
  v.flag_indices_ = std::move(set_indices);
  return v;
}

bool Val::operator==(const Val& o) const {
  return kind_ == o.kind_ && bits_ == o.bits_ && str_ == o.str_ && items_ == o.items_ &&
         flag_indices_ == o.flag_indices_ && handle_ == o.handle_ && object_ == o.object_;
}

namespace {

void append_escaped(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u{%x}", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void append_items(std::string& out, const std::vector<Val>& items, char open, char close) {
  out += open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += to_string(items[i]);
  }
  out += close;
}

}  // namespace

std::string to_string(const Val& v) {
  char buf[64];
  switch (v.kind()) {
    case ValKind::Bool: return v.as_bool() ? "true" : "false";
    case ValKind::S8:
    case ValKind::S16:
    case ValKind::S32:
    case ValKind::S64:
      std::snprintf(buf, sizeof buf, "%lld%s", static_cast<long long>(v.as_signed()), val_kind_name(v.kind()));
      return buf;
    case ValKind::U8:
    case ValKind::U16:
    case ValKind::U32:
    case ValKind::U64:
      std::snprintf(buf, sizeof buf, "%llu%s", static_cast<unsigned long long>(v.as_unsigned()),
                    val_kind_name(v.kind()));
      return buf;
    case ValKind::F32:
      std::snprintf(buf, sizeof buf, "%gf32 (0x%08x)", static_cast<double>(std::bit_cast<float>(v.f32_bits())),
                    v.f32_bits());
      return buf;
    case ValKind::F64:
      std::snprintf(buf, sizeof buf, "%gf64 (0x%016llx)", std::bit_cast<double>(v.f64_bits()),
                    static_cast<unsigned long long>(v.f64_bits()));
      return buf;
    case ValKind::Char: std::snprintf(buf, sizeof buf, "char U+%04X", static_cast<unsigned>(v.as_char())); return buf;
    case ValKind::String: {
      std::string out;
      append_escaped(out, v.as_string());
      return out;
    }
    case ValKind::List: {
      std::string out;
      append_items(out, v.items(), '[', ']');
      return out;
    }
    case ValKind::Record: {
      std::string out;
      append_items(out, v.items(), '{', '}');
      return out;
    }
    case ValKind::Tuple: {
      std::string out;
      append_items(out, v.items(), '(', ')');
      return out;
    }
    case ValKind::Variant:
    case ValKind::Option:
    case ValKind::Result: {
      std::string out;
      if (v.kind() == ValKind::Option) {
        out = v.discriminant() == 0 ? "none" : "some";
      } else if (v.kind() == ValKind::Result) {
        out = v.discriminant() == 0 ? "ok" : "err";
      } else {
        out = "case" + std::to_string(v.discriminant());
      }
      if (v.payload() != nullptr) out += "(" + to_string(*v.payload()) + ")";
      return out;
    }
    case ValKind::Enum: return "enum#" + std::to_string(v.discriminant());
    case ValKind::Flags: {
      std::string out = "flags{";
      for (size_t i = 0; i < v.set_flags().size(); ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(v.set_flags()[i]);
      }
      return out + "}";
    }
    case ValKind::Own:
    case ValKind::Borrow:
      return std::string(val_kind_name(v.kind())) + "<" +
             (v.as_handle().resource ? v.as_handle().resource->name : std::string("?")) + ">(rep " +
             std::to_string(v.as_handle().rep) + ")";
    case ValKind::Stream:
    case ValKind::Future:
    case ValKind::ErrorContext: return val_kind_name(v.kind());
  }
  return "?";
}

namespace {

Error mismatch(const std::string& path, const std::string& what) {
  return make_error((path.empty() ? std::string() : path + ": ") + what);
}

Result<void> check_at(const Val& v, const ValType& t, const std::string& path);

Result<void> check_payload(const Val& v, const std::optional<ValType>& type, const std::string& path) {
  if (type.has_value() != (v.payload() != nullptr))
    return mismatch(path, type ? "the case needs a payload" : "the case takes no payload");
  if (type) return check_at(*v.payload(), *type, path);
  return {};
}

Result<void> check_at(const Val& v, const ValType& t, const std::string& path) {
  auto expect = [&](ValKind k) -> Result<void> {
    if (v.kind() != k)
      return mismatch(path, std::string("expected ") + val_kind_name(k) + ", got " + val_kind_name(v.kind()));
    return {};
  };
  if (t.is_primitive()) {
    STRATUS_TRY(expect(val_kind_of(t.primitive())));
    if (t.primitive() == PrimType::Char) {
      char32_t c = v.as_char();
      if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return mismatch(path, "invalid char");
    }
    return {};
  }
  return std::visit(
      [&](const auto& k) -> Result<void> {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RecordType>) {
          STRATUS_TRY(expect(ValKind::Record));
          if (v.items().size() != k.fields.size())
            return mismatch(path, "record has " + std::to_string(v.items().size()) + " fields, expected " +
                                      std::to_string(k.fields.size()));
          for (size_t i = 0; i < k.fields.size(); ++i)
            STRATUS_TRY(check_at(v.items()[i], k.fields[i].type, path + "." + k.fields[i].name));
          return {};
        } else if constexpr (std::is_same_v<K, TupleType>) {
          STRATUS_TRY(expect(ValKind::Tuple));
          if (v.items().size() != k.elements.size()) return mismatch(path, "tuple has the wrong number of elements");
          for (size_t i = 0; i < k.elements.size(); ++i)
            STRATUS_TRY(check_at(v.items()[i], k.elements[i], path + "." + std::to_string(i)));
          return {};
        } else if constexpr (std::is_same_v<K, ListType>) {
          STRATUS_TRY(expect(ValKind::List));
          if (k.length && v.items().size() != *k.length)
            return mismatch(path, "fixed-length list has the wrong length");
          for (size_t i = 0; i < v.items().size(); ++i)
            STRATUS_TRY(check_at(v.items()[i], k.element, path + "[" + std::to_string(i) + "]"));
          return {};
        } else if constexpr (std::is_same_v<K, VariantType>) {
          STRATUS_TRY(expect(ValKind::Variant));
          if (v.discriminant() >= k.cases.size()) return mismatch(path, "variant case index out of range");
          return check_payload(v, k.cases[v.discriminant()].type, path + "." + k.cases[v.discriminant()].name);
        } else if constexpr (std::is_same_v<K, EnumType>) {
          STRATUS_TRY(expect(ValKind::Enum));
          if (v.discriminant() >= k.names.size()) return mismatch(path, "enum case index out of range");
          return {};
        } else if constexpr (std::is_same_v<K, OptionType>) {
          STRATUS_TRY(expect(ValKind::Option));
          return check_payload(v, v.discriminant() == 0 ? std::nullopt : std::optional<ValType>(k.element), path);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          STRATUS_TRY(expect(ValKind::Result));
          return check_payload(v, v.discriminant() == 0 ? k.ok : k.err, path);
        } else if constexpr (std::is_same_v<K, FlagsType>) {
          STRATUS_TRY(expect(ValKind::Flags));
          for (uint32_t i : v.set_flags())
            if (i >= k.names.size()) return mismatch(path, "flag index " + std::to_string(i) + " out of range");
          return {};
        } else if constexpr (std::is_same_v<K, OwnType>) {
          return expect(ValKind::Own);
        } else if constexpr (std::is_same_v<K, BorrowType>) {
          if (v.kind() == ValKind::Own) return {};
          return expect(ValKind::Borrow);
        } else if constexpr (std::is_same_v<K, StreamType>) {
          return expect(ValKind::Stream);
        } else if constexpr (std::is_same_v<K, FutureType>) {
          return expect(ValKind::Future);
        } else {
          return check_at(v, k.entries, path);  // a map's value is its list of (key, value) tuples
        }
      },
      t.defined().kind);
}

}  // namespace

Result<void> check_type(const Val& v, const ValType& type) { return check_at(v, type, ""); }

}  // namespace stratus::component
