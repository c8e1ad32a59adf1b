// The WIT parser on every package jco ships, on a file using each construct
// of WIT.md, and on malformed text (errors must say file:line:column).
#include "wit/parser.h"

#include "jco_wit.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <set>

namespace stratus::wit {
namespace {

namespace fs = std::filesystem;

template <class T, class V>
const T& as(const V& v) {
  return std::get<T>(v);
}

TEST(WitParserTest, EveryPackageJcoShipsParses) {
  // Each folder of *.wit files (outside deps/) is a package root; between
  // them they cover every file.
  size_t roots = 0, packages = 0;
  std::set<std::string> files, covered;
  for (const auto& e : fs::recursive_directory_iterator(STRATUS_JCO_WIT_DIR))
    if (e.is_regular_file() && e.path().extension() == ".wit") files.insert(e.path().string());
  for (const auto& root : jco_package_roots()) {
    auto parsed = parse_root(root);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ++roots;
    packages += parsed->size();
    for (const auto& p : *parsed) covered.insert(p.files.begin(), p.files.end());
  }
  std::printf("wit-jco: %zu package roots (%zu packages, %zu files) parsed\n", roots, packages, covered.size());
  EXPECT_GT(files.size(), 30u);
  EXPECT_EQ(covered, files);
}

constexpr const char* kEverything = R"(package example:all@1.2.3-rc.1+build.5;

/// The types.
interface types {
  use wasi:io/streams@0.2.0.{input-stream, output-stream as out};
  type id = u64;
  record pair { x: u32, y: list<u8, 4>, }
  /** A choice. */
  variant filter { all, none, some(list<string>) }
  enum color { red, green, %blue }
  flags perms { read, write }
  resource blob {
    constructor(init: list<u8>);
    write: func(bytes: list<u8>);
    merge: static func(lhs: borrow<blob>, rhs: borrow<blob>) -> blob;
    @since(version = 1.2.0)
    size: async func() -> u64;
  }
  resource handle;
  f: func(a: tuple<u8, s16, f64>, b: option<char>) -> result<_, string>;
  g: func() -> result;
  h: func(m: map<string, u32>, s: stream<u8>, fut: future) -> result<u32>;
  %variant: func(%enum: s32);
}

@unstable(feature = fancy)
world service {
  import types;
  import wasi:clocks/monotonic-clock@0.2.0;
  import primary: wasi:keyvalue/store;
  import log: func(msg: string);
  export run: interface {
    go: func() -> bool;
  }
  include other with { a as b, c as d }
  use types.{id};
  type local = list<id>;
}

world other {}

package nested:pkg {
  interface i {}
}
)";

TEST(WitParserTest, EveryConstructParses) {
  auto f = parse_file(kEverything, "everything.wit");
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_TRUE(f->top.name);
  EXPECT_EQ(f->top.name->to_string(), "example:all@1.2.3-rc.1+build.5");
  ASSERT_EQ(f->top.items.size(), 3u);
  const auto& types = as<InterfaceDecl>(f->top.items[0]);
  EXPECT_EQ(types.name, "types");
  EXPECT_EQ(types.attrs.docs, "The types.\n");
  EXPECT_EQ(types.pos.line, 4u);
  const auto& use = as<UseDecl>(types.items[0]);
  EXPECT_EQ(use.from.to_string(), "wasi:io/streams@0.2.0");
  ASSERT_EQ(use.names.size(), 2u);
  EXPECT_EQ(use.names[1].as, "out");
  const auto& pair = as<TypeDecl>(types.items[2]);
  EXPECT_EQ(pair.kind, TypeDecl::Kind::Record);
  ASSERT_EQ(pair.fields.size(), 2u);
  EXPECT_EQ(pair.fields[1].type->length, 4u);
  const auto& filter = as<TypeDecl>(types.items[3]);
  EXPECT_EQ(filter.attrs.docs, "A choice.\n");
  ASSERT_EQ(filter.cases.size(), 3u);
  EXPECT_EQ(filter.cases[2].type->kind, Type::Kind::List);
  EXPECT_EQ(as<TypeDecl>(types.items[4]).cases[2].name, "blue");  // `%blue`
  const auto& blob = as<TypeDecl>(types.items[6]);
  ASSERT_EQ(blob.funcs.size(), 4u);
  EXPECT_EQ(blob.funcs[0].kind, ResourceFunc::Kind::Constructor);
  EXPECT_EQ(blob.funcs[2].kind, ResourceFunc::Kind::Static);
  EXPECT_EQ(blob.funcs[2].sig.params[0].type->kind, Type::Kind::Borrow);
  EXPECT_TRUE(blob.funcs[3].sig.async);
  EXPECT_EQ(blob.funcs[3].attrs.gates.since, "1.2.0");
  const auto& fn = as<FuncDecl>(types.items[8]);
  EXPECT_EQ(fn.sig.params[0].type->args.size(), 3u);
  EXPECT_EQ(fn.sig.result->kind, Type::Kind::Result);
  EXPECT_EQ(fn.sig.result->args[0], nullptr);
  EXPECT_EQ(fn.sig.result->args[1]->prim, component::PrimType::String);
  const auto& h = as<FuncDecl>(types.items[10]);
  EXPECT_EQ(h.sig.params[0].type->kind, Type::Kind::Map);
  EXPECT_EQ(h.sig.params[2].type->args[0], nullptr);  // a bare `future`
  EXPECT_EQ(as<FuncDecl>(types.items[11]).name, "variant");

  const auto& world = as<WorldDecl>(f->top.items[1]);
  EXPECT_EQ(world.attrs.gates.unstable, "fancy");
  ASSERT_EQ(world.items.size(), 8u);
  EXPECT_EQ(as<ExternDecl>(world.items[0]).path->to_string(), "types");
  EXPECT_EQ(as<ExternDecl>(world.items[1]).path->to_string(), "wasi:clocks/monotonic-clock@0.2.0");
  const auto& primary = as<ExternDecl>(world.items[2]);
  EXPECT_EQ(primary.name, "primary");
  EXPECT_EQ(primary.path->to_string(), "wasi:keyvalue/store");
  EXPECT_TRUE(as<ExternDecl>(world.items[3]).func);
  const auto& run = as<ExternDecl>(world.items[4]);
  EXPECT_FALSE(run.import);
  ASSERT_NE(run.interface, nullptr);
  EXPECT_EQ(run.interface->items.size(), 1u);
  const auto& inc = as<IncludeDecl>(world.items[5]);
  ASSERT_EQ(inc.with.size(), 2u);
  EXPECT_EQ(inc.with[1].to, "d");
  ASSERT_EQ(f->nested.size(), 1u);
  EXPECT_EQ(f->nested[0].name->to_string(), "nested:pkg");
}

TEST(WitParserTest, ErrorsSayFileLineAndColumn) {
  const std::pair<const char*, const char*> cases[] = {
      {"package a:b;\ninterface i {\n  f: func(x: u32) -> ;\n}\n", "bad.wit:3:22: expected a type"},
      {"package a:b;\ninterface i {\n  record r {}\n}\n", "bad.wit:3:13: a record must have at least one entry"},
      {"package a:b;\ninterface i {\n  Foo-bar: func();\n}\n", "bad.wit:3:3: `Foo-bar` is not a valid identifier"},
      {"package a:b;\ninterface i {\n  type: func();\n}\n", "bad.wit:3:7: expected a type name, found `:`"},
      {"package a:b;\ninterface i {\n  variant: func();\n}\n", "bad.wit:3:10: expected a type name"},
      {"package a:b@1.0;\n", "bad.wit:1:13: expected a semantic version"},
      {"package a:b;\ninterface i {\n  f: func(x: u32, x: u32);\n}\n", "bad.wit:3:19: parameter `x` is repeated"},
      {"package a:b;\n/* open\n", "bad.wit:2:1: unterminated block comment"},
      {"package a:b;\ninterface i { f: func(s: string) -> list<u8, 0>; }\n", "bad.wit:2:46: expected a list length"},
      {"package a:b;\ninterface i { f: func(m: map<f32, u8>); }\n", "bad.wit:2:30: a map key must be"},
      {"package a:b;\nworld w {\n  import a:b;\n}\n", "bad.wit:3:13: expected `/`"},
      {"package a:b;\ninterface i {\n  @since(version = 1.0.0) @unstable(feature = x)\n  f: func();\n}\n",
       "bad.wit:4:3: an item cannot be both"},
      {"package a:b;\ninterface i { f: func(); }\x01", "bad.wit:2:27: character U+0001 is not allowed"},
      {"package a:b;\ninterface i { f: func(s: string) -> \"x\"; }\n", "bad.wit:2:37: expected a type, found a string"},
      {"package a:b;\ninterface i {\n", "bad.wit:3:1: expected `}`, found end of file"},
      {"interface i {}\npackage a:b;\n", "bad.wit:2:1: a `package` declaration must come first"},
  };
  std::string deep = "package a:b;\ninterface i { type t = ";
  for (int i = 0; i < 5000; ++i) deep += "list<";
  const std::pair<std::string, const char*> deep_case = {deep, "bad.wit:2:524: type nested more than 100 levels deep"};
  auto d = parse_file(deep_case.first, "bad.wit");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, deep_case.second);
  for (const auto& [text, want] : cases) {
    auto f = parse_file(text, "bad.wit");
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.error().message.rfind(want, 0), 0u) << "got: " << f.error().message << "\nwant: " << want;
  }
}

