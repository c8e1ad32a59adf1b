// Resolving WIT into the component type model. The main check is a round
// trip over every jco fixture component: the decoder's type of it, printed
// as WIT, parsed and resolved again, must print the same. Printing reads the
// type model (names, resources, instance types), so the two agree.
#include "wit/resolve.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "component/binary/decoder.h"
#include "component/wit_print.h"
#include "support/file.h"
#include "wit/host_bindgen.h"

#include "jco_wit.h"

namespace stratus::wit {
namespace {

namespace fs = std::filesystem;

Result<component::ComponentTypePtr> resolve_text(const std::string& text, const std::string& world) {
  auto f = parse_file(text, "test.wit");
  if (!f.ok()) return std::move(f).error();
  auto packages = packages_of(*f);
  if (!packages.ok()) return std::move(packages).error();
  return resolve_world(*packages, world);
}

TEST(WitResolveTest, JcoFixtureWorldsRoundTrip) {
  size_t matched = 0, total = 0;
  for (const char* dir : {"runtime", "p3"}) {
    fs::path root = fs::path(STRATUS_FIXTURES_DIR) / "jco" / dir;
    if (!fs::exists(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.path().extension() != ".wasm") continue;
      auto bytes = read_file(e.path());
      ASSERT_TRUE(bytes.ok());
      auto c = component::decode_component(*bytes);
      if (!c.ok()) continue;  // core modules live there too
      ++total;
      std::string printed = component::print_wit(*(*c)->type);
      auto resolved = resolve_text(printed, "root");
      if (!resolved.ok()) {
        ADD_FAILURE() << e.path() << ": " << resolved.error().message << "\n" << printed;
        continue;
      }
      std::string again = component::print_wit(**resolved);
      EXPECT_EQ(again, printed) << e.path();
      if (again == printed) ++matched;
    }
  }
  std::printf("wit-resolve round trip: %zu of %zu fixture worlds\n", matched, total);
  EXPECT_GT(total, 20u);
}

TEST(WitResolveTest, EveryWorldJcoShipsResolves) {
  // Every world of every package root (WASI 0.2 and 0.3, jco's own),
  // with `use` and `include` across packages and deps/.
  size_t worlds = 0, imports = 0;
  for (const auto& root : jco_package_roots()) {
    auto parsed = parse_root(root);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    // jco keeps each WASI release's packages side by side (wasi-io next to
    // wasi-clocks), and loads them together: so do we.
    std::set<std::string> have;
    for (const auto& p : *parsed) have.insert(p.name.to_string());
    for (const auto& sibling : fs::directory_iterator(root.parent_path())) {
      if (!sibling.is_directory() || sibling.path() == root) continue;
      auto more = parse_root(sibling.path());
      if (!more.ok()) continue;  // not a package folder
      for (auto& p : *more)
        if (have.insert(p.name.to_string()).second) parsed->push_back(std::move(p));
    }
    for (const auto& body : parsed->front().bodies)
      for (const auto& item : body.items)
        if (const auto* w = std::get_if<WorldDecl>(&item)) {
          auto t = resolve_world(*parsed, w->name);
          ASSERT_TRUE(t.ok()) << root << " world " << w->name << ": " << t.error().message;
          ++worlds;
          imports += (*t)->imports.size();
        }
  }
  std::printf("wit-resolve: %zu jco worlds resolved (%zu imports)\n", worlds, imports);
  EXPECT_GT(worlds, 10u);
}

TEST(WitResolveTest, ResolvedTypesMatchTheirWit) {
  auto t = resolve_text(R"(package a:b@1.0.0;
interface types {
  resource file { constructor(path: string); read: func(n: u32) -> list<u8>; open: static func() -> file; }
  type handle = file;
  record stat { size: u64, kind: kind }
  enum kind { dir, regular }
}
interface api {
  use types.{file, stat as info};
  get: func(f: borrow<file>) -> info;
}
world w {
  import api;
  export run: func() -> result<u32, string>;
}
)",
                        "w");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const auto& c = **t;
  // api's use pulled in types first.
  ASSERT_EQ(c.imports.size(), 2u);
  EXPECT_EQ(c.imports[0].name, "a:b/types@1.0.0");
  EXPECT_EQ(c.imports[1].name, "a:b/api@1.0.0");
  const auto& types = *std::get<component::InstanceTypePtr>(c.imports[0].type);
  std::vector<std::string> names;
  for (const auto& e : types.exports) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"file", "[constructor]file", "[method]file.read", "[static]file.open",
                                             "handle", "stat", "kind"}));
  const auto& file = std::get<component::TypeBound>(types.exports[0].type);
  EXPECT_TRUE(file.sub_resource);
  auto resource = std::get<component::ResourceTypePtr>(file.type);
  const auto& api = *std::get<component::InstanceTypePtr>(c.imports[1].type);
  // `use` re-exports the same resource (eq), not a new one.
  EXPECT_EQ(std::get<component::ResourceTypePtr>(std::get<component::TypeBound>(api.exports[0].type).type), resource);
  const auto& get = *std::get<component::FuncTypePtr>(api.exports[2].type);
  const auto& borrow = std::get<component::BorrowType>(get.params[0].type.defined().kind);
  EXPECT_EQ(borrow.resource, resource);
  ASSERT_TRUE(get.result);
  EXPECT_EQ(get.result->name()->name, "info");
  EXPECT_EQ(std::get<component::RecordType>(get.result->defined().kind).fields.size(), 2u);
  ASSERT_EQ(c.exports.size(), 1u);
  EXPECT_EQ(c.exports[0].name, "run");
}

