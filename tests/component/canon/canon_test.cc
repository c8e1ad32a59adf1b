// The canonical ABI against hand-computed layouts and flattenings from
// CanonicalABI.md, round trips through a real engine memory, and each trap.
#include "component/canon/abi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace stratus::component::canon {
namespace {

using engine::ValType;

class CanonTest : public testing::Test {
 protected:
  void SetUp() override {
    engine_ = std::move(engine::make_engine("interp")).value();
    memory_ = engine_->host_memory(engine::MemoryType{{1, 4}}).value();
    cx_.memory = memory_.get();
    // A bump allocator that, like a guest's realloc, moves the old contents.
    cx_.realloc = [this](uint32_t old_ptr, uint32_t old_size, uint32_t align, uint32_t size) -> Result<uint32_t> {
      ++realloc_calls_;
      if (misaligned_realloc_) return heap_ | 1;
      uint32_t p = (heap_ + align - 1) / align * align;
      heap_ = p + size;
      uint32_t keep = std::min(old_size, size);
      if (old_ptr != 0 && keep != 0 && p + keep <= memory_->size_bytes()) {
        auto from = memory_->view(old_ptr, keep);
        auto to = memory_->view(p, keep);
        if (from && to) std::memmove(to->data(), from->data(), keep);
      }
      return p;
    };
  }

  void write(uint32_t ptr, std::vector<uint8_t> bytes) {
    auto v = memory_->view(ptr, bytes.size());
    ASSERT_TRUE(v.has_value());
    std::memcpy(v->data(), bytes.data(), bytes.size());
  }

  Val roundtrip(const Val& v, const component::ValType& t) {
    std::vector<component::ValType> types = {t};
    std::vector<Val> vals = {v};
    auto flat = lower_flat_values(cx_, kMaxFlatParams, vals, types);
    EXPECT_TRUE(flat.ok()) << flat.error().message;
    auto back = lift_flat_values(cx_, kMaxFlatParams, *flat, types);
    EXPECT_TRUE(back.ok()) << back.error().message;
    // And through memory.
    uint32_t ptr = 4096;
    auto stored = store(cx_, v, t, ptr);
    EXPECT_TRUE(stored.ok()) << stored.error().message;
    auto loaded = load(cx_, ptr, t);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(*loaded, (*back)[0]);
    return (*back)[0];
  }

