#include "engine/eh_lower.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace stratus::engine {
namespace {

using Bytes = std::vector<uint8_t>;

// Modules are assembled here by hand: wat2wasm 1.0.32 cannot write try_table.

Bytes leb(uint32_t value) {
  Bytes out;
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    out.push_back(value != 0 ? byte | 0x80 : byte);
  } while (value != 0);
  return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes section(uint8_t id, const Bytes& content) { return cat({{id}, leb(content.size()), content}); }

// A function body without locals.
Bytes body(const Bytes& expr) { return cat({{0x00}, expr}); }

Bytes code_section(const std::vector<Bytes>& bodies) {
  Bytes content = leb(bodies.size());
  for (const auto& b : bodies) content = cat({content, leb(b.size()), b});
  return section(10, content);
}

// Types 0: [] -> [], 1: [i32] -> [], 2: [] -> [i32].
const Bytes kTypes = {0x03, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x01, 0x7f};

// Everything before the code section: the types, one function of type 0 per
// body, a memory of one page, and tags 0: [] and 1: [i32].
Bytes module_head(size_t functions, const Bytes& types = kTypes) {
  Bytes funcs = leb(functions);
  funcs.insert(funcs.end(), functions, 0x00);
  return cat({{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00},
              section(1, types),
              section(3, funcs),
              section(5, {0x01, 0x00, 0x01}),
              section(13, {0x02, 0x00, 0x00, 0x00, 0x01})});
}

Bytes module_of(const std::vector<Bytes>& bodies) { return cat({module_head(bodies.size()), code_section(bodies)}); }

// The module with one function whose body is `expr`.
Bytes module_with(const Bytes& expr) { return module_of({body(expr)}); }

size_t offset_of(const Bytes& haystack, const Bytes& needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end());
  EXPECT_NE(it, haystack.end());
  return static_cast<size_t>(it - haystack.begin());
}

std::string at(size_t offset, const std::string& what) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "offset 0x%zx: ", offset);
  return prefix + what;
}

// The lowered module, or the error message when lowering failed or found nothing.
Bytes lowered(const Bytes& module) {
  auto r = lower_try_table(module);
  if (!r.ok()) {
    ADD_FAILURE() << r.error().message;
    return {};
  }
  if (!r->has_value()) {
    ADD_FAILURE() << "no try_table found";
    return {};
  }
  return **r;
}

std::string error_of(const Bytes& module) {
  auto r = lower_try_table(module);
  if (r.ok()) return "(no error)";
  return r.error().message;
}

// Lowers `try_table_expr` and expects the module with `legacy_expr` instead.
void expect_lowers_to(const Bytes& try_table_expr, const Bytes& legacy_expr) {
  EXPECT_EQ(lowered(module_with(try_table_expr)), module_with(legacy_expr));
}

TEST(EhLower, ModuleWithoutTryTableIsLeftAlone) {
  Bytes expr = {
      0x02, 0x40, 0x03, 0x40,                    // block loop
      0x41, 0x00, 0x0e, 0x01, 0x00, 0x01,        //   i32.const 0 br_table 0 1
      0x0b, 0x0b,                                // end end
      0x41, 0x01, 0x04, 0x40, 0x01, 0x05, 0x0b,  // i32.const 1 if nop else end
      0x06, 0x40, 0x08, 0x00,                    // try throw 0
      0x07, 0x00, 0x19, 0x0b,                    // catch 0 catch_all end
      0x06, 0x40, 0x01, 0x18, 0x00,              // try nop delegate 0
      0x10, 0x00,                                // call 0
      0x0b,
  };
  auto r = lower_try_table(module_with(expr));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_value());

  auto empty = lower_try_table(Bytes{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00});
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_FALSE(empty->has_value());
}

