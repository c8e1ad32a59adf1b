// WAVE text (component/val_text.h): values of each kind read and written
// back, and bad text refused with what was expected and where.
#include <gtest/gtest.h>

#include "component/val_text.h"

namespace stratus::component {
namespace {

ValType record_type() {
  return make_type(RecordType{{{"name", PrimType::String},
                               {"age", PrimType::U8},
                               {"tags", make_type(ListType{PrimType::String, std::nullopt})},
                               {"nick", make_type(OptionType{PrimType::String})}}});
}

std::string round_trip(std::string_view text, const ValType& type) {
  auto v = parse_wave(text, type);
  if (!v) return "error: " + v.error().message;
  auto back = to_wave(*v, type);
  if (!back) return "error: " + back.error().message;
  return *back;
}

TEST(ValText, ScalarsReadAndWriteBack) {
  EXPECT_EQ(round_trip("true", PrimType::Bool), "true");
  EXPECT_EQ(round_trip(" 42 ", PrimType::U32), "42");
  EXPECT_EQ(round_trip("-128", PrimType::S8), "-128");
  EXPECT_EQ(round_trip("18446744073709551615", PrimType::U64), "18446744073709551615");
  EXPECT_EQ(round_trip("1.5", PrimType::F64), "1.5");
  EXPECT_EQ(round_trip("-inf", PrimType::F32), "-inf");
  EXPECT_EQ(round_trip("nan", PrimType::F64), "nan");
  EXPECT_EQ(round_trip("'x'", PrimType::Char), "'x'");
  EXPECT_EQ(round_trip("'\\u{1F600}'", PrimType::Char), "'\xF0\x9F\x98\x80'");
  EXPECT_EQ(round_trip(R"("hi \"you\"\n\u{41}")", PrimType::String), R"("hi \"you\"\nA")");
}

TEST(ValText, CompoundValuesByTheirType) {
  EXPECT_EQ(round_trip("[1, 2, 3,]", make_type(ListType{PrimType::U16, std::nullopt})), "[1, 2, 3]");
  EXPECT_EQ(round_trip("(1, \"a\")", make_type(TupleType{{PrimType::S32, PrimType::String}})), "(1, \"a\")");
  EXPECT_EQ(round_trip("{age: 7, name: \"bo\", tags: []}", record_type()),
            "{name: \"bo\", age: 7, tags: [], nick: none}")
      << "fields in any order; an option field left out is none";
  EXPECT_EQ(round_trip("{:}", make_type(RecordType{})), "{:}");
  EXPECT_EQ(round_trip("some(some(1))", make_type(OptionType{make_type(OptionType{PrimType::U8})})), "some(some(1))");
  auto result = make_type(ResultType{PrimType::String, std::nullopt});
  EXPECT_EQ(round_trip("ok(\"x\")", result), "ok(\"x\")");
  EXPECT_EQ(round_trip("err", result), "err");
  auto variant = make_type(VariantType{{{"red", std::nullopt}, {"rgb", PrimType::U32}}});
  EXPECT_EQ(round_trip("rgb(255)", variant), "rgb(255)");
  EXPECT_EQ(round_trip("%red", variant), "red");
  EXPECT_EQ(round_trip("green", make_type(EnumType{{"red", "green"}})), "green");
  EXPECT_EQ(round_trip("{write, read}", make_type(FlagsType{{"read", "write"}})), "{read, write}");
}

TEST(ValText, BadTextSaysWhatAndWhere) {
  EXPECT_EQ(round_trip("300", PrimType::U8), "error: at byte 0 (`300`): expected a value in range of u8");
  EXPECT_EQ(round_trip("\"open", PrimType::String), "error: at byte 5 (the end): unterminated literal");
  EXPECT_EQ(round_trip("[1, 2", make_type(ListType{PrimType::U8, std::nullopt})),
            "error: at byte 5 (the end): expected `,`");
  EXPECT_EQ(round_trip("{name: \"a\"}", record_type()), "error: at byte 11 (the end): field `age` is missing");
  EXPECT_EQ(round_trip("{nam: 1}", record_type()), "error: at byte 1 (`nam: 1}`): no field `nam` in this record");
  EXPECT_EQ(round_trip("some", make_type(OptionType{PrimType::U8})),
            "error: at byte 4 (the end): case `some` takes a value: `some(...)`");
  EXPECT_EQ(round_trip("1 2", PrimType::U8), "error: at byte 2 (`2`): unexpected text after the value");
  EXPECT_EQ(round_trip("'\\u{D800}'", PrimType::Char),
            "error: at byte 9 (`'`): \\u{...} is not a Unicode scalar value");
  ValType deep_type = PrimType::U8;
  for (int i = 0; i < 150; ++i) deep_type = make_type(ListType{deep_type, std::nullopt});
  EXPECT_NE(round_trip(std::string(150, '['), deep_type).find("nested deeper than 100"), std::string::npos);
}

TEST(ValText, ArgumentsOfACall) {
  std::vector<Field> params{{"who", PrimType::String}, {"times", PrimType::U32}};
  auto args = parse_wave_args("\"bo\", 3", params);
  ASSERT_TRUE(args) << args.error().message;
  ASSERT_EQ(args->size(), 2u);
  EXPECT_EQ((*args)[0].as_string(), "bo");
  EXPECT_EQ((*args)[1].as_unsigned(), 3u);
  EXPECT_TRUE(parse_wave_args("", {}));
  auto missing = parse_wave_args("\"bo\"", params);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "at byte 4 (the end): the function takes 2 arguments, found 1");
  auto wrong = parse_wave_args("\"bo\", x", params);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message, "argument `times`: at byte 6 (`x`): expected a u32");
}

}  // namespace
}  // namespace stratus::component
