// lift_flat / lower_flat and the *_flat_values entry points of
// definitions.py: component values to and from core values.
#include <bit>
#include <cstring>

#include "component/canon/internal.h"

namespace stratus::component::canon {
namespace {

using engine::Value;
using CoreType = engine::ValType;

// Reads core values in order (CoreValueIter in definitions.py).
class FlatReader {
 public:
  explicit FlatReader(std::span<const Value> values) : values_(values) {}

  Result<Value> next(CoreType want) {
    if (pos_ >= values_.size()) return make_error("too few core values");
    const Value& v = values_[pos_++];
    if (v.type() != want) return make_error("core value has the wrong type");
    return v;
  }

 private:
  std::span<const Value> values_;
  size_t pos_ = 0;
};

// The reader a value is lifted from: the flat values themselves, or, inside
// a variant's payload, a view that reads each slot as the variant's joined
// type and reinterprets it as the payload's own (CoerceValueIter). Views
// nest for variants inside variants.
struct Coercing {
  FlatReader* reader = nullptr;
  Coercing* parent = nullptr;
  const std::vector<CoreType>* joined = nullptr;
  size_t index = 0;

  Result<Value> source(CoreType have) { return parent != nullptr ? parent->next(have) : reader->next(have); }

  Result<Value> next(CoreType want) {
    if (joined == nullptr) return source(want);
    if (index >= joined->size()) return make_error("variant payload has too many core values");
    CoreType have = (*joined)[index++];
    auto v = source(have);
    if (!v.ok() || have == want) return v;
    uint64_t bits = have == CoreType::I32 ? v->i32() : v->i64();
    switch (want) {
      case CoreType::I32: return Value::i32(static_cast<uint32_t>(bits));
      case CoreType::F32: return Value::f32_bits(static_cast<uint32_t>(bits));
      case CoreType::F64: return Value::f64_bits(bits);
      default: return Value::i64(bits);
    }
  }