TEST(WitParserTest, FeatureGateRules) {
  auto check = [](const std::string& text) -> Result<void> {
    auto f = parse_file(text, "gates.wit");
    if (!f.ok()) return std::move(f).error();
    auto p = packages_of(*f);
    if (!p.ok()) return std::move(p).error();
    return {};
  };
  // WASI's way: every item of a gated interface is gated too.
  EXPECT_TRUE(check("package a:b@0.2.1;\n@unstable(feature = tz)\ninterface i {\n  @unstable(feature = tz)\n"
                    "  f: func();\n}\n@since(version = 0.2.0)\ninterface j {\n  @since(version = 0.2.1)\n"
                    "  g: func();\n  @unstable(feature = x)\n  h: func();\n}\n")
                  .ok());
  // An ungated item of a `@since` interface is the interface's (wit-parser
  // takes it so, and WASI 0.3's release candidates rely on it).
  EXPECT_TRUE(check("package a:b@0.3.0;\n@since(version = 0.3.0)\ninterface t {\n  @since(version = 0.3.0)\n"
                    "  type d = u64;\n}\n@since(version = 0.3.0)\ninterface i {\n  use t.{d};\n"
                    "  f: func() -> d;\n  resource r {\n    g: func();\n  }\n}\n")
                  .ok());
  const std::pair<const char*, const char*> cases[] = {
      {"package a:b@1.0.0;\n@since(version = 1.0.2)\ninterface i {\n  @since(version = 1.0.1)\n  bar: func();\n}\n",
       "gates.wit:5:3: an item of interface `i` cannot be `@since(version = 1.0.1)`"},
      {"package a:b@1.0.0;\n@unstable(feature = x)\nworld w {\n  import f: func();\n}\n",
       "gates.wit:4:3: an item of world `w` (`@unstable(feature = x)`) must be `@unstable` too"},
      {"package a:b;\n@since(version = 1.0.0)\ninterface i {}\n",
       "gates.wit:3:1: package `a:b` uses feature gates, so it must have a version"},
      {"package a:b@1.0.0;\ninterface i {\n  @unstable(feature = x)\n  resource r {\n    f: func();\n  }\n}\n",
       "gates.wit:5:5: an item of resource `r` (`@unstable(feature = x)`) must be `@unstable` too"},
  };
  for (const auto& [text, want] : cases) {
    auto r = check(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().message.rfind(want, 0), 0u) << "got: " << r.error().message << "\nwant: " << want;
  }
}