TEST(EhLower, CatchAndCatchAllBecomeLegacyHandlers) {
  Bytes try_table = {
      0x02, 0x40,                                      // block                      ;; A
      0x02, 0x7f,                                      //   block (result i32)       ;; B
      0x1f, 0x40, 0x02, 0x00, 0x01, 0x00, 0x02, 0x01,  //     try_table (catch 1 0) (catch_all 1)
      0x41, 0x07, 0x08, 0x01,                          //       i32.const 7 throw 1
      0x0b,                                            //     end
      0x41, 0x00, 0x0b, 0x1a,                          //   i32.const 0 end drop
      0x0b,                                            // end
      0x0b,
  };
  Bytes legacy = {
      0x02, 0x40,              // block
      0x02, 0x7f,              //   block (result i32)
      0x06, 0x40,              //     try
      0x41, 0x07, 0x08, 0x01,  //       i32.const 7 throw 1
      0x07, 0x01, 0x0c, 0x01,  //     catch 1 br 1           ;; -> B with the tag's i32
      0x19, 0x0c, 0x02,        //     catch_all br 2         ;; -> A
      0x0b,                    //     end
      0x41, 0x00, 0x0b, 0x1a,  //   i32.const 0 end drop
      0x0b,                    // end
      0x0b,
  };
  Bytes out = lowered(module_with(try_table));
  EXPECT_EQ(out, module_with(legacy));
  // The body grew by one byte (24 -> 25), and the section with it (26 -> 27).
  Bytes code = {0x0a, 0x1b, 0x01, 0x19, 0x00};
  ASSERT_GE(out.size(), code.size() + legacy.size());
  EXPECT_EQ(Bytes(out.end() - static_cast<std::ptrdiff_t>(legacy.size() + code.size()),
                  out.end() - static_cast<std::ptrdiff_t>(legacy.size())),
            code);
}

TEST(EhLower, BodyAndSectionSizesAreReencodedAcrossALebBoundary) {
  // A body of 127 bytes (a one-byte size) becomes one of 128 (two bytes).
  Bytes nops(113, 0x01);
  Bytes try_table = cat({{0x02, 0x40, 0x1f, 0x40, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00}, nops, {0x0b, 0x0b, 0x0b}});
  Bytes legacy = cat({{0x02, 0x40, 0x06, 0x40}, nops, {0x07, 0x00, 0x0c, 0x01, 0x19, 0x0c, 0x01, 0x0b, 0x0b, 0x0b}});
  Bytes in = module_with(try_table);
  size_t code_at = module_head(1).size();
  ASSERT_EQ(Bytes(in.begin() + code_at, in.begin() + code_at + 4), (Bytes{0x0a, 0x81, 0x01, 0x01}));
  EXPECT_EQ(in[code_at + 4], 0x7f);

  Bytes out = lowered(in);
  ASSERT_GT(out.size(), code_at + 6);
  EXPECT_EQ(Bytes(out.begin() + code_at, out.begin() + code_at + 6), (Bytes{0x0a, 0x83, 0x01, 0x01, 0x80, 0x01}));
  EXPECT_EQ(out, module_with(legacy));
}

TEST(EhLower, EveryFunctionIsRewrittenAndOthersAreCopied) {
  Bytes plain = body({0x01, 0x0b});
  Bytes with_locals = {0x02, 0x01, 0x7f, 0x02, 0x7e, 0x1f, 0x40, 0x01, 0x02, 0x00, 0x0b, 0x0b};
  Bytes with_locals_legacy = {0x02, 0x01, 0x7f, 0x02, 0x7e, 0x06, 0x40, 0x19, 0x0c, 0x01, 0x0b, 0x0b};
  Bytes in = module_of({plain, with_locals, plain, body({0x1f, 0x40, 0x00, 0x0b, 0x0b})});
  Bytes expected = module_of({plain, with_locals_legacy, plain, body({0x06, 0x40, 0x0b, 0x0b})});
  // Sections after the code section (a custom one here) are copied as they are.
  Bytes custom = section(0, {0x04, 'n', 'o', 't', 'e', 0xaa, 0xbb});
  EXPECT_EQ(lowered(cat({in, custom})), cat({expected, custom}));
}

TEST(EhLower, NestedBlocksKeepTheirLabels) {
  Bytes try_table = {
      0x02, 0x40,                    // block                        ;; A
      0x03, 0x40,                    //   loop                       ;; B
      0x1f, 0x40, 0x01, 0x02, 0x01,  //     try_table (catch_all 1)  ;; -> A
      0x02, 0x40, 0x0c, 0x02, 0x0b,  //       block br 2 end         ;; -> B, unchanged
      0x1f, 0x40, 0x02,              //       try_table
      0x00, 0x00, 0x00,              //         (catch 0 0)          ;; -> the outer try_table
      0x00, 0x00, 0x02,              //         (catch 0 2)          ;; -> A
      0x01, 0x08, 0x00,              //         nop throw 0
      0x0b,                          //       end
      0x0b,                          //     end
      0x0b, 0x0b, 0x0b,              //   end end
  };
  Bytes legacy = {
      0x02, 0x40,                    // block
      0x03, 0x40,                    //   loop
      0x06, 0x40,                    //     try
      0x02, 0x40, 0x0c, 0x02, 0x0b,  //       block br 2 end
      0x06, 0x40,                    //       try
      0x01, 0x08, 0x00,              //         nop throw 0
      0x07, 0x00, 0x0c, 0x01,        //       catch 0 br 1
      0x07, 0x00, 0x0c, 0x03,        //       catch 0 br 3
      0x0b,                          //       end
      0x19, 0x0c, 0x02,              //     catch_all br 2
      0x0b,                          //     end
      0x0b, 0x0b, 0x0b,              //   end end
  };
  expect_lowers_to(try_table, legacy);
}