  // Consumes the joined slots a shorter case left unused.
  Result<void> skip_rest() {
    while (joined != nullptr && index < joined->size()) {
      auto v = source((*joined)[index++]);
      if (!v.ok()) return std::move(v).error();
    }
    return {};
  }
};

Result<Val> lift_flat(Context& cx, Coercing& in, const ValType& t);

Result<Val> lift_flat_prim(Context& cx, Coercing& in, PrimType p) {
  if (p == PrimType::S64 || p == PrimType::U64) {
    auto v = in.next(CoreType::I64);
    if (!v.ok()) return std::move(v).error();
    return p == PrimType::U64 ? Val::u64(v->i64()) : Val::s64(static_cast<int64_t>(v->i64()));
  }
  if (p == PrimType::F32) {
    auto v = in.next(CoreType::F32);
    if (!v.ok()) return std::move(v).error();
    return Val::f32_bits(canonicalize_nan32(v->f32_bits()));
  }
  if (p == PrimType::F64) {
    auto v = in.next(CoreType::F64);
    if (!v.ok()) return std::move(v).error();
    return Val::f64_bits(canonicalize_nan64(v->f64_bits()));
  }
  if (p == PrimType::String) {
    auto ptr = in.next(CoreType::I32);
    if (!ptr.ok()) return std::move(ptr).error();
    auto len = in.next(CoreType::I32);
    if (!len.ok()) return std::move(len).error();
    auto s = load_string_from_range(cx, ptr->i32(), len->i32());
    if (!s.ok()) return std::move(s).error();
    return Val::string(std::move(*s));
  }
  if (p == PrimType::ErrorContext) {
    auto h = in.next(CoreType::I32);
    if (!h.ok()) return std::move(h).error();
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    return cx.resources->lift_async(ValType(PrimType::ErrorContext), h->i32());
  }
  auto v = in.next(CoreType::I32);
  if (!v.ok()) return std::move(v).error();
  uint32_t i = v->i32();
  switch (p) {
    case PrimType::Bool: return Val::boolean(i != 0);
    case PrimType::U8: return Val::u8(static_cast<uint8_t>(i));
    case PrimType::S8: return Val::s8(static_cast<int8_t>(i));
    case PrimType::U16: return Val::u16(static_cast<uint16_t>(i));
    case PrimType::S16: return Val::s16(static_cast<int16_t>(i));
    case PrimType::U32: return Val::u32(i);
    case PrimType::S32: return Val::s32(static_cast<int32_t>(i));
    case PrimType::Char: {
      auto c = convert_i32_to_char(i);
      if (!c.ok()) return std::move(c).error();
      return Val::character(*c);
    }
    default: return make_error("unknown primitive type");
  }
}

Result<Val> lift_flat(Context& cx, Coercing& in, const ValType& t) {
  if (t.is_primitive()) return lift_flat_prim(cx, in, t.primitive());
  const auto& d = t.defined();
  if (const auto* map = std::get_if<MapType>(&d.kind)) return lift_flat(cx, in, map->entries);
  if (const auto* list = std::get_if<ListType>(&d.kind)) {
    if (list->length) {
      std::vector<Val> items;
      for (uint32_t i = 0; i < *list->length; ++i) {
        auto v = lift_flat(cx, in, list->element);
        if (!v.ok()) return std::move(v).error();
        items.push_back(std::move(*v));
      }
      return Val::list(std::move(items));
    }
    auto ptr = in.next(CoreType::I32);
    if (!ptr.ok()) return std::move(ptr).error();
    auto len = in.next(CoreType::I32);
    if (!len.ok()) return std::move(len).error();
    uint64_t bytes = uint64_t{len->i32()} * elem_size(list->element);
    if (bytes > kMaxListByteLength)
      return make_error("list byte length " + std::to_string(bytes) + " exceeds the maximum");
    if (ptr->i32() % alignment(list->element) != 0)
      return make_error("list pointer " + std::to_string(ptr->i32()) + " is not aligned");
    STRATUS_TRY(check_range(cx, ptr->i32(), bytes, "list"));
    std::vector<Val> items;
    items.reserve(len->i32());
    uint32_t size = elem_size(list->element);
    for (uint32_t i = 0; i < len->i32(); ++i) {
      auto v = load(cx, static_cast<uint32_t>(uint64_t{ptr->i32()} + uint64_t{i} * size), list->element);
      if (!v.ok()) return std::move(v).error();
      items.push_back(std::move(*v));
    }
    return Val::list(std::move(items));
  }
  if (const auto* r = std::get_if<RecordType>(&d.kind)) {
    std::vector<Val> fields;
    for (const auto& f : r->fields) {
      auto v = lift_flat(cx, in, f.type);
      if (!v.ok()) return std::move(v).error();
      fields.push_back(std::move(*v));
    }
    return Val::record(std::move(fields));
  }
  if (const auto* tu = std::get_if<TupleType>(&d.kind)) {
    std::vector<Val> elements;
    for (const auto& e : tu->elements) {
      auto v = lift_flat(cx, in, e);
      if (!v.ok()) return std::move(v).error();
      elements.push_back(std::move(*v));
    }
    return Val::tuple(std::move(elements));
  }
  if (const auto* flags = std::get_if<FlagsType>(&d.kind)) {
    std::vector<uint32_t> set;
    size_t words = std::max<size_t>((flags->names.size() + 31) / 32, 1);
    for (size_t w = 0; w < words; ++w) {
      auto v = in.next(CoreType::I32);
      if (!v.ok()) return std::move(v).error();
      for (uint32_t bit = 0; bit < 32; ++bit) {
        size_t index = w * 32 + bit;
        if (index < flags->names.size() && ((v->i32() >> bit) & 1)) set.push_back(static_cast<uint32_t>(index));
      }
    }
    return Val::flags(std::move(set));
  }
  if (const auto* own = std::get_if<OwnType>(&d.kind)) {
    auto h = in.next(CoreType::I32);
    if (!h.ok()) return std::move(h).error();
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto ref = cx.resources->lift_own(own->resource, h->i32());
    if (!ref.ok()) return std::move(ref).error();
    return Val::own(*ref);
  }
  if (const auto* borrow = std::get_if<BorrowType>(&d.kind)) {
    auto h = in.next(CoreType::I32);
    if (!h.ok()) return std::move(h).error();
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto ref = cx.resources->lift_borrow(borrow->resource, h->i32());
    if (!ref.ok()) return std::move(ref).error();
    return Val::borrow(*ref);
  }
  if (std::holds_alternative<StreamType>(d.kind) || std::holds_alternative<FutureType>(d.kind)) {
    auto h = in.next(CoreType::I32);
    if (!h.ok()) return std::move(h).error();
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    return cx.resources->lift_async(t, h->i32());
  }

  // variant, enum, option, result
  std::vector<CoreType> flat;
  flatten_into(t, flat);
  std::vector<CoreType> joined(flat.begin() + 1, flat.end());
  auto disc = in.next(CoreType::I32);
  if (!disc.ok()) return std::move(disc).error();
  auto cases = variant_cases(d);
  uint32_t index = disc->i32();
  if (index >= cases.size())
    return make_error("invalid variant discriminant " + std::to_string(index) + " (" + std::to_string(cases.size()) +
                      " cases)");
  Coercing payload_in{nullptr, &in, &joined, 0};
  std::optional<Val> payload;
  if (cases[index].type != nullptr) {
    auto v = lift_flat(cx, payload_in, *cases[index].type);
    if (!v.ok()) return std::move(v).error();
    payload = std::move(*v);
  }
  STRATUS_TRY(payload_in.skip_rest());
  return make_case(d, index, std::move(payload));
}

Result<void> lower_flat(Context& cx, const Val& v, const ValType& t, std::vector<Value>& out);

Result<void> lower_flat_prim(Context& cx, const Val& v, PrimType p, std::vector<Value>& out) {
  STRATUS_TRY(expect_kind(v, val_kind_of(p)));
  switch (p) {
    case PrimType::Bool: out.push_back(Value::i32(v.as_bool() ? 1 : 0)); return {};
    case PrimType::S8:
    case PrimType::S16:
    case PrimType::S32: out.push_back(Value::i32(static_cast<uint32_t>(v.as_signed()))); return {};
    case PrimType::U8:
    case PrimType::U16:
    case PrimType::U32: out.push_back(Value::i32(static_cast<uint32_t>(v.as_unsigned()))); return {};
    case PrimType::S64:
    case PrimType::U64: out.push_back(Value::i64(v.as_unsigned())); return {};
    case PrimType::F32: out.push_back(Value::f32_bits(v.f32_bits())); return {};
    case PrimType::F64: out.push_back(Value::f64_bits(v.f64_bits())); return {};
    case PrimType::Char: {
      auto c = convert_i32_to_char(static_cast<uint32_t>(v.as_char()));
      if (!c.ok()) return std::move(c).error();
      out.push_back(Value::i32(*c));
      return {};
    }
    case PrimType::String: {
      auto r = store_string_into_range(cx, v.as_string());
      if (!r.ok()) return std::move(r).error();
      out.push_back(Value::i32(r->first));
      out.push_back(Value::i32(r->second));
      return {};
    }
    case PrimType::ErrorContext: {
      if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
      auto h = cx.resources->lower_async(ValType(PrimType::ErrorContext), v);
      if (!h.ok()) return std::move(h).error();
      out.push_back(Value::i32(*h));
      return {};
    }
  }
  return make_error("unknown primitive type");
}

Result<void> lower_flat(Context& cx, const Val& v, const ValType& t, std::vector<Value>& out) {
  if (t.is_primitive()) return lower_flat_prim(cx, v, t.primitive(), out);
  const auto& d = t.defined();
  if (const auto* map = std::get_if<MapType>(&d.kind)) return lower_flat(cx, v, map->entries, out);
  if (const auto* list = std::get_if<ListType>(&d.kind)) {
    STRATUS_TRY(expect_kind(v, ValKind::List));
    if (list->length) {
      if (v.items().size() != *list->length) return make_error("fixed-length list has the wrong length");
      for (const auto& item : v.items()) STRATUS_TRY(lower_flat(cx, item, list->element, out));
      return {};
    }
    auto begin = store_list_into_range(cx, v.items(), list->element);
    if (!begin.ok()) return std::move(begin).error();
    out.push_back(Value::i32(*begin));
    out.push_back(Value::i32(static_cast<uint32_t>(v.items().size())));
    return {};
  }
  if (const auto* r = std::get_if<RecordType>(&d.kind)) {
    STRATUS_TRY(expect_kind(v, ValKind::Record));
    if (v.items().size() != r->fields.size()) return make_error("record has the wrong number of fields");
    for (size_t i = 0; i < r->fields.size(); ++i) STRATUS_TRY(lower_flat(cx, v.items()[i], r->fields[i].type, out));
    return {};
  }
  if (const auto* tu = std::get_if<TupleType>(&d.kind)) {
    STRATUS_TRY(expect_kind(v, ValKind::Tuple));
    if (v.items().size() != tu->elements.size()) return make_error("tuple has the wrong number of elements");
    for (size_t i = 0; i < tu->elements.size(); ++i) STRATUS_TRY(lower_flat(cx, v.items()[i], tu->elements[i], out));
    return {};
  }
  if (const auto* flags = std::get_if<FlagsType>(&d.kind)) {
    STRATUS_TRY(expect_kind(v, ValKind::Flags));
    std::vector<uint32_t> words(std::max<size_t>((flags->names.size() + 31) / 32, 1), 0);
    for (uint32_t index : v.set_flags()) {
      if (index >= flags->names.size()) return make_error("flag index " + std::to_string(index) + " out of range");
      words[index / 32] |= 1u << (index % 32);
    }
    for (uint32_t w : words) out.push_back(Value::i32(w));
    return {};
  }
  if (const auto* own = std::get_if<OwnType>(&d.kind)) {
    STRATUS_TRY(expect_kind(v, ValKind::Own));
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto h = cx.resources->lower_own(own->resource, v.as_handle());
    if (!h.ok()) return std::move(h).error();
    out.push_back(Value::i32(*h));
    return {};
  }
  if (const auto* borrow = std::get_if<BorrowType>(&d.kind)) {
    if (v.kind() != ValKind::Own) STRATUS_TRY(expect_kind(v, ValKind::Borrow));
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto h = cx.resources->lower_borrow(borrow->resource, v.as_handle());
    if (!h.ok()) return std::move(h).error();
    out.push_back(Value::i32(*h));
    return {};
  }
  if (std::holds_alternative<StreamType>(d.kind) || std::holds_alternative<FutureType>(d.kind)) {
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto h = cx.resources->lower_async(t, v);
    if (!h.ok()) return std::move(h).error();
    out.push_back(Value::i32(*h));
    return {};
  }

  auto matched = match_case(v, d);
  if (!matched.ok()) return std::move(matched).error();
  std::vector<CoreType> flat;
  flatten_into(t, flat);
  out.push_back(Value::i32(matched->first));
  size_t start = out.size();
  auto cases = variant_cases(d);
  if (matched->second != nullptr) {
    std::vector<Value> payload;
    STRATUS_TRY(lower_flat(cx, *matched->second, *cases[matched->first].type, payload));
    for (size_t i = 0; i < payload.size(); ++i) {
      CoreType want = flat[1 + i];
      const Value& have = payload[i];
      if (have.type() == want) {
        out.push_back(have);
        continue;
      }
      // f32 -> i32, i32 -> i64, f32 -> i64, f64 -> i64: reinterpret the bits.
      uint64_t bits = have.type() == CoreType::I64 || have.type() == CoreType::F64 ? have.i64() : have.i32();
      out.push_back(want == CoreType::I32 ? Value::i32(static_cast<uint32_t>(bits)) : Value::i64(bits));
    }
  }
  for (size_t i = out.size() - start + 1; i < flat.size(); ++i) out.push_back(Value::zero(flat[i]));
  return {};
}

ValType tuple_of(std::span<const ValType> types) {
  TupleType t;
  t.elements.assign(types.begin(), types.end());
  return make_type(std::move(t));
}

size_t flat_count(std::span<const ValType> types) {
  size_t n = 0;
  for (const auto& t : types) n += flat_size(t);
  return n;
}

}  // namespace

Result<std::vector<Val>> lift_flat_values(Context& cx, size_t max_flat, std::span<const engine::Value> flat,
                                          std::span<const ValType> types) {
  FlatReader reader(flat);
  Coercing in{&reader};
  std::vector<Val> out;
  if (flat_count(types) > max_flat) {
    auto ptr = in.next(CoreType::I32);
    if (!ptr.ok()) return std::move(ptr).error();
    // The values are a tuple in memory; a tuple of one is laid out as its
    // element, which is the usual case and needs no tuple type made.
    uint32_t p = ptr->i32();
    const ValType* one = types.size() == 1 ? &types[0] : nullptr;
    std::optional<ValType> tuple;
    if (!one) tuple = tuple_of(types);
    const ValType& whole = one ? *one : *tuple;
    if (p % alignment(whole) != 0) return make_error("pointer " + std::to_string(p) + " is not aligned");
    STRATUS_TRY(check_range(cx, p, elem_size(whole), "parameters or results"));
    auto v = load(cx, p, whole);
    if (!v.ok()) return std::move(v).error();
    if (one) {
      out.push_back(std::move(*v));
      return out;
    }
    return v->items();
  }
  for (const auto& t : types) {
    auto v = lift_flat(cx, in, t);
    if (!v.ok()) return std::move(v).error();
    out.push_back(std::move(*v));
  }
  return out;
}

Result<std::vector<engine::Value>> lower_flat_values(Context& cx, size_t max_flat, std::span<const Val> vals,
                                                     std::span<const ValType> types,
                                                     std::optional<uint32_t> out_param) {
  if (vals.size() != types.size()) return make_error("wrong number of values");
  std::vector<Value> out;
  if (flat_count(types) > max_flat) {
    // As a tuple in memory; a single value (the usual case) is stored as
    // itself, which lays out the same, without copying it into a tuple.
    const bool one = vals.size() == 1;
    std::optional<ValType> tuple;
    std::optional<Val> value;
    if (!one) {
      tuple = tuple_of(types);
      value = Val::tuple(std::vector<Val>(vals.begin(), vals.end()));
    }
    const ValType& whole_type = one ? types[0] : *tuple;
    const Val& whole = one ? vals[0] : *value;
    uint32_t ptr;
    if (out_param) {
      ptr = *out_param;
    } else {
      auto p = allocate(cx, 0, 0, alignment(whole_type), elem_size(whole_type));
      if (!p.ok()) return std::move(p).error();
      ptr = *p;
      out.push_back(Value::i32(ptr));
    }
    if (ptr % alignment(whole_type) != 0) return make_error("pointer " + std::to_string(ptr) + " is not aligned");
    STRATUS_TRY(check_range(cx, ptr, elem_size(whole_type), "parameters or results"));
    STRATUS_TRY(store(cx, whole, whole_type, ptr));
    return out;
  }
  for (size_t i = 0; i < vals.size(); ++i) STRATUS_TRY(lower_flat(cx, vals[i], types[i], out));
  return out;
}

}  // namespace stratus::component::canon