TEST(WitParserTest, SemanticVersions) {
  for (const char* v : {"0.2.0", "1.2.3-rc.1", "0.2.0-rc-2023-11-10", "1.0.0+build.7", "10.20.30-alpha.1+b"})
    EXPECT_TRUE(is_semver(v)) << v;
  for (const char* v : {"1.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1..0", "a.b.c", "1.0.0-a..b"})
    EXPECT_FALSE(is_semver(v)) << v;
}

TEST(WitParserTest, FoldersAndDependencies) {
  fs::path root = fs::temp_directory_path() / ("stratus-wit-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "deps" / "io");
  auto write = [](const fs::path& p, const std::string& text) {
    FILE* f = std::fopen(p.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  };
  write(root / "a.wit", "package my:app;\nworld w { import wasi:io/streams@0.2.0; }\n");
  write(root / "b.wit", "interface helper { f: func(); }\n");
  write(root / "deps" / "io" / "streams.wit", "package wasi:io@0.2.0;\ninterface streams { resource s; }\n");
  write(root / "deps" / "single.wit", "package other:lib;\ninterface x {}\n");
  auto parsed = parse_root(root);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].name.to_string(), "my:app");
  EXPECT_EQ((*parsed)[0].bodies.size(), 2u);
  EXPECT_EQ((*parsed)[1].name.to_string(), "wasi:io@0.2.0");
  EXPECT_EQ((*parsed)[2].name.to_string(), "other:lib");

  write(root / "c.wit", "package my:other;\n");
  auto clash = parse_root(root);
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("c.wit:1:9: package `my:other` differs from `my:app`"), std::string::npos)
      << clash.error().message;
  fs::remove_all(root);
}

TEST(WitParserTest, FuzzSeedsParse) {
  // The seed corpus of fuzz/wit_parse: valid WIT, so fuzzing starts from
  // text that gets past the parser.
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(STRATUS_SOURCE_DIR) / "fuzz/seeds/wit_parse")) {
    FILE* f = std::fopen(e.path().c_str(), "rb");
    ASSERT_NE(f, nullptr);
    std::string text;
    char buf[4096];
    for (size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, got);
    std::fclose(f);
    auto parsed = parse_file(text, e.path().string());
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    ++n;
  }
  EXPECT_GE(n, 2u);
}

}  // namespace
}  // namespace stratus::wit