TEST(EhLower, TryTableInsideLegacyHandlersAndIf) {
  Bytes try_table = {
      0x06, 0x40, 0x01,              // try nop
      0x07, 0x00,                    // catch 0
      0x41, 0x01, 0x04, 0x40,        //   i32.const 1 if
      0x1f, 0x40, 0x01, 0x02, 0x00,  //     try_table (catch_all 0)  ;; -> the if
      0x0b,                          //     end
      0x05, 0x0b,                    //   else end
      0x0b,                          // end
      0x1f, 0x40, 0x01, 0x02, 0x00,  // try_table (catch_all 0)
      0x06, 0x40, 0x01, 0x18, 0x00,  //   try nop delegate 0        ;; closes the try
      0x0b,                          // end
      0x0b,
  };
  Bytes legacy = {
      0x06, 0x40, 0x01, 0x07, 0x00, 0x41, 0x01, 0x04, 0x40,  //
      0x06, 0x40, 0x19, 0x0c, 0x01, 0x0b,                    // try catch_all br 1 end
      0x05, 0x0b, 0x0b,                                      //
      0x06, 0x40,                                            // try
      0x06, 0x40, 0x01, 0x18, 0x00,                          //   try nop delegate 0
      0x19, 0x0c, 0x01, 0x0b,                                // catch_all br 1 end
      0x0b,
  };
  expect_lowers_to(try_table, legacy);
}

TEST(EhLower, ClausesAfterCatchAllAreDropped) {
  // (catch_all 0) (catch 0 0) (catch_all 0): the second and third never match.
  expect_lowers_to({0x1f, 0x40, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0b, 0x0b},
                   {0x06, 0x40, 0x19, 0x0c, 0x01, 0x0b, 0x0b});
  // With no clauses at all, a try without handlers.
  expect_lowers_to({0x1f, 0x40, 0x00, 0x01, 0x0b, 0x0b}, {0x06, 0x40, 0x01, 0x0b, 0x0b});
}

TEST(EhLower, BlockTypesAreCopied) {
  Bytes try_table = {
      0x02, 0x7f,                          // block (result i32)
      0x1f, 0x7f, 0x01, 0x00, 0x01, 0x00,  //   try_table (result i32) (catch 1 0)
      0x41, 0x07,                          //     i32.const 7
      0x0b, 0x0b, 0x1a,                    //   end end drop
      0x1f, 0x02, 0x00,                    // try_table (type 2)
      0x41, 0x05,                          //   i32.const 5
      0x0b, 0x1a,                          // end drop
      0x0b,
  };
  Bytes legacy = {
      0x02, 0x7f, 0x06, 0x7f, 0x41, 0x07, 0x07, 0x01, 0x0c, 0x01, 0x0b, 0x0b, 0x1a,  //
      0x06, 0x02, 0x41, 0x05, 0x0b, 0x1a,                                            //
      0x0b,
  };
  expect_lowers_to(try_table, legacy);
}

