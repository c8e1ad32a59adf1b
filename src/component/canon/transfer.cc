// transfer_flat_values: a call between two components copies each value
// once, from the caller's memory into the callee's (or back), instead of
// lifting it into a Val and lowering that. Strings whose encodings match and
// lists of numbers are copied as bytes, with every check lifting and
// lowering make; other values take the lift-then-lower path.
#include <cstring>

#include "component/canon/internal.h"

namespace stratus::component::canon {
namespace {

using engine::Value;

bool is_number(const ValType& t) {
  if (!t.is_primitive()) return false;
  switch (t.primitive()) {
    case PrimType::Bool:
    case PrimType::Char:
    case PrimType::String:
    case PrimType::ErrorContext: return false;
    default: return true;
  }
}

// Strings and lists of numbers: what transfer copies byte for byte.
bool copies_directly(const ValType& t) {
  if (t.is_primitive()) return t.primitive() == PrimType::String;
  const auto* list = std::get_if<ListType>(&t.defined().kind);
  return list != nullptr && !list->length && is_number(list->element);
}

// Copies a string or list of numbers at (ptr, length) in `src` into fresh
// memory of `dst`; returns the new (ptr, length).
Result<std::pair<uint32_t, uint32_t>> copy_range(Context& src, Context& dst, const ValType& t, uint32_t ptr,
                                                 uint32_t length) {
  if (t.is_primitive()) {
    if (src.encoding != StringEncoding::Utf8 || dst.encoding != StringEncoding::Utf8) {
      auto s = load_string_from_range(src, ptr, length);
      if (!s.ok()) return std::move(s).error();
      return store_string_into_range(dst, *s);
    }
    if (length > kMaxStringByteLength)
      return make_error("string byte length " + std::to_string(length) + " exceeds the maximum");
    STRATUS_TRY(check_range(src, ptr, length, "string"));
    if (length > 0) {
      auto view = src.memory->view(ptr, length);
      if (!view) return make_error("string out of bounds");
      if (!valid_utf8(view->data(), length)) return make_error("invalid utf-8 in string");
    }
    auto to = allocate(dst, 0, 0, 1, length);
    if (!to.ok()) return std::move(to).error();
    STRATUS_TRY(check_range(dst, *to, length, "string"));
    if (length > 0) {
      // Views are taken after realloc, which may have grown a memory.
      auto from_view = src.memory->view(ptr, length);
      auto to_view = dst.memory->view(*to, length);
      if (!from_view || !to_view) return make_error("string out of bounds");
      std::memmove(to_view->data(), from_view->data(), length);
    }
    return std::make_pair(*to, length);
  }
  const ValType& elem = std::get<ListType>(t.defined().kind).element;
  uint32_t size = elem_size(elem), align = alignment(elem);
  uint64_t bytes = uint64_t{length} * size;
  if (bytes > kMaxListByteLength)
    return make_error("list byte length " + std::to_string(bytes) + " exceeds the maximum");
  if (ptr % align != 0) return make_error("list pointer " + std::to_string(ptr) + " is not aligned");
  STRATUS_TRY(check_range(src, ptr, bytes, "list"));
  auto to = allocate(dst, 0, 0, align, static_cast<uint32_t>(bytes));
  if (!to.ok()) return std::move(to).error();
  if (*to % align != 0) return make_error("list pointer " + std::to_string(*to) + " from realloc is not aligned");
  STRATUS_TRY(check_range(dst, *to, bytes, "list"));
  if (bytes > 0) {
    auto from_view = src.memory->view(ptr, bytes);
    auto to_view = dst.memory->view(*to, bytes);
    if (!from_view || !to_view) return make_error("list out of bounds");
    std::memmove(to_view->data(), from_view->data(), bytes);
    // Lifting canonicalises NaNs; so must a copy.
    PrimType p = elem.primitive();
    if (p == PrimType::F32) {
      for (uint64_t off = 0; off < bytes; off += 4) {
        uint32_t bits;
        std::memcpy(&bits, to_view->data() + off, 4);
        uint32_t canon = canonicalize_nan32(bits);
        if (canon != bits) std::memcpy(to_view->data() + off, &canon, 4);
      }
    } else if (p == PrimType::F64) {
      for (uint64_t off = 0; off < bytes; off += 8) {
        uint64_t bits;
        std::memcpy(&bits, to_view->data() + off, 8);
        uint64_t canon = canonicalize_nan64(bits);
        if (canon != bits) std::memcpy(to_view->data() + off, &canon, 8);
      }
    }
  }
  return std::make_pair(*to, length);
}

}  // namespace

Result<std::vector<engine::Value>> transfer_flat_values(Context& src, Context& dst, size_t max_flat,
                                                        std::span<const engine::Value> flat,
                                                        std::span<const ValType> types,
                                                        std::optional<uint32_t> out_param) {
  size_t total = 0;
  for (const auto& t : types) total += flat_size(t);
  std::vector<Value> out;
  if (total <= max_flat) {
    size_t pos = 0;
    for (const auto& t : types) {
      size_t n = flat_size(t);
      if (pos + n > flat.size()) return make_error("too few core values");
      auto slice = flat.subspan(pos, n);
      pos += n;
      if (copies_directly(t)) {
        if (slice[0].type() != engine::ValType::I32 || slice[1].type() != engine::ValType::I32)
          return make_error("core value has the wrong type");
        auto copied = copy_range(src, dst, t, slice[0].i32(), slice[1].i32());
        if (!copied.ok()) return std::move(copied).error();
        out.push_back(Value::i32(copied->first));
        out.push_back(Value::i32(copied->second));
        continue;
      }
      std::span<const ValType> one(&t, 1);
      auto vals = lift_flat_values(src, max_flat, slice, one);
      if (!vals.ok()) return std::move(vals).error();
      auto lowered = lower_flat_values(dst, max_flat, *vals, one);
      if (!lowered.ok()) return std::move(lowered).error();
      out.insert(out.end(), lowered->begin(), lowered->end());
    }
    return out;
  }
  // Spilled: a tuple in the source's memory goes to a tuple in the
  // destination's (at the out-pointer, or allocated there).
  if (flat.empty() || flat[0].type() != engine::ValType::I32) return make_error("core value has the wrong type");
  TupleType tuple_kind;
  tuple_kind.elements.assign(types.begin(), types.end());
  ValType tuple = make_type(std::move(tuple_kind));
  uint32_t align = alignment(tuple), size = elem_size(tuple);
  uint32_t from = flat[0].i32();
  if (from % align != 0) return make_error("pointer " + std::to_string(from) + " is not aligned");
  STRATUS_TRY(check_range(src, from, size, "parameters or results"));
  uint32_t to;
  if (out_param) {
    to = *out_param;
  } else {
    auto p = allocate(dst, 0, 0, align, size);
    if (!p.ok()) return std::move(p).error();
    to = *p;
    out.push_back(Value::i32(to));
  }
  if (to % align != 0) return make_error("pointer " + std::to_string(to) + " is not aligned");
  STRATUS_TRY(check_range(dst, to, size, "parameters or results"));
  uint64_t off = 0;
  for (const auto& t : types) {
    off = align_to64(off, alignment(t));
    auto src_at = static_cast<uint32_t>(from + off), dst_at = static_cast<uint32_t>(to + off);
    if (copies_directly(t)) {
      auto ptr = load_int(src, src_at, 4);
      if (!ptr.ok()) return std::move(ptr).error();
      auto len = load_int(src, uint64_t{src_at} + 4, 4);
      if (!len.ok()) return std::move(len).error();
      auto copied = copy_range(src, dst, t, static_cast<uint32_t>(*ptr), static_cast<uint32_t>(*len));
      if (!copied.ok()) return std::move(copied).error();
      STRATUS_TRY(store_int(dst, copied->first, dst_at, 4));
      STRATUS_TRY(store_int(dst, copied->second, uint64_t{dst_at} + 4, 4));
    } else {
      auto v = load(src, src_at, t);
      if (!v.ok()) return std::move(v).error();
      STRATUS_TRY(store(dst, *v, t, dst_at));
    }
    off += elem_size(t);
  }
  return out;
}

}  // namespace stratus::component::canon