TEST(WitResolveTest, ErrorsSayFileLineAndColumn) {
  const std::pair<const char*, const char*> cases[] = {
      {"package a:b;\ninterface i {\n  f: func() -> nope;\n}\nworld w { import i; }\n",
       "test.wit:3:16: type `nope` is not defined"},
      {"package a:b;\ninterface i {\n  type x = y;\n  type y = x;\n}\nworld w { import i; }\n",
       "test.wit:4:12: type `x` refers to itself"},
      {"package a:b;\ninterface i {\n  record r { a: u8 }\n  f: func(x: borrow<r>);\n}\nworld w { import i; }\n",
       "test.wit:4:14: `r` is not a resource"},
      {"package a:b;\ninterface i { use j.{t}; }\ninterface j {}\nworld w { import i; }\n",
       "test.wit:2:22: interface `j` has no type `t`"},
      {"package a:b;\nworld w { import x:y/z; }\n", "test.wit:2:18: package of `x:y/z` not found"},
      {"package a:b;\ninterface i { use j.{t}; type t = u8; }\ninterface j { type t = u8; }\nworld w { import i; }\n",
       "test.wit:2:26: `t` is defined more than once"},
      {"package a:b;\ninterface i { use j.{t}; }\ninterface j { use i.{t}; }\nworld w { import i; }\n",
       "test.wit:3:19: interface `i` depends on itself"},
      {"package a:b;\nworld w { include v; }\nworld v { include w; }\n", "test.wit:2:1: world `w` includes itself"},
      // WIT.md's example: t2 refers to a gated t1 without a gate.
      {"package a:b@1.0.1;\ninterface i {\n  @since(version = 1.0.1)\n  type t1 = u32;\n  type t2 = t1;\n}\n"
       "world w { import i; }\n",
       "test.wit:5:13: `t1` is gated `@since(version = 1.0.1)`, so what refers to it must be gated at that version"},
      {"package a:b@1.0.0;\ninterface i {\n  @unstable(feature = x)\n  record r { a: u8 }\n  f: func() -> r;\n}\n"
       "world w { import i; }\n",
       "test.wit:5:16: `r` is gated `@unstable(feature = x)`, so what refers to it must be `@unstable` too"},
      {"package a:b;\nworld w { import f: func(); import f: func(); }\n",
       "test.wit:2:29: import `f` is defined more than once"},
  };
  for (const auto& [text, want] : cases) {
    auto t = resolve_text(text, "w");
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.error().message.rfind(want, 0), 0u) << "got: " << t.error().message << "\nwant: " << want;
  }
  std::string chain = "package a:b;\ninterface i {\n  f: func() -> t0;\n";
  for (int k = 0; k < 5000; ++k) chain += "  type t" + std::to_string(k) + " = t" + std::to_string(k + 1) + ";\n";
  chain += "  type t5000 = u8;\n}\nworld w { import i; }\n";
  auto deep = resolve_text(chain, "w");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("is defined through more than 256 other types"), std::string::npos)
      << deep.error().message;
  // Compatibly gated references resolve.
  auto gated = resolve_text(
      "package a:b@1.0.2;\ninterface i {\n  @since(version = 1.0.1)\n  type t1 = u32;\n  @since(version = 1.0.2)\n"
      "  type t2 = t1;\n  @unstable(feature = x)\n  f: func(a: t1, b: t2);\n}\nworld w { import i; }\n",
      "w");
  EXPECT_TRUE(gated.ok()) << gated.error().message;
  auto missing = resolve_text("package a:b;\nworld w {}\n", "v");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "world `v` not found in package `a:b`");
}