TEST(EhLower, PrefixedAndSimdInstructionsBeforeATryTableAreWalked) {
  // Immediates full of 0x0b (end) and 0x1f (try_table) bytes: a walker that
  // misread any length would find a wrong `end` or a phantom try_table.
  Bytes v128 = {0x0b, 0x1f, 0x0b, 0x1f, 0x06, 0x0b, 0x1f, 0x0b, 0x1f, 0x0b, 0x0b, 0x1f, 0x0b, 0x1f, 0x0b, 0x1f};
  Bytes prefix = cat({
      {0x41, 0x00, 0x41, 0x0b, 0x41, 0x1f, 0xfc, 0x0b, 0x00},        // memory.fill
      {0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0a, 0x00, 0x00},  // memory.copy
      {0xfd, 0x0c},
      v128,
      {0xfd, 0x0c},
      v128,  // v128.const x2
      {0xfd, 0x0d},
      v128,                                        // i8x16.shuffle
      {0xfd, 0x15, 0x0b, 0x1a},                    // i8x16.extract_lane_s 11 drop
      {0x41, 0x00, 0x28, 0x02, 0x8b, 0x01, 0x1a},  // i32.load offset=139 drop
      {0x41, 0x00, 0xfd, 0x00, 0x04, 0x0b, 0x1a},  // v128.load offset=11 drop
      {0x41, 0x00, 0xfd, 0x0c},
      v128,                                                    // i32.const 0 v128.const
      {0xfd, 0x54, 0x00, 0x1f, 0x0b, 0x1a},                    // v128.load8_lane offset=31 11 drop
      {0x44, 0x0b, 0x1f, 0x0b, 0x1f, 0x0b, 0x1f, 0x0b, 0x00},  // f64.const
      {0xfc, 0x02, 0x1a},                                      // i32.trunc_sat_f64_s drop
      {0x42, 0x8b, 0x9f, 0x8b, 0x1f, 0x1a},                    // i64.const drop
  });
  expect_lowers_to(cat({prefix, {0x1f, 0x40, 0x01, 0x02, 0x00, 0x0b, 0x0b}}),
                   cat({prefix, {0x06, 0x40, 0x19, 0x0c, 0x01, 0x0b, 0x0b}}));
}

TEST(EhLower, MemoryIndexMemargsAndAtomicsAreWalked) {
  Bytes prefix = {
      0x41, 0x00, 0x28, 0x42, 0x01, 0x1f, 0x1a,  // i32.load align bit 6: memory 1, offset 31
      0x41, 0x00, 0xfe, 0x10, 0x02, 0x0b, 0x1a,  // i32.atomic.load offset=11
      0xfe, 0x03, 0x00,                          // atomic.fence
      0x12, 0x00,                                // return_call 0
  };
  expect_lowers_to(cat({prefix, {0x1f, 0x40, 0x00, 0x0b, 0x0b}}), cat({prefix, {0x06, 0x40, 0x0b, 0x0b}}));
}

TEST(EhLower, ExnrefConstructsAreErrors) {
  const std::string needs = " needs exnref, which this engine does not support";
  Bytes catch_ref = module_with({0x01, 0x1f, 0x40, 0x01, 0x01, 0x00, 0x00, 0x0b, 0x0b});
  EXPECT_EQ(error_of(catch_ref), at(offset_of(catch_ref, {0x1f, 0x40}) + 3, "catch_ref" + needs));

  Bytes catch_all_ref = module_with({0x1f, 0x40, 0x02, 0x02, 0x00, 0x03, 0x00, 0x0b, 0x0b});
  EXPECT_EQ(error_of(catch_all_ref), at(offset_of(catch_all_ref, {0x1f, 0x40}) + 5, "catch_all_ref" + needs));

  Bytes throw_ref = module_with({0x01, 0x01, 0x0a, 0x0b});
  EXPECT_EQ(error_of(throw_ref), at(offset_of(throw_ref, {0x01, 0x01, 0x0a}) + 2, "throw_ref" + needs));

  Bytes local = module_of({{0x01, 0x01, 0x69, 0x0b}});
  EXPECT_EQ(error_of(local), at(local.size() - 2, "type exnref" + needs));

  Bytes block_type = module_with({0x02, 0x69, 0x0b, 0x0b});
  EXPECT_EQ(error_of(block_type), at(block_type.size() - 3, "type exnref" + needs));

  Bytes ref_null = module_with({0xd0, 0x69, 0x1a, 0x0b});
  EXPECT_EQ(error_of(ref_null), at(ref_null.size() - 3, "heap type exn" + needs));

  Bytes typed_ref = module_with({0x1c, 0x01, 0x63, 0x74, 0x0b});  // select (ref null noexn)
  EXPECT_EQ(error_of(typed_ref), at(typed_ref.size() - 2, "heap type noexn" + needs));

  Bytes types = {0x01, 0x60, 0x01, 0x69, 0x00};
  Bytes func_type = cat({module_head(1, types), code_section({body({0x0b})})});
  EXPECT_EQ(error_of(func_type), at(offset_of(func_type, types) + 3, "type exnref" + needs));
}

