// examples/todo's JSON (examples/todo/src/json.cc), compiled natively: the
// request body's object with every value checked, errors with their byte,
// and string literals for the responses.
#include "examples/todo/src/json.h"

#include <gtest/gtest.h>

namespace todo::json {
namespace {

TEST(TodoJson, ReadsTheTopLevelMembers) {
  auto m =
      parse_object(R"( {"title": "caf\u00e9 \ud83d\ude00 \"x\"\n", "done": true, "tags": [1, -2.5e3, {"a": null}]} )");
  ASSERT_TRUE(m) << m.error();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].key, "title");
  EXPECT_EQ((*m)[0].string, "café \xf0\x9f\x98\x80 \"x\"\n");
  EXPECT_EQ((*m)[1].key, "done");
  EXPECT_FALSE((*m)[1].string);
  EXPECT_FALSE((*m)[2].string);
  EXPECT_TRUE(parse_object("{}"));
}

TEST(TodoJson, BadDocumentsSayWhatAndWhere) {
  auto error = [](std::string_view text) {
    auto m = parse_object(text);
    return m ? std::string("parsed") : m.error();
  };
  EXPECT_EQ(error(""), "at byte 0: expected a JSON object");
  EXPECT_EQ(error("[1]"), "at byte 0: expected a JSON object");
  EXPECT_EQ(error(R"({"title": "x"} x)"), "at byte 15: text after the object");
  EXPECT_EQ(error(R"({"title" "x"})"), "at byte 9: expected ':'");
  EXPECT_EQ(error(R"({"title": "x",})"), "at byte 14: expected a member name in quotes");
  EXPECT_EQ(error(R"({"title": "unfinished)"), "at byte 10: a string without its closing quote");
  EXPECT_EQ(error(R"({"title": "\q"})"), "at byte 12: an unknown escape");
  EXPECT_EQ(error(R"({"title": "\ud800"})"), "at byte 17: a lone surrogate");
  EXPECT_EQ(error(R"({"n": 01})"), "at byte 7: expected ',' or '}'");
  EXPECT_EQ(error(R"({"n": -})"), "at byte 7: a number without digits");
  EXPECT_EQ(error(R"({"n": tru})"), "at byte 6: expected a value");
  EXPECT_EQ(error("{\"title\": \"a\x01\"}"), "at byte 12: a control character in a string");
  EXPECT_EQ(error("{\"title\": \"\xc3\x28\"}"), "at byte 11: invalid UTF-8");
  EXPECT_EQ(error("{\"title\": \"\xed\xa0\x80\"}"), "at byte 11: invalid UTF-8") << "an encoded surrogate";
  EXPECT_EQ(error(std::string(200, '[')), "at byte 0: expected a JSON object");
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(error(deep), "at byte 69: nested too deep");
}

TEST(TodoJson, QuotesWhatNeedsEscaping) {
  EXPECT_EQ(quote("plain"), "\"plain\"");
  EXPECT_EQ(quote("'); DROP TABLE todos; --"), "\"'); DROP TABLE todos; --\"");
  EXPECT_EQ(quote("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
  EXPECT_EQ(quote("café"), "\"café\"");
}

}  // namespace
}  // namespace todo::json
