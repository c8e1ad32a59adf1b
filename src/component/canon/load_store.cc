// load and store of definitions.py: component values in linear memory.
#include <cstring>

#include "component/canon/internal.h"

namespace stratus::component::canon {

Result<void> check_range(Context& cx, uint64_t ptr, uint64_t length, const char* what) {
  if (cx.memory == nullptr) return make_error(std::string(what) + " needs a memory (canonical option `memory`)");
  if (ptr + length > cx.memory->size_bytes())
    return make_error(std::string(what) + " out of bounds: [" + std::to_string(ptr) + ", " +
                      std::to_string(ptr + length) + ") exceeds memory size " +
                      std::to_string(cx.memory->size_bytes()));
  return {};
}

Result<uint64_t> load_int(Context& cx, uint64_t ptr, uint32_t bytes) {
  if (cx.memory == nullptr) return make_error("value needs a memory (canonical option `memory`)");
  auto view = cx.memory->view(ptr, bytes);
  if (!view) return make_error("load out of bounds at " + std::to_string(ptr));
  uint64_t v = 0;
  for (uint32_t i = 0; i < bytes; ++i) v |= uint64_t{(*view)[i]} << (8 * i);
  return v;
}

Result<void> store_int(Context& cx, uint64_t value, uint64_t ptr, uint32_t bytes) {
  if (cx.memory == nullptr) return make_error("value needs a memory (canonical option `memory`)");
  auto view = cx.memory->view(ptr, bytes);
  if (!view) return make_error("store out of bounds at " + std::to_string(ptr));
  for (uint32_t i = 0; i < bytes; ++i) (*view)[i] = static_cast<uint8_t>(value >> (8 * i));
  return {};
}

Result<uint32_t> allocate(Context& cx, uint32_t old_ptr, uint32_t old_size, uint32_t align, uint32_t new_size) {
  if (!cx.realloc) return make_error("lowering needs `realloc` (canonical option missing)");
  return cx.realloc(old_ptr, old_size, align, new_size);
}

uint32_t canonicalize_nan32(uint32_t bits) {
  bool nan = (bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0;
  return nan ? 0x7fc00000u : bits;
}

uint64_t canonicalize_nan64(uint64_t bits) {
  bool nan = (bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (bits & 0x000fffffffffffffull) != 0;
  return nan ? 0x7ff8000000000000ull : bits;
}

Result<char32_t> convert_i32_to_char(uint32_t i) {
  if (i >= 0x110000) return make_error("invalid char: code point " + std::to_string(i) + " is beyond U+10FFFF");
  if (i >= 0xD800 && i <= 0xDFFF)
    return make_error("invalid char: code point " + std::to_string(i) + " is a surrogate");
  return static_cast<char32_t>(i);
}

Result<std::pair<uint32_t, const Val*>> match_case(const Val& v, const DefinedType& d) {
  auto cases = variant_cases(d);
  uint32_t index = 0;
  switch (v.kind()) {
    case ValKind::Variant:
    case ValKind::Enum:
    case ValKind::Option:
    case ValKind::Result: index = v.discriminant(); break;
    default: return make_error(std::string("expected a variant-like value, got ") + val_kind_name(v.kind()));
  }
  if (index >= cases.size()) return make_error("case index " + std::to_string(index) + " out of range");
  const Val* payload = v.payload();
  if ((cases[index].type != nullptr) != (payload != nullptr))
    return make_error("case " + std::to_string(index) + (payload ? " takes no payload" : " needs a payload"));
  return std::make_pair(index, payload);
}

Val make_case(const DefinedType& d, uint32_t case_index, std::optional<Val> payload) {
  if (std::holds_alternative<EnumType>(d.kind)) return Val::enumeration(case_index);
  if (std::holds_alternative<OptionType>(d.kind))
    return Val::option(case_index == 0 ? std::nullopt : std::move(payload));
  if (std::holds_alternative<ResultType>(d.kind))
    return case_index == 0 ? Val::ok(std::move(payload)) : Val::err(std::move(payload));
  return Val::variant(case_index, std::move(payload));
}

namespace {

Result<Val> load_prim(Context& cx, uint32_t ptr, PrimType p) {
  auto sized = [&](uint32_t n) { return load_int(cx, ptr, n); };
  switch (p) {
    case PrimType::Bool: {
      auto v = sized(1);
      if (!v.ok()) return std::move(v).error();
      return Val::boolean(*v != 0);
    }
    case PrimType::U8:
    case PrimType::S8: {
      auto v = sized(1);
      if (!v.ok()) return std::move(v).error();
      return p == PrimType::U8 ? Val::u8(static_cast<uint8_t>(*v)) : Val::s8(static_cast<int8_t>(*v));
    }
    case PrimType::U16:
    case PrimType::S16: {
      auto v = sized(2);
      if (!v.ok()) return std::move(v).error();
      return p == PrimType::U16 ? Val::u16(static_cast<uint16_t>(*v)) : Val::s16(static_cast<int16_t>(*v));
    }
    case PrimType::U32:
    case PrimType::S32: {
      auto v = sized(4);
      if (!v.ok()) return std::move(v).error();
      return p == PrimType::U32 ? Val::u32(static_cast<uint32_t>(*v)) : Val::s32(static_cast<int32_t>(*v));
    }
    case PrimType::U64:
    case PrimType::S64: {
      auto v = sized(8);
      if (!v.ok()) return std::move(v).error();
      return p == PrimType::U64 ? Val::u64(*v) : Val::s64(static_cast<int64_t>(*v));
    }
    case PrimType::F32: {
      auto v = sized(4);
      if (!v.ok()) return std::move(v).error();
      return Val::f32_bits(canonicalize_nan32(static_cast<uint32_t>(*v)));
    }
    case PrimType::F64: {
      auto v = sized(8);
      if (!v.ok()) return std::move(v).error();
      return Val::f64_bits(canonicalize_nan64(*v));
    }
    case PrimType::Char: {
      auto v = sized(4);
      if (!v.ok()) return std::move(v).error();
      auto c = convert_i32_to_char(static_cast<uint32_t>(*v));
      if (!c.ok()) return std::move(c).error();
      return Val::character(*c);
    }
    case PrimType::String: {
      auto begin = sized(4);
      if (!begin.ok()) return std::move(begin).error();
      auto units = load_int(cx, uint64_t{ptr} + 4, 4);
      if (!units.ok()) return std::move(units).error();
      auto s = load_string_from_range(cx, static_cast<uint32_t>(*begin), static_cast<uint32_t>(*units));
      if (!s.ok()) return std::move(s).error();
      return Val::string(std::move(*s));
    }
    case PrimType::ErrorContext: {
      auto h = load_int(cx, ptr, 4);
      if (!h.ok()) return std::move(h).error();
      if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
      return cx.resources->lift_async(ValType(PrimType::ErrorContext), static_cast<uint32_t>(*h));
    }
  }
  return make_error("unknown primitive type");
}

Result<std::vector<Val>> load_list_from_valid_range(Context& cx, uint32_t ptr, uint32_t length, const ValType& elem) {
  std::vector<Val> out;
  out.reserve(length);
  uint32_t size = elem_size(elem);
  for (uint32_t i = 0; i < length; ++i) {
    auto v = load(cx, static_cast<uint32_t>(uint64_t{ptr} + uint64_t{i} * size), elem);
    if (!v.ok()) return std::move(v).error();
    out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace

Result<Val> load(Context& cx, uint32_t ptr, const ValType& t) {
  if (t.is_primitive()) return load_prim(cx, ptr, t.primitive());
  const auto& d = t.defined();
  if (const auto* map = std::get_if<MapType>(&d.kind)) return load(cx, ptr, map->entries);
  if (const auto* list = std::get_if<ListType>(&d.kind)) {
    if (list->length) {
      auto items = load_list_from_valid_range(cx, ptr, *list->length, list->element);
      if (!items.ok()) return std::move(items).error();
      return Val::list(std::move(*items));
    }
    auto begin = load_int(cx, ptr, 4);
    if (!begin.ok()) return std::move(begin).error();
    auto length = load_int(cx, uint64_t{ptr} + 4, 4);
    if (!length.ok()) return std::move(length).error();
    uint64_t bytes = *length * elem_size(list->element);
    if (bytes > kMaxListByteLength)
      return make_error("list byte length " + std::to_string(bytes) + " exceeds the maximum");
    if (*begin % alignment(list->element) != 0)
      return make_error("list pointer " + std::to_string(*begin) + " is not aligned");
    STRATUS_TRY(check_range(cx, *begin, bytes, "list"));
    auto items =
        load_list_from_valid_range(cx, static_cast<uint32_t>(*begin), static_cast<uint32_t>(*length), list->element);
    if (!items.ok()) return std::move(items).error();
    return Val::list(std::move(*items));
  }
  if (std::holds_alternative<RecordType>(d.kind) || std::holds_alternative<TupleType>(d.kind)) {
    std::vector<const ValType*> fields;
    if (const auto* r = std::get_if<RecordType>(&d.kind)) {
      for (const auto& f : r->fields) fields.push_back(&f.type);
    } else {
      for (const auto& e : std::get<TupleType>(d.kind).elements) fields.push_back(&e);
    }
    std::vector<Val> values;
    uint64_t p = ptr;
    for (const auto* f : fields) {
      p = align_to64(p, alignment(*f));
      auto v = load(cx, static_cast<uint32_t>(p), *f);
      if (!v.ok()) return std::move(v).error();
      values.push_back(std::move(*v));
      p += elem_size(*f);
    }
    return std::holds_alternative<RecordType>(d.kind) ? Val::record(std::move(values)) : Val::tuple(std::move(values));
  }
  if (const auto* flags = std::get_if<FlagsType>(&d.kind)) {
    std::vector<uint32_t> set;
    uint32_t size = flags_size(flags->names.size());
    uint32_t words = size < 4 ? 1 : size / 4;
    uint32_t width = size < 4 ? size : 4;
    for (uint32_t word = 0; word < words; ++word) {
      auto v = load_int(cx, uint64_t{ptr} + 4 * word, width);
      if (!v.ok()) return std::move(v).error();
      for (uint32_t bit = 0; bit < 32; ++bit) {
        uint32_t index = word * 32 + bit;
        if (index < flags->names.size() && ((*v >> bit) & 1)) set.push_back(index);
      }
    }
    return Val::flags(std::move(set));
  }
  if (const auto* own = std::get_if<OwnType>(&d.kind)) {
    auto h = load_int(cx, ptr, 4);
    if (!h.ok()) return std::move(h).error();
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto r = cx.resources->lift_own(own->resource, static_cast<uint32_t>(*h));
    if (!r.ok()) return std::move(r).error();
    return Val::own(*r);
  }
  if (const auto* borrow = std::get_if<BorrowType>(&d.kind)) {
    auto h = load_int(cx, ptr, 4);
    if (!h.ok()) return std::move(h).error();
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto r = cx.resources->lift_borrow(borrow->resource, static_cast<uint32_t>(*h));
    if (!r.ok()) return std::move(r).error();
    return Val::borrow(*r);
  }
  if (std::holds_alternative<StreamType>(d.kind) || std::holds_alternative<FutureType>(d.kind)) {
    auto h = load_int(cx, ptr, 4);
    if (!h.ok()) return std::move(h).error();
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    return cx.resources->lift_async(t, static_cast<uint32_t>(*h));
  }
  // variant, enum, option, result
  auto cases = variant_cases(d);
  uint32_t disc_size = discriminant_size(cases.size());
  auto index = load_int(cx, ptr, disc_size);
  if (!index.ok()) return std::move(index).error();
  if (*index >= cases.size())
    return make_error("invalid variant discriminant " + std::to_string(*index) + " (" + std::to_string(cases.size()) +
                      " cases)");
  uint64_t p = align_to64(uint64_t{ptr} + disc_size, max_case_alignment(cases));
  const auto& c = cases[*index];
  std::optional<Val> payload;
  if (c.type != nullptr) {
    auto v = load(cx, static_cast<uint32_t>(p), *c.type);
    if (!v.ok()) return std::move(v).error();
    payload = std::move(*v);
  }
  return make_case(d, static_cast<uint32_t>(*index), std::move(payload));
}

Result<void> expect_kind(const Val& v, ValKind k) {
  if (v.kind() != k)
    return make_error(std::string("expected a ") + val_kind_name(k) + " value, got " + val_kind_name(v.kind()));
  return {};
}

namespace {

Result<void> store_prim(Context& cx, const Val& v, PrimType p, uint32_t ptr) {
  if (p == PrimType::ErrorContext) {
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto h = cx.resources->lower_async(ValType(PrimType::ErrorContext), v);
    if (!h.ok()) return std::move(h).error();
    return store_int(cx, *h, ptr, 4);
  }
  STRATUS_TRY(expect_kind(v, val_kind_of(p)));
  switch (p) {
    case PrimType::Char: {
      auto c = convert_i32_to_char(static_cast<uint32_t>(v.as_char()));
      if (!c.ok()) return std::move(c).error();
      return store_int(cx, *c, ptr, 4);
    }
    case PrimType::String: {
      auto r = store_string_into_range(cx, v.as_string());
      if (!r.ok()) return std::move(r).error();
      STRATUS_TRY(store_int(cx, r->first, ptr, 4));
      return store_int(cx, r->second, uint64_t{ptr} + 4, 4);
    }
    default:
      // Booleans, integers and floats hold their bits (0 or 1 for bool);
      // store_int keeps the low bytes the type is wide.
      return store_int(cx, v.as_unsigned(), ptr, elem_size(p));
  }
}

Result<void> store_list_into_valid_range(Context& cx, const std::vector<Val>& items, uint32_t ptr,
                                         const ValType& elem) {
  uint32_t size = elem_size(elem);
  for (size_t i = 0; i < items.size(); ++i)
    STRATUS_TRY(store(cx, items[i], elem, static_cast<uint32_t>(uint64_t{ptr} + i * size)));
  return {};
}

}  // namespace

Result<uint32_t> store_list_into_range(Context& cx, const std::vector<Val>& items, const ValType& elem) {
  uint64_t bytes = uint64_t{items.size()} * elem_size(elem);
  if (bytes > UINT32_MAX) return make_error("list too long to lower");
  uint32_t align = alignment(elem);
  auto begin = allocate(cx, 0, 0, align, static_cast<uint32_t>(bytes));
  if (!begin.ok()) return std::move(begin).error();
  if (*begin % align != 0) return make_error("list pointer " + std::to_string(*begin) + " from realloc is not aligned");
  STRATUS_TRY(check_range(cx, *begin, bytes, "list"));
  STRATUS_TRY(store_list_into_valid_range(cx, items, *begin, elem));
  return *begin;
}

Result<void> store(Context& cx, const Val& v, const ValType& t, uint32_t ptr) {
  if (t.is_primitive()) return store_prim(cx, v, t.primitive(), ptr);
  const auto& d = t.defined();
  if (const auto* map = std::get_if<MapType>(&d.kind)) return store(cx, v, map->entries, ptr);
  if (const auto* list = std::get_if<ListType>(&d.kind)) {
    STRATUS_TRY(expect_kind(v, ValKind::List));
    if (list->length) {
      if (v.items().size() != *list->length) return make_error("fixed-length list has the wrong length");
      return store_list_into_valid_range(cx, v.items(), ptr, list->element);
    }
    auto begin = store_list_into_range(cx, v.items(), list->element);
    if (!begin.ok()) return std::move(begin).error();
    STRATUS_TRY(store_int(cx, *begin, ptr, 4));
    return store_int(cx, v.items().size(), uint64_t{ptr} + 4, 4);
  }
  if (std::holds_alternative<RecordType>(d.kind) || std::holds_alternative<TupleType>(d.kind)) {
    std::vector<const ValType*> fields;
    if (const auto* r = std::get_if<RecordType>(&d.kind)) {
      STRATUS_TRY(expect_kind(v, ValKind::Record));
      for (const auto& f : r->fields) fields.push_back(&f.type);
    } else {
      STRATUS_TRY(expect_kind(v, ValKind::Tuple));
      for (const auto& e : std::get<TupleType>(d.kind).elements) fields.push_back(&e);
    }
    if (v.items().size() != fields.size()) return make_error("record or tuple has the wrong number of fields");
    uint64_t p = ptr;
    for (size_t i = 0; i < fields.size(); ++i) {
      p = align_to64(p, alignment(*fields[i]));
      STRATUS_TRY(store(cx, v.items()[i], *fields[i], static_cast<uint32_t>(p)));
      p += elem_size(*fields[i]);
    }
    return {};
  }
  if (const auto* flags = std::get_if<FlagsType>(&d.kind)) {
    STRATUS_TRY(expect_kind(v, ValKind::Flags));
    uint32_t size = flags_size(flags->names.size());
    std::vector<uint32_t> words((size + 3) / 4, 0);
    for (uint32_t index : v.set_flags()) {
      if (index >= flags->names.size()) return make_error("flag index " + std::to_string(index) + " out of range");
      words[index / 32] |= 1u << (index % 32);
    }
    if (size < 4) return store_int(cx, words[0], ptr, size);
    for (size_t w = 0; w < words.size(); ++w) STRATUS_TRY(store_int(cx, words[w], uint64_t{ptr} + 4 * w, 4));
    return {};
  }
  if (const auto* own = std::get_if<OwnType>(&d.kind)) {
    STRATUS_TRY(expect_kind(v, ValKind::Own));
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto h = cx.resources->lower_own(own->resource, v.as_handle());
    if (!h.ok()) return std::move(h).error();
    return store_int(cx, *h, ptr, 4);
  }
  if (const auto* borrow = std::get_if<BorrowType>(&d.kind)) {
    if (v.kind() != ValKind::Borrow && v.kind() != ValKind::Own) STRATUS_TRY(expect_kind(v, ValKind::Borrow));
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto h = cx.resources->lower_borrow(borrow->resource, v.as_handle());
    if (!h.ok()) return std::move(h).error();
    return store_int(cx, *h, ptr, 4);
  }
  if (std::holds_alternative<StreamType>(d.kind) || std::holds_alternative<FutureType>(d.kind)) {
    if (cx.resources == nullptr) return make_error("handles need the runtime's handle tables");
    auto h = cx.resources->lower_async(t, v);
    if (!h.ok()) return std::move(h).error();
    return store_int(cx, *h, ptr, 4);
  }
  auto matched = match_case(v, d);
  if (!matched.ok()) return std::move(matched).error();
  auto cases = variant_cases(d);
  uint32_t disc_size = discriminant_size(cases.size());
  STRATUS_TRY(store_int(cx, matched->first, ptr, disc_size));
  uint64_t p = align_to64(uint64_t{ptr} + disc_size, max_case_alignment(cases));
  if (matched->second != nullptr)
    return store(cx, *matched->second, *cases[matched->first].type, static_cast<uint32_t>(p));
  return {};
}

}  // namespace stratus::component::canon
