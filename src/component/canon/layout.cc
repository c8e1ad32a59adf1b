// Layout (alignment, elem_size) and flattening, as definitions.py defines
// them. Tuples, enums, options and results are laid out as the records and
// variants they despecialise to.
#include <algorithm>

#include "component/canon/abi.h"
#include "component/canon/internal.h"

namespace stratus::component::canon {

uint32_t align_to(uint32_t ptr, uint32_t alignment) { return (ptr + alignment - 1) / alignment * alignment; }
uint64_t align_to64(uint64_t ptr, uint32_t alignment) { return (ptr + alignment - 1) / alignment * alignment; }

uint32_t discriminant_size(size_t num_cases) {
  if (num_cases <= 256) return 1;
  if (num_cases <= 65536) return 2;
  return 4;
}

uint32_t flags_size(size_t n) {
  if (n <= 8) return 1;
  if (n <= 16) return 2;
  return 4 * static_cast<uint32_t>((n + 31) / 32);
}

namespace {

uint32_t prim_alignment(PrimType p) {
  switch (p) {
    case PrimType::Bool:
    case PrimType::S8:
    case PrimType::U8: return 1;
    case PrimType::S16:
    case PrimType::U16: return 2;
    case PrimType::S64:
    case PrimType::U64:
    case PrimType::F64: return 8;
    default: return 4;  // s32 u32 f32 char string error-context
  }
}

uint32_t prim_size(PrimType p) {
  switch (p) {
    case PrimType::Bool:
    case PrimType::S8:
    case PrimType::U8: return 1;
    case PrimType::S16:
    case PrimType::U16: return 2;
    case PrimType::S64:
    case PrimType::U64:
    case PrimType::F64:
    case PrimType::String: return 8;
    default: return 4;
  }
}

void flatten_prim(PrimType p, std::vector<engine::ValType>& out) {
  switch (p) {
    case PrimType::S64:
    case PrimType::U64: out.push_back(engine::ValType::I64); break;
    case PrimType::F32: out.push_back(engine::ValType::F32); break;
    case PrimType::F64: out.push_back(engine::ValType::F64); break;
    case PrimType::String:
      out.push_back(engine::ValType::I32);
      out.push_back(engine::ValType::I32);
      break;
    default: out.push_back(engine::ValType::I32); break;
  }
}

engine::ValType join(engine::ValType a, engine::ValType b) {
  if (a == b) return a;
  if ((a == engine::ValType::I32 && b == engine::ValType::F32) ||
      (a == engine::ValType::F32 && b == engine::ValType::I32))
    return engine::ValType::I32;
  return engine::ValType::I64;
}

}  // namespace

std::vector<CaseView> variant_cases(const DefinedType& d) {
  std::vector<CaseView> out;
  if (const auto* v = std::get_if<VariantType>(&d.kind)) {
    for (const auto& c : v->cases) out.push_back({c.type ? &*c.type : nullptr});
  } else if (const auto* e = std::get_if<EnumType>(&d.kind)) {
    out.resize(e->names.size(), CaseView{nullptr});
  } else if (const auto* o = std::get_if<OptionType>(&d.kind)) {
    out.push_back({nullptr});
    out.push_back({&o->element});
  } else if (const auto* r = std::get_if<ResultType>(&d.kind)) {
    out.push_back({r->ok ? &*r->ok : nullptr});
    out.push_back({r->err ? &*r->err : nullptr});
  }
  return out;
}

uint32_t max_case_alignment(const std::vector<CaseView>& cases) {
  uint32_t a = 1;
  for (const auto& c : cases)
    if (c.type != nullptr) a = std::max(a, alignment(*c.type));
  return a;
}

namespace {
uint32_t compute_alignment(const DefinedType& d);
uint32_t compute_elem_size(const DefinedType& d);
}  // namespace

uint32_t alignment(const ValType& t) {
  if (t.is_primitive()) return prim_alignment(t.primitive());
  auto& cache = t.defined().layout.alignment;
  uint32_t a = cache.load(std::memory_order_relaxed);
  if (a == LayoutCache::kUnknown) {
    a = compute_alignment(t.defined());
    cache.store(a, std::memory_order_relaxed);
  }
  return a;
}

uint32_t elem_size(const ValType& t) {
  if (t.is_primitive()) return prim_size(t.primitive());
  auto& cache = t.defined().layout.size;
  uint32_t s = cache.load(std::memory_order_relaxed);
  if (s == LayoutCache::kUnknown) {
    s = compute_elem_size(t.defined());
    cache.store(s, std::memory_order_relaxed);
  }
  return s;
}

namespace {

uint32_t compute_alignment(const DefinedType& d) {
  return std::visit(
      [&](const auto& k) -> uint32_t {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RecordType>) {
          uint32_t a = 1;
          for (const auto& f : k.fields) a = std::max(a, alignment(f.type));
          return a;
        } else if constexpr (std::is_same_v<K, TupleType>) {
          uint32_t a = 1;
          for (const auto& e : k.elements) a = std::max(a, alignment(e));
          return a;
        } else if constexpr (std::is_same_v<K, ListType>) {
          return k.length ? alignment(k.element) : 4;
        } else if constexpr (std::is_same_v<K, VariantType> || std::is_same_v<K, EnumType> ||
                             std::is_same_v<K, OptionType> || std::is_same_v<K, ResultType>) {
          auto cases = variant_cases(d);
          return std::max(discriminant_size(cases.size()), max_case_alignment(cases));
        } else if constexpr (std::is_same_v<K, FlagsType>) {
          uint32_t s = flags_size(k.names.size());
          return s > 4 ? 4 : s;
        } else {
          return 4;  // own, borrow, stream, future, map
        }
      },
      d.kind);
}

uint32_t compute_elem_size(const DefinedType& d) {
  return std::visit(
      [&](const auto& k) -> uint32_t {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RecordType> || std::is_same_v<K, TupleType>) {
          uint64_t s = 0;
          auto add = [&](const ValType& f) {
            s = align_to64(s, alignment(f));
            s += elem_size(f);
          };
          if constexpr (std::is_same_v<K, RecordType>) {
            for (const auto& f : k.fields) add(f.type);
          } else {
            for (const auto& e : k.elements) add(e);
          }
          return static_cast<uint32_t>(align_to64(s, compute_alignment(d)));
        } else if constexpr (std::is_same_v<K, ListType>) {
          if (!k.length) return 8;
          return static_cast<uint32_t>(std::min<uint64_t>(uint64_t{*k.length} * elem_size(k.element), UINT32_MAX));
        } else if constexpr (std::is_same_v<K, VariantType> || std::is_same_v<K, EnumType> ||
                             std::is_same_v<K, OptionType> || std::is_same_v<K, ResultType>) {
          auto cases = variant_cases(d);
          uint64_t s = discriminant_size(cases.size());
          s = align_to64(s, max_case_alignment(cases));
          uint64_t cs = 0;
          for (const auto& c : cases)
            if (c.type != nullptr) cs = std::max<uint64_t>(cs, elem_size(*c.type));
          s += cs;
          return static_cast<uint32_t>(align_to64(s, compute_alignment(d)));
        } else if constexpr (std::is_same_v<K, FlagsType>) {
          return flags_size(k.names.size());
        } else if constexpr (std::is_same_v<K, MapType>) {
          return elem_size(k.entries);
        } else {
          return 4;
        }
      },
      d.kind);
}

}  // namespace

