// The component decoder on real components (jco's fixtures, built by
// wit-bindgen, Rust and JS toolchains) and on malformed input.
#include "component/binary/decoder.h"
#include "component/wit_print.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "support/file.h"

namespace stratus::component {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> fixture_components() {
  std::vector<fs::path> out;
  for (const char* dir : {"runtime", "p3"}) {
    fs::path root = fs::path(STRATUS_FIXTURES_DIR) / "jco" / dir;
    if (!fs::exists(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.path().extension() == ".wasm") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DecoderTest, EveryJcoFixtureComponentDecodes) {
  auto files = fixture_components();
  ASSERT_GT(files.size(), 20u);
  size_t decoded = 0;
  for (const auto& f : files) {
    auto bytes = read_file(f);
    ASSERT_TRUE(bytes.ok()) << f;
    if (!is_component(*bytes)) continue;
    auto c = decode_component(*bytes);
    EXPECT_TRUE(c.ok()) << f.filename() << ": " << c.error().message;
    if (c.ok()) ++decoded;
  }
  std::printf("decoded %zu fixture components\n", decoded);
}

// Every core module of `c` and of the components nested in it, in order.
void core_modules(const Component& c, std::vector<CoreModulePtr>& out) {
  for (const auto& d : c.definitions) {
    if (const auto* m = std::get_if<CoreModuleDef>(&d)) out.push_back(m->module);
    if (const auto* n = std::get_if<ComponentDef>(&d)) core_modules(*n->component, out);
  }
}

std::string describe(const CoreModuleType& t) {
  std::string out;
  for (const auto& i : t.imports)
    out += "import " + i.module + " " + i.name + " " + std::string(engine::to_string(engine::kind_of(i.type))) + "\n";
  for (const auto& e : t.exports)
    out += "export " + e.name + " " + std::string(engine::to_string(engine::kind_of(e.type))) + "\n";
  return out;
}

TEST(DecoderTest, WithoutCodeValidationEveryFixtureTypesItsCoreModulesAsTheValidatorDoes) {
  size_t modules = 0;
  for (const auto& f : fixture_components()) {
    auto bytes = read_file(f);
    ASSERT_TRUE(bytes.ok()) << f;
    if (!is_component(*bytes)) continue;
    auto full = decode_component(*bytes);
    auto header = decode_component(*bytes, {.validate_core_code = false});
    ASSERT_EQ(full.ok(), header.ok()) << f.filename() << ": " << (full.ok() ? header : full).error().message;
    if (!full.ok()) continue;
    std::vector<CoreModulePtr> a, b;
    core_modules(**full, a);
    core_modules(**header, b);
    ASSERT_EQ(a.size(), b.size()) << f.filename();
    for (size_t i = 0; i < a.size(); ++i) {
      const auto& x = *a[i]->type;
      const auto& y = *b[i]->type;
      EXPECT_EQ(describe(x), describe(y)) << f.filename() << " module " << i;
      bool same = x.imports.size() == y.imports.size() && x.exports.size() == y.exports.size();
      for (size_t k = 0; same && k < x.imports.size(); ++k) same = x.imports[k].type == y.imports[k].type;
      for (size_t k = 0; same && k < x.exports.size(); ++k) same = x.exports[k].type == y.exports[k].type;
      EXPECT_TRUE(same) << f.filename() << " module " << i << ": types differ";
      ++modules;
    }
  }
  std::printf("%zu core modules typed alike\n", modules);
  EXPECT_GT(modules, 20u);
}

TEST(DecoderTest, WithoutCodeValidationBadCodeDecodesAndBadHeadersDoNot) {
  // (component (core module (func (result i32) i64.const 0))): the body is
  // ill-typed, which only the engine compiling the module sees now.
  const std::vector<uint8_t> module = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,   // preamble
                                       0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,         // type () -> i32
                                       0x03, 0x02, 0x01, 0x00,                           // func 0: type 0
                                       0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b};  // i64.const 0
  auto component = [](std::vector<uint8_t> m) {
    std::vector<uint8_t> out = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x01, static_cast<uint8_t>(m.size())};
    out.insert(out.end(), m.begin(), m.end());
    return out;
  };
  auto bad_code = component(module);
  auto full = decode_component(bad_code);
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.error().message.find("invalid core module"), std::string::npos) << full.error().message;
  EXPECT_TRUE(decode_component(bad_code, {.validate_core_code = false}).ok());

  auto bad_index = module;
  bad_index[18] = 0x07;  // func 0: type 7, of one type
  auto e = decode_component(component(bad_index), {.validate_core_code = false});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("invalid core module: offset 0x"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("type index out of range"), std::string::npos) << e.error().message;