TEST(WitHostBindgenTest, GeneratesPerInterfaceWithStreamsAndANamespace) {
  auto f = parse_file(R"(package a:b@1.0.0;
interface store {
  resource bucket { get: func(key: string) -> option<list<u8>>; }
  open: func(name: string) -> result<bucket, error>;
  variant error { no-such-bucket, other(string) }
}
interface events { watch: func() -> stream<u8>; }
world w { import store; import events; }
)",
                      "gen.wit");
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto packages = packages_of(*f);
  ASSERT_TRUE(packages.ok());
  auto only_store = generate_host(*packages, "w", "gen", {"a:b/store"});
  ASSERT_TRUE(only_store.ok()) << only_store.error().message;
  const std::string& h = only_store->header;
  for (const char* want : {"namespace a::b::store {", "using Bucket = ::stratus::wit::Own<BucketTag>;",
                           "virtual void drop_bucket(uint32_t rep) = 0;",
                           "bucket_get(const ::a::b::store::BucketBorrow& self, const std::string& key)",
                           "::stratus::wit::WitResult<::a::b::store::Bucket, ::a::b::store::Error>> open(",
                           "struct ErrorOther {\n  std::string value{};"})
    EXPECT_NE(h.find(want), std::string::npos) << want << "\n" << h;
  EXPECT_EQ(h.find("namespace a::b::events"), std::string::npos);
  EXPECT_NE(only_store->source.find("#include \"gen.h\""), std::string::npos);

  auto all = generate_host(*packages, "w", "gen", {}, "v1");
  ASSERT_TRUE(all.ok()) << all.error().message;
  for (const char* want :
       {"namespace v1::a::b::events {", "::stratus::wit::HostResult<::stratus::wit::Stream<uint8_t>> watch()",
        "::v1::a::b::store::Bucket"})
    EXPECT_NE(all->header.find(want), std::string::npos) << want << "\n" << all->header;
  // Deferred: store's sync-typed functions get a Reply, as async ones do;
  // events, not named, keeps its direct form.
  auto deferred = generate_host(*packages, "w", "gen", {}, "", {"a:b/store"});
  ASSERT_TRUE(deferred.ok()) << deferred.error().message;
  for (const char* want : {"bucket_get(const ::a::b::store::BucketBorrow& self, const std::string& key, "
                           "::stratus::wit::Reply<",
                           "::stratus::component::AsyncHostFuncCallback(",
                           "::stratus::wit::HostResult<::stratus::wit::Stream<uint8_t>> watch()"})
    EXPECT_TRUE(deferred->header.find(want) != std::string::npos || deferred->source.find(want) != std::string::npos)
        << want << "\n"
        << deferred->header;
  EXPECT_EQ(deferred->header.find("HostResult<::stratus::wit::WitResult<::a::b::store::Bucket"), std::string::npos)
      << "open answers through a Reply";
  auto none = generate_host(*packages, "w", "gen", {"a:b/nothing"});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("imports no interface to generate"), std::string::npos);
}

}  // namespace
}  // namespace stratus::wit