TEST(EhLower, TruncatedModulesAreErrors) {
  Bytes full = module_with({0x02, 0x40, 0x1f, 0x40, 0x01, 0x02, 0x00, 0xfd, 0x0c, 1,  2,    3,    4,    5,   6,
                            7,    8,    9,    10,   11,   12,   13,   14,   15,   16, 0x1a, 0x0b, 0x0b, 0x0b});
  size_t code_at = module_head(1).size();
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = lower_try_table(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)));
    // Cut at a section boundary, a shorter module is still well framed.
    if (n < 8 || n > code_at) {
      EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes";
    }
  }
  EXPECT_EQ(error_of({0x00, 0x61, 0x73}), at(0, "not a core WebAssembly module (no \\0asm version 1 preamble)"));
  Bytes cut = Bytes(full.begin(), full.end() - 1);
  EXPECT_EQ(error_of(cut), at(code_at, "section 10 runs past the end of the module"));

  // A body whose declared size ends inside an instruction's immediate.
  Bytes short_body = cat({module_head(1), section(10, {0x01, 0x05, 0x00, 0x1f, 0x40, 0x01, 0x02})});
  EXPECT_EQ(error_of(short_body), at(short_body.size(), "unexpected end of function body"));
}

TEST(EhLower, MalformedBodiesAreErrors) {
  Bytes unknown = module_with({0x01, 0x16, 0x0b});
  EXPECT_EQ(error_of(unknown), at(unknown.size() - 2, "unknown opcode 0x16"));
  Bytes unknown_fc = module_with({0xfc, 0x12, 0x0b});
  EXPECT_EQ(error_of(unknown_fc), at(unknown_fc.size() - 3, "unknown opcode 0xfc 18"));
  Bytes unknown_simd = module_with({0xfd, 0x9a, 0x01, 0x0b});
  EXPECT_EQ(error_of(unknown_simd), at(unknown_simd.size() - 4, "unknown opcode 0xfd 154"));

  // A catch inside a try_table's body would otherwise become one of its handlers.
  Bytes stray_catch = module_with({0x1f, 0x40, 0x00, 0x07, 0x00, 0x0b, 0x0b});
  EXPECT_EQ(error_of(stray_catch), at(stray_catch.size() - 4, "catch outside try"));
  Bytes stray_else = module_with({0x02, 0x40, 0x05, 0x0b, 0x0b});
  EXPECT_EQ(error_of(stray_else), at(stray_else.size() - 3, "else outside if"));

  // Label 1 outside a try_table directly in the function names nothing.
  Bytes bad_label = module_with({0x1f, 0x40, 0x01, 0x02, 0x01, 0x0b, 0x0b});
  EXPECT_EQ(error_of(bad_label), at(bad_label.size() - 3, "catch clause label 1 is out of range"));

  Bytes bad_kind = module_with({0x1f, 0x40, 0x01, 0x04, 0x00, 0x0b, 0x0b});
  EXPECT_EQ(error_of(bad_kind), at(bad_kind.size() - 4, "unknown try_table clause kind 0x04"));

  Bytes after_end = module_with({0x0b, 0x01});
  EXPECT_EQ(error_of(after_end), at(after_end.size() - 1, "function body continues after its final end"));
}

TEST(EhLower, NestingDepthIsCapped) {
  auto nested = [](size_t depth) {
    Bytes expr;
    for (size_t i = 0; i < depth; ++i) expr.insert(expr.end(), {0x02, 0x40});
    expr.insert(expr.end(), {0x1f, 0x40, 0x00, 0x0b});
    expr.insert(expr.end(), depth + 1, 0x0b);
    return module_with(expr);
  };
  auto deep = lower_try_table(nested(99'999));
  ASSERT_TRUE(deep.ok()) << deep.error().message;
  EXPECT_TRUE(deep->has_value());
  Bytes too_deep = nested(100'000);
  EXPECT_EQ(error_of(too_deep), at(offset_of(too_deep, {0x1f, 0x40}), "more than 100000 nested blocks"));
}

TEST(EhLower, MutatedModulesNeverCrash) {
  Bytes base = module_with({0x02, 0x40, 0x1f, 0x40, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x41, 0x00, 0xfd,
                            0x0c, 1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,
                            13,   14,   15,   16,   0x1a, 0x0e, 0x01, 0x00, 0x00, 0x0b, 0x0b, 0x0b});
  for (size_t i = 0; i < base.size(); ++i) {
    for (uint8_t value : {0x00, 0x01, 0x0b, 0x1f, 0x40, 0x7f, 0x80, 0xff}) {
      Bytes m = base;
      m[i] = value;
      auto r = lower_try_table(m);
      if (r.ok() && r->has_value()) {
        EXPECT_FALSE((*r)->empty());
      }
    }
  }
}

}  // namespace
}  // namespace stratus::engine