  auto truncated = module;
  truncated[9] = 0x40;  // the type section claims more bytes than the module has
  e = decode_component(component(truncated), {.validate_core_code = false});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("past the end"), std::string::npos) << e.error().message;
}

TEST(DecoderTest, NumbersFixtureExportsItsTestInterface) {
  auto bytes = read_file(fs::path(STRATUS_FIXTURES_DIR) / "jco/runtime/numbers.component.wasm");
  ASSERT_TRUE(bytes.ok());
  auto c = decode_component(*bytes);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const NamedExtern* test = nullptr;
  for (const auto& e : (*c)->type->exports)
    if (e.name == "test:numbers/test") test = &e;
  ASSERT_NE(test, nullptr);
  const auto* inst = std::get_if<InstanceTypePtr>(&test->type);
  ASSERT_NE(inst, nullptr);
  const FuncType* roundtrip_u8 = nullptr;
  for (const auto& e : (*inst)->exports)
    if (e.name == "roundtrip-u8") roundtrip_u8 = std::get<FuncTypePtr>(e.type).get();
  ASSERT_NE(roundtrip_u8, nullptr);
  ASSERT_EQ(roundtrip_u8->params.size(), 1u);
  EXPECT_EQ(roundtrip_u8->params[0].type.primitive(), PrimType::U8);
  ASSERT_TRUE(roundtrip_u8->result.has_value());
  EXPECT_EQ(roundtrip_u8->result->primitive(), PrimType::U8);
}

TEST(DecoderTest, MalformedInputIsAnErrorWithAnOffset) {
  const std::vector<std::vector<uint8_t>> cases = {
      {},
      {0x00, 0x61, 0x73},
      {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00},                                // a core module
      {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x05},                    // section runs past the end
      {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x02, 0x01, 0x72},        // truncated record
      {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x03, 0x01, 0x72, 0x00},  // record without fields
      {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x03, 0x01, 0x6b, 0x05},  // option of a missing type
      {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00},  // huge count
  };
  for (const auto& bytes : cases) {
    auto c = decode_component(bytes);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("offset 0x"), std::string::npos) << c.error().message;
  }
}

TEST(DecoderTest, FuzzSeedsDecode) {
  // The seed corpus of fuzz/component_decode: valid components, so fuzzing
  // starts from inputs that get past the validator.
  fs::path seeds = fs::path(STRATUS_SOURCE_DIR) / "fuzz/seeds/component_decode";
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(seeds)) {
    auto bytes = read_file(e.path());
    ASSERT_TRUE(bytes.ok());
    auto c = decode_component(*bytes);
    EXPECT_TRUE(c.ok()) << e.path().filename() << ": " << c.error().message;
    ++n;
  }
  EXPECT_GT(n, 3u);
}

TEST(DecoderTest, NamesAndResourcesFollowTheRules) {
  // Components written as bytes: the preamble and the given sections.
  auto component = [](std::vector<uint8_t> sections) {
    std::vector<uint8_t> out = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
    out.insert(out.end(), sections.begin(), sections.end());
    return out;
  };
  // (type (record (field "Ab" u32))): not kebab case.
  auto bad_label = decode_component(component({0x07, 0x07, 0x01, 0x72, 0x01, 0x02, 'A', 'b', 0x79}));
  ASSERT_FALSE(bad_label.ok());
  EXPECT_NE(bad_label.error().message.find("kebab"), std::string::npos) << bad_label.error().message;
  // (type (record (field "ab" u32))) is fine.
  auto good = decode_component(component({0x07, 0x07, 0x01, 0x72, 0x01, 0x02, 'a', 'b', 0x79}));
  EXPECT_TRUE(good.ok()) << good.error().message;
  // (type (func (result (borrow R)))) with R a resource.
  auto borrow = decode_component(component({0x07, 0x0a, 0x03, 0x3f, 0x7f, 0x00, 0x68, 0x00, 0x40, 0x00, 0x00, 0x01}));
  ASSERT_FALSE(borrow.ok());
  EXPECT_NE(borrow.error().message.find("borrow"), std::string::npos) << borrow.error().message;
  // (type (map string u32)) is fine; a float or a compound key is not.
  auto map = decode_component(component({0x07, 0x04, 0x01, 0x63, 0x73, 0x79}));
  EXPECT_TRUE(map.ok()) << map.error().message;
  // (map f32 u32); (type $o (option u32)) (map $o u32).
  for (const auto& types :
       {std::vector<uint8_t>{0x01, 0x63, 0x76, 0x79}, std::vector<uint8_t>{0x02, 0x6b, 0x79, 0x63, 0x00, 0x79}}) {
    std::vector<uint8_t> sections = {0x07, static_cast<uint8_t>(types.size())};
    sections.insert(sections.end(), types.begin(), types.end());
    auto bad_key = decode_component(component(sections));
    ASSERT_FALSE(bad_key.ok());
    EXPECT_NE(bad_key.error().message.find("map key type"), std::string::npos) << bad_key.error().message;
  }
}

