// Fuzzes the canonical ABI with hostile guest memory: the first bytes pick a
// random value type (bounded depth and width) and a string encoding, the
// rest become the guest's linear memory and flat core values. Lifting must
// return a value or an error (a trap), never crash; a value that lifts is
// lowered into a second memory and lifted again, and must come back equal.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "component/canon/abi.h"
#include "engine/engine.h"

using namespace stratus;
using namespace stratus::component;

namespace {

std::unique_ptr<engine::Engine> g_engine;
// Made once: the interpreter's store keeps every memory it ever made.
std::shared_ptr<engine::Memory> g_src;
std::shared_ptr<engine::Memory> g_dst;

class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  uint8_t next() { return i_ < n_ ? d_[i_++] : 0; }
  uint32_t next32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= uint32_t{next()} << (8 * k);
    return v;
  }
  std::span<const uint8_t> rest() const { return {d_ + std::min(i_, n_), n_ - std::min(i_, n_)}; }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

ValType random_type(Bytes& b, int depth) {
  uint8_t op = b.next();
  if (depth >= 4) op %= 13;
  switch (op % 22) {
    case 0: return PrimType::Bool;
    case 1: return PrimType::S8;
    case 2: return PrimType::U8;
    case 3: return PrimType::S16;
    case 4: return PrimType::U16;
    case 5: return PrimType::S32;
    case 6: return PrimType::U32;
    case 7: return PrimType::S64;
    case 8: return PrimType::U64;
    case 9: return PrimType::F32;
    case 10: return PrimType::F64;
    case 11: return PrimType::Char;
    case 12: return PrimType::String;
    case 13: return make_type(ListType{random_type(b, depth + 1), std::nullopt});
    case 14: {
      RecordType r;
      int n = 1 + b.next() % 4;
      for (int i = 0; i < n; ++i) r.fields.push_back({"f" + std::to_string(i), random_type(b, depth + 1)});
      return make_type(std::move(r));
    }
    case 15: {
      VariantType v;
      int n = 1 + b.next() % 5;
      for (int i = 0; i < n; ++i) {
        std::optional<ValType> t;
        if (b.next() & 1) t = random_type(b, depth + 1);
        v.cases.push_back({"c" + std::to_string(i), t});
      }
      return make_type(std::move(v));
    }
    case 16: {
      TupleType t;
      int n = 1 + b.next() % 4;
      for (int i = 0; i < n; ++i) t.elements.push_back(random_type(b, depth + 1));
      return make_type(std::move(t));
    }
    case 17: {
      FlagsType f;
      int n = 1 + b.next() % 40;
      if (n > 32) n = 32;
      for (int i = 0; i < n; ++i) f.names.push_back("f" + std::to_string(i));
      return make_type(std::move(f));
    }
    case 18: {
      EnumType e;
      int n = 1 + b.next() % 3;
      if (b.next() == 0xff) n = 300;  // a u16 discriminant
      for (int i = 0; i < n; ++i) e.names.push_back("e" + std::to_string(i));
      return make_type(std::move(e));
    }
    case 19: return make_type(OptionType{random_type(b, depth + 1)});
    case 20: {
      ResultType r;
      if (b.next() & 1) r.ok = random_type(b, depth + 1);
      if (b.next() & 1) r.err = random_type(b, depth + 1);
      return make_type(std::move(r));
    }
    default: return make_type(ListType{random_type(b, depth + 1), 1u + b.next() % 3});
  }
}

// A bump allocator over a memory that, like a guest's realloc, moves the
// old contents.
struct Bump {
  uint32_t next = 8;
  Result<uint32_t> operator()(engine::Memory& m, uint32_t old_ptr, uint32_t old_size, uint32_t align, uint32_t size) {
    if (align == 0 || (align & (align - 1)) != 0) return make_error("bad alignment");
    uint64_t p = (uint64_t{next} + align - 1) / align * align;
    if (p + size > m.size_bytes()) return make_error("out of memory");
    next = static_cast<uint32_t>(p + size);
    uint32_t keep = std::min(old_size, size);
    if (old_ptr != 0 && keep != 0) {
      auto from = m.view(old_ptr, keep);
      auto to = m.view(p, keep);
      if (from && to) std::memmove(to->data(), from->data(), keep);
    }
    return static_cast<uint32_t>(p);
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_engine = std::move(engine::make_engine("interp")).value();
  g_src = g_engine->host_memory(engine::MemoryType{{1, 1}}).value();
  g_dst = g_engine->host_memory(engine::MemoryType{{4, 4}}).value();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes b(data, size);
  auto encoding = static_cast<StringEncoding>(b.next() % 3);
  std::vector<ValType> types;
  int n = 1 + b.next() % 3;
  for (int i = 0; i < n; ++i) types.push_back(random_type(b, 0));
  uint32_t ptr = b.next32() % 70000;

  auto& src = g_src;
  auto rest = b.rest();
  auto all = src->view(0, src->size_bytes());
  std::memset(all->data(), 0, all->size());
  auto view = src->view(0, std::min<size_t>(rest.size(), 65536));
  if (view && !view->empty()) std::memcpy(view->data(), rest.data(), view->size());

  canon::Context cx;
  cx.memory = src.get();
  cx.encoding = encoding;
  // Flat values: read from the memory's start, typed as the signature needs.
  std::vector<engine::Value> flat;
  {
    std::vector<engine::ValType> ft;
    for (const auto& t : types) canon::flatten_into(t, ft);
    if (ft.size() > canon::kMaxFlatParams) ft = {engine::ValType::I32};
    size_t off = 0;
    for (auto t : ft) {
      uint64_t bits = 0;
      for (int k = 0; k < 8; ++k) bits |= uint64_t{off + k < rest.size() ? rest[off + k] : uint8_t{0}} << (8 * k);
      off += 8;
      switch (t) {
        case engine::ValType::I32: flat.push_back(engine::Value::i32(static_cast<uint32_t>(bits) % 70000)); break;
        case engine::ValType::I64: flat.push_back(engine::Value::i64(bits)); break;
        case engine::ValType::F32: flat.push_back(engine::Value::f32_bits(static_cast<uint32_t>(bits))); break;
        default: flat.push_back(engine::Value::f64_bits(bits)); break;
      }
    }
  }
  auto lifted = canon::lift_flat_values(cx, canon::kMaxFlatParams, flat, types);
  (void)canon::load(cx, ptr, types[0]);
  if (!lifted.ok()) return 0;

  // Lower into a fresh memory and lift again: the values must survive.
  auto& dst = g_dst;
  Bump bump;
  canon::Context out;
  out.memory = dst.get();
  out.encoding = static_cast<StringEncoding>((static_cast<int>(encoding) + 1) % 3);
  out.realloc = [&](uint32_t a, uint32_t b2, uint32_t c, uint32_t d) { return bump(*dst, a, b2, c, d); };
  auto lowered = canon::lower_flat_values(out, canon::kMaxFlatParams, *lifted, types);
  if (!lowered.ok()) return 0;  // out of room in the destination
  auto again = canon::lift_flat_values(out, canon::kMaxFlatParams, *lowered, types);
  if (!again.ok() || !(*again == *lifted)) __builtin_trap();
  return 0;
}