  std::unique_ptr<engine::Engine> engine_;
  std::shared_ptr<engine::Memory> memory_;
  Context cx_;
  uint32_t heap_ = 8192;
  int realloc_calls_ = 0;
  bool misaligned_realloc_ = false;
};

component::ValType record(std::vector<component::ValType> fields) {
  RecordType r;
  for (size_t i = 0; i < fields.size(); ++i) r.fields.push_back({"f" + std::to_string(i), fields[i]});
  return make_type(std::move(r));
}

TEST_F(CanonTest, LayoutMatchesTheSpec) {
  EXPECT_EQ(elem_size(PrimType::String), 8u);
  EXPECT_EQ(alignment(PrimType::String), 4u);
  auto r = record({PrimType::U8, PrimType::U32, PrimType::U8});
  EXPECT_EQ(alignment(r), 4u);
  EXPECT_EQ(elem_size(r), 12u);
  auto r64 = record({PrimType::U8, PrimType::U64});
  EXPECT_EQ(elem_size(r64), 16u);
  EXPECT_EQ(alignment(r64), 8u);
  // option<u64>: u8 discriminant, payload aligned to 8.
  auto opt = make_type(OptionType{PrimType::U64});
  EXPECT_EQ(elem_size(opt), 16u);
  // An enum of 257 cases needs a u16 discriminant.
  EnumType big;
  for (int i = 0; i < 257; ++i) big.names.push_back("e" + std::to_string(i));
  auto e = make_type(std::move(big));
  EXPECT_EQ(elem_size(e), 2u);
  FlagsType f9;
  for (int i = 0; i < 9; ++i) f9.names.push_back("f" + std::to_string(i));
  EXPECT_EQ(elem_size(make_type(std::move(f9))), 2u);
  EXPECT_EQ(elem_size(make_type(ListType{PrimType::U16, 3u})), 6u);
  // A map is its list of entries: a (pointer, length) pair.
  auto map = make_type(make_map(PrimType::String, PrimType::U64));
  EXPECT_EQ(elem_size(map), 8u);
  EXPECT_EQ(alignment(map), 4u);
  EXPECT_EQ(flatten(map), (std::vector<ValType>{ValType::I32, ValType::I32}));
}

TEST_F(CanonTest, FlatteningJoinsVariantPayloads) {
  VariantType v;
  v.cases.push_back({"a", PrimType::F32});
  v.cases.push_back({"b", PrimType::U32});
  EXPECT_EQ(flatten(make_type(v)), (std::vector<ValType>{ValType::I32, ValType::I32}));
  VariantType w;
  w.cases.push_back({"a", PrimType::F32});
  w.cases.push_back({"b", PrimType::U64});
  w.cases.push_back({"c", std::nullopt});
  EXPECT_EQ(flatten(make_type(w)), (std::vector<ValType>{ValType::I32, ValType::I64}));
  ResultType res{PrimType::String, PrimType::F64};
  EXPECT_EQ(flatten(make_type(res)), (std::vector<ValType>{ValType::I32, ValType::I64, ValType::I32}));
}

TEST_F(CanonTest, FunctionSignaturesSpillBeyondTheFlatLimits) {
  FuncType many;
  for (int i = 0; i < 17; ++i) many.params.push_back({"p" + std::to_string(i), PrimType::U32});
  many.result = PrimType::String;
  auto lift = flatten_func(many, Direction::Lift);
  EXPECT_TRUE(lift.params_indirect);
  EXPECT_EQ(lift.params, (std::vector<ValType>{ValType::I32}));
  EXPECT_EQ(lift.results, (std::vector<ValType>{ValType::I32}));
  auto lower = flatten_func(many, Direction::Lower);
  EXPECT_EQ(lower.params, (std::vector<ValType>{ValType::I32, ValType::I32}));
  EXPECT_TRUE(lower.results.empty());
}

TEST_F(CanonTest, EveryValueTypeRoundTrips) {
  EXPECT_EQ(roundtrip(Val::boolean(true), PrimType::Bool), Val::boolean(true));
  EXPECT_EQ(roundtrip(Val::s8(-5), PrimType::S8), Val::s8(-5));
  EXPECT_EQ(roundtrip(Val::u16(65535), PrimType::U16), Val::u16(65535));
  EXPECT_EQ(roundtrip(Val::s64(-1), PrimType::S64), Val::s64(-1));
  EXPECT_EQ(roundtrip(Val::f64(2.5), PrimType::F64), Val::f64(2.5));
  EXPECT_EQ(roundtrip(Val::character(U'🌍'), PrimType::Char), Val::character(U'🌍'));
  auto nested = make_type(ListType{record({PrimType::String, make_type(OptionType{PrimType::F32})}), std::nullopt});
  Val v = Val::list({Val::record({Val::string("a"), Val::option(Val::f32(1.5f))}),
                     Val::record({Val::string("ünï"), Val::option(std::nullopt)})});
  EXPECT_EQ(roundtrip(v, nested), v);
  FlagsType flags;
  for (int i = 0; i < 32; ++i) flags.names.push_back("f" + std::to_string(i));
  EXPECT_EQ(roundtrip(Val::flags({0, 31, 7}), make_type(flags)), Val::flags({0, 7, 31}));
  ResultType res{PrimType::String, PrimType::U8};
  EXPECT_EQ(roundtrip(Val::err(Val::u8(3)), make_type(res)), Val::err(Val::u8(3)));
  EXPECT_EQ(roundtrip(Val::ok(Val::string("x")), make_type(res)), Val::ok(Val::string("x")));
  auto tuple = make_type(TupleType{{PrimType::U8, PrimType::U64, PrimType::Char}});
  Val t = Val::tuple({Val::u8(1), Val::u64(1ull << 40), Val::character('z')});
  EXPECT_EQ(roundtrip(t, tuple), t);
  EXPECT_EQ(roundtrip(Val::list({Val::u16(1), Val::u16(2)}), make_type(ListType{PrimType::U16, 2u})),
            Val::list({Val::u16(1), Val::u16(2)}));
  // map<string, u64>: entries keep their order, repeated keys included.
  auto map = make_type(make_map(PrimType::String, PrimType::U64));
  Val m = Val::list({Val::tuple({Val::string("k"), Val::u64(1)}), Val::tuple({Val::string("a"), Val::u64(~0ull)}),
                     Val::tuple({Val::string("k"), Val::u64(2)})});
  EXPECT_EQ(roundtrip(m, map), m);
  EXPECT_TRUE(check_type(m, map).ok());
  EXPECT_FALSE(check_type(Val::list({Val::string("k")}), map).ok());
}

TEST_F(CanonTest, NaNsAreCanonicalisedWhenLifted) {
  std::vector<component::ValType> types = {PrimType::F32, PrimType::F64};
  std::vector<engine::Value> flat = {engine::Value::f32_bits(0x7fa00001), engine::Value::f64_bits(0xfff0000000000001)};
  auto v = lift_flat_values(cx_, kMaxFlatParams, flat, types);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[0].f32_bits(), 0x7fc00000u);
  EXPECT_EQ((*v)[1].f64_bits(), 0x7ff8000000000000ull);
}