namespace {

void compute_flatten(const DefinedType& d, std::vector<engine::ValType>& out);

// A defined type's flattening, worked out on first use.
const std::vector<uint8_t>& cached_flat(const DefinedType& d) {
  const auto& cache = d.layout;
  std::call_once(cache.flat_once, [&] {
    std::vector<engine::ValType> flat;
    compute_flatten(d, flat);
    cache.flat.reserve(flat.size());
    for (auto v : flat) cache.flat.push_back(static_cast<uint8_t>(v));
  });
  return cache.flat;
}

}  // namespace

void flatten_into(const ValType& t, std::vector<engine::ValType>& out) {
  if (t.is_primitive()) {
    flatten_prim(t.primitive(), out);
    return;
  }
  for (uint8_t v : cached_flat(t.defined())) out.push_back(static_cast<engine::ValType>(v));
}

size_t flat_size(const ValType& t) {
  if (t.is_primitive()) return t.primitive() == PrimType::String ? 2 : 1;
  return cached_flat(t.defined()).size();
}

namespace {

void compute_flatten(const DefinedType& d, std::vector<engine::ValType>& out) {
  std::visit(
      [&](const auto& k) {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RecordType>) {
          for (const auto& f : k.fields) flatten_into(f.type, out);
        } else if constexpr (std::is_same_v<K, TupleType>) {
          for (const auto& e : k.elements) flatten_into(e, out);
        } else if constexpr (std::is_same_v<K, ListType>) {
          if (k.length) {
            std::vector<engine::ValType> one;
            flatten_into(k.element, one);
            for (uint32_t i = 0; i < *k.length; ++i) out.insert(out.end(), one.begin(), one.end());
          } else {
            out.push_back(engine::ValType::I32);
            out.push_back(engine::ValType::I32);
          }
        } else if constexpr (std::is_same_v<K, VariantType> || std::is_same_v<K, EnumType> ||
                             std::is_same_v<K, OptionType> || std::is_same_v<K, ResultType>) {
          auto cases = variant_cases(d);
          std::vector<engine::ValType> joined;
          for (const auto& c : cases) {
            if (c.type == nullptr) continue;
            std::vector<engine::ValType> ft;
            flatten_into(*c.type, ft);
            for (size_t i = 0; i < ft.size(); ++i) {
              if (i < joined.size()) {
                joined[i] = join(joined[i], ft[i]);
              } else {
                joined.push_back(ft[i]);
              }
            }
          }
          out.push_back(engine::ValType::I32);  // the discriminant (u8/u16/u32 all flatten to i32)
          out.insert(out.end(), joined.begin(), joined.end());
        } else if constexpr (std::is_same_v<K, FlagsType>) {
          size_t n = (k.names.size() + 31) / 32;
          for (size_t i = 0; i < std::max<size_t>(n, 1); ++i) out.push_back(engine::ValType::I32);
        } else if constexpr (std::is_same_v<K, MapType>) {
          flatten_into(k.entries, out);
        } else {
          out.push_back(engine::ValType::I32);
        }
      },
      d.kind);
}

}  // namespace

std::vector<engine::ValType> flatten(const ValType& t) {
  std::vector<engine::ValType> out;
  flatten_into(t, out);
  return out;
}

FlatSignature flatten_func(const FuncType& type, Direction direction) {
  FlatSignature sig;
  for (const auto& p : type.params) flatten_into(p.type, sig.params);
  if (sig.params.size() > kMaxFlatParams) {
    sig.params = {engine::ValType::I32};
    sig.params_indirect = true;
  }
  if (type.result) flatten_into(*type.result, sig.results);
  if (sig.results.size() > kMaxFlatResults) {
    sig.results_indirect = true;
    if (direction == Direction::Lift) {
      sig.results = {engine::ValType::I32};
    } else {
      sig.params.push_back(engine::ValType::I32);
      sig.results.clear();
    }
  }
  return sig;
}

}  // namespace stratus::component::canon