TEST(DecoderTest, DeeplyNestedTypesAreRefused) {
  // 200 types, each an option of the one before: deeper than the limit.
  std::vector<uint8_t> body = {0xc8, 0x01, 0x6b, 0x79};
  for (uint32_t i = 1; i < 200; ++i) {
    body.push_back(0x6b);
    body.push_back(static_cast<uint8_t>(0x80 | ((i - 1) & 0x7f)));  // LEB128 index, two bytes
    body.push_back(static_cast<uint8_t>((i - 1) >> 7));
  }
  std::vector<uint8_t> bytes = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07};
  bytes.push_back(static_cast<uint8_t>(0x80 | (body.size() & 0x7f)));
  bytes.push_back(static_cast<uint8_t>(body.size() >> 7));
  bytes.insert(bytes.end(), body.begin(), body.end());
  auto c = decode_component(bytes);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("nesting"), std::string::npos) << c.error().message;
}

// LEB128 of an unsigned value.
void leb(std::vector<uint8_t>& out, uint32_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v != 0 ? (b | 0x80) : b);
  } while (v != 0);
}

// A type index where a value type goes: signed LEB128 (s33), so 64..127
// take two bytes.
void type_index(std::vector<uint8_t>& out, uint32_t v) {
  while (true) {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v == 0 && (b & 0x40) == 0) {
      out.push_back(b);
      return;
    }
    out.push_back(b | 0x80);
  }
}

// A component of `levels` types, each result<T, T> of the one before
// (2^levels paths through `levels` nodes), a function taking the last, and
// an import of that function.
std::vector<uint8_t> result_chain_component(uint32_t levels) {
  std::vector<uint8_t> types;
  leb(types, levels + 1);
  types.insert(types.end(), {0x6a, 0x01, 0x7d, 0x01, 0x7d});  // result<u8, u8>
  for (uint32_t i = 1; i < levels; ++i) {
    types.insert(types.end(), {0x6a, 0x01});
    type_index(types, i - 1);
    types.push_back(0x01);
    type_index(types, i - 1);
  }
  types.insert(types.end(), {0x40, 0x01, 0x01, 'p'});  // (func (param "p" T))
  type_index(types, levels - 1);
  types.insert(types.end(), {0x01, 0x00});
  std::vector<uint8_t> imports = {0x01, 0x00, 0x01, 'f', 0x01};  // (import "f" (func (type levels)))
  leb(imports, levels);
  std::vector<uint8_t> bytes = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07};
  leb(bytes, static_cast<uint32_t>(types.size()));
  bytes.insert(bytes.end(), types.begin(), types.end());
  bytes.push_back(0x0a);
  leb(bytes, static_cast<uint32_t>(imports.size()));
  bytes.insert(bytes.end(), imports.begin(), imports.end());
  return bytes;
}

TEST(DecoderTest, SharedSubtreesAreNotWalkedExponentially) {
  // 90 types, each result<T, T> of the one before (2^90 paths, 90 nodes),
  // a function taking the last, and an import of it: validation must not
  // walk every path, and refuses the type.
  auto bytes = result_chain_component(90);

  // 90 levels: the effective type size (2^90 tree nodes) is over the limit.
  auto start = std::chrono::steady_clock::now();
  auto c = decode_component(bytes);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("effective type size"), std::string::npos) << c.error().message;
}

TEST(DecoderTest, TypesJustUnderTheEffectiveSizeLimitValidateAndPrintQuickly) {
  // 18 levels of result<T, T> (about 2^19 tree nodes, 18 in memory), a
  // function taking the last, and an import of it.
  auto bytes = result_chain_component(18);

  auto start = std::chrono::steady_clock::now();
  auto c = decode_component(bytes);
  ASSERT_TRUE(c.ok()) << c.error().message;
  std::string wit = print_wit(*(*c)->type);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(wit.find("import f: func(p: result<"), std::string::npos) << wit.substr(0, 200);
  EXPECT_NE(wit.find("…"), std::string::npos);  // the printer's own cap
}

}  // namespace
}  // namespace stratus::component