TEST_F(CanonTest, StringsTranscodeBetweenAllEncodings) {
  const std::string text = "latin é, bmp 中, astral 🚀";
  for (auto from : {StringEncoding::Utf8, StringEncoding::Utf16, StringEncoding::Latin1Utf16}) {
    cx_.encoding = from;
    std::vector<component::ValType> types = {PrimType::String};
    std::vector<Val> vals = {Val::string(text)};
    auto flat = lower_flat_values(cx_, kMaxFlatParams, vals, types);
    ASSERT_TRUE(flat.ok()) << flat.error().message;
    auto back = lift_flat_values(cx_, kMaxFlatParams, *flat, types);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ((*back)[0].as_string(), text);
  }
  // latin1+utf16 keeps a Latin-1-only string as Latin-1 (no tag bit).
  cx_.encoding = StringEncoding::Latin1Utf16;
  std::vector<component::ValType> types = {PrimType::String};
  std::vector<Val> vals = {Val::string("café")};
  auto flat = lower_flat_values(cx_, kMaxFlatParams, vals, types);
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ((*flat)[1].i32(), 4u);
}

TEST_F(CanonTest, ManyParametersTravelThroughMemory) {
  std::vector<component::ValType> types;
  std::vector<Val> vals;
  for (uint32_t i = 0; i < 20; ++i) {
    types.push_back(PrimType::U32);
    vals.push_back(Val::u32(i * 3));
  }
  auto flat = lower_flat_values(cx_, kMaxFlatParams, vals, types);
  ASSERT_TRUE(flat.ok());
  ASSERT_EQ(flat->size(), 1u);
  auto back = lift_flat_values(cx_, kMaxFlatParams, *flat, types);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, vals);
  // A result spilled to an out-pointer writes there and returns nothing.
  std::vector<component::ValType> one = {PrimType::String};
  std::vector<Val> s = {Val::string("spill")};
  auto out = lower_flat_values(cx_, kMaxFlatResults, s, one, 16u);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->empty());
  std::vector<engine::Value> ptr = {engine::Value::i32(16)};
  auto lifted = lift_flat_values(cx_, kMaxFlatResults, ptr, one);
  ASSERT_TRUE(lifted.ok());
  EXPECT_EQ((*lifted)[0], Val::string("spill"));
}

TEST_F(CanonTest, EachTrapIsAnErrorThatSaysWhat) {
  auto lift = [&](std::vector<component::ValType> types, std::vector<engine::Value> flat) {
    auto r = lift_flat_values(cx_, kMaxFlatParams, flat, types);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().message;
  };
  using engine::Value;
  EXPECT_NE(lift({PrimType::Char}, {Value::i32(0xD800)}).find("surrogate"), std::string::npos);
  EXPECT_NE(lift({PrimType::Char}, {Value::i32(0x110000)}).find("invalid char"), std::string::npos);
  EXPECT_NE(lift({PrimType::String}, {Value::i32(65530), Value::i32(100)}).find("out of bounds"), std::string::npos);
  write(100, {0xC0, 0x80});  // overlong NUL
  EXPECT_NE(lift({PrimType::String}, {Value::i32(100), Value::i32(2)}).find("utf-8"), std::string::npos);
  cx_.encoding = StringEncoding::Utf16;
  write(200, {0x00, 0xD8, 0x41, 0x00});  // unpaired high surrogate
  EXPECT_NE(lift({PrimType::String}, {Value::i32(200), Value::i32(2)}).find("surrogate"), std::string::npos);
  EXPECT_NE(lift({PrimType::String}, {Value::i32(201), Value::i32(1)}).find("aligned"), std::string::npos);
  cx_.encoding = StringEncoding::Utf8;
  auto list = make_type(ListType{PrimType::U32, std::nullopt});
  EXPECT_NE(lift({list}, {Value::i32(2), Value::i32(1)}).find("aligned"), std::string::npos);
  EXPECT_NE(lift({list}, {Value::i32(0), Value::i32(1u << 27)}).find("exceeds"), std::string::npos);
  auto opt = make_type(OptionType{PrimType::U32});
  EXPECT_NE(lift({opt}, {Value::i32(2), Value::i32(0)}).find("discriminant"), std::string::npos);
  EnumType e{{"a", "b"}};
  write(300, {5});
  auto loaded = load(cx_, 300, make_type(e));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("discriminant 5"), std::string::npos);

  // Storing a list: an element of the wrong kind is an error that says
  // which kind, and so is a fixed-length list past the end of memory.
  auto wrong = store(cx_, Val::list({Val::u32(1), Val::string("x")}), list, 400);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("expected a u32 value, got string"), std::string::npos) << wrong.error().message;
  auto fixed = make_type(ListType{PrimType::U16, 4});
  auto past_end = store(cx_, Val::list({Val::u16(1), Val::u16(2), Val::u16(3), Val::u16(4)}), fixed, 65536 * 4 - 6);
  ASSERT_FALSE(past_end.ok());
  EXPECT_NE(past_end.error().message.find("out of bounds"), std::string::npos) << past_end.error().message;

  misaligned_realloc_ = true;
  std::vector<component::ValType> lt = {list};
  std::vector<Val> lv = {Val::list({Val::u32(1)})};
  auto lowered = lower_flat_values(cx_, kMaxFlatParams, lv, lt);
  ASSERT_FALSE(lowered.ok());
  EXPECT_NE(lowered.error().message.find("not aligned"), std::string::npos);
  misaligned_realloc_ = false;
  heap_ = 65536 * 4 - 2;  // realloc hands out a pointer at the end of memory
  std::vector<component::ValType> st = {PrimType::String};
  std::vector<Val> sv = {Val::string("too long for what is left")};
  auto oob = lower_flat_values(cx_, kMaxFlatParams, sv, st);
  ASSERT_FALSE(oob.ok());
  EXPECT_NE(oob.error().message.find("out of bounds"), std::string::npos);
}

TEST_F(CanonTest, TransferCopiesOnceWithTheSameChecksAsLiftAndLower) {
  // A second "component": its own memory and bump allocator.
  auto other = engine_->host_memory(engine::MemoryType{{1, 4}}).value();
  uint32_t other_heap = 1024;
  Context dst;
  dst.memory = other.get();
  dst.realloc = [&](uint32_t, uint32_t, uint32_t align, uint32_t size) -> Result<uint32_t> {
    uint32_t p = (other_heap + align - 1) / align * align;
    other_heap = p + size;
    return p;
  };
  write(100, {'h', 'i', 0xC3, 0xA9});
  // f32 list with a non-canonical NaN.
  write(200, {0x01, 0x00, 0xa0, 0x7f, 0x00, 0x00, 0x80, 0x3f});
  auto list = make_type(ListType{PrimType::F32, std::nullopt});
  std::vector<component::ValType> types = {PrimType::String, list, PrimType::U8};
  std::vector<engine::Value> flat = {engine::Value::i32(100), engine::Value::i32(4), engine::Value::i32(200),
                                     engine::Value::i32(2), engine::Value::i32(0x1ff)};
  auto moved = transfer_flat_values(cx_, dst, kMaxFlatParams, flat, types);
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  auto vals = lift_flat_values(dst, kMaxFlatParams, *moved, types);
  ASSERT_TRUE(vals.ok()) << vals.error().message;
  EXPECT_EQ((*vals)[0], Val::string("hié"));
  EXPECT_EQ((*vals)[1], Val::list({Val::f32_bits(0x7fc00000), Val::f32(1.0f)}));
  EXPECT_EQ((*vals)[2], Val::u8(0xff));

  write(300, {0xff});
  std::vector<component::ValType> str = {PrimType::String};
  std::vector<engine::Value> bad = {engine::Value::i32(300), engine::Value::i32(1)};
  auto rejected = transfer_flat_values(cx_, dst, kMaxFlatParams, bad, str);
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.error().message.find("utf-8"), std::string::npos);
  std::vector<engine::Value> oob = {engine::Value::i32(65530), engine::Value::i32(100)};
  EXPECT_FALSE(transfer_flat_values(cx_, dst, kMaxFlatParams, oob, str).ok());
}

TEST_F(CanonTest, CheckTypeNamesThePathToTheMismatch) {
  auto t = record({PrimType::U32, make_type(ListType{PrimType::String, std::nullopt})});
  auto bad = check_type(Val::record({Val::u32(1), Val::list({Val::string("a"), Val::u8(2)})}), t);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, ".f1[1]: expected string, got u8");
}

}  // namespace
}  // namespace stratus::component::canon
