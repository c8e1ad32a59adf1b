// The guest bindings generator's own contract: what it refuses (with
// errors naming the item), the names it gives the core imports and exports
// (which `jco new` checks against the world: the round-trip test builds a
// component), and that every world jco ships either generates or is refused
// for a reason the generator names.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "../jco_wit.h"
#include "wit/guest_bindgen.h"
#include "wit/parser.h"

namespace stratus::wit {
namespace {

Result<GeneratedGuest> generate(const std::string& wit, const std::string& world) {
  auto file = parse_file(wit, "test.wit");
  if (!file.ok()) return std::move(file).error();
  auto packages = packages_of(*file);
  if (!packages.ok()) return std::move(packages).error();
  return generate_guest_cpp(*packages, world, "bindings");
}

std::string error_of(const std::string& wit, const std::string& world) {
  auto g = generate(wit, world);
  return g.ok() ? std::string("(generated)") : g.error().message;
}

TEST(GuestBindgenTest, RefusesWhatTheAsyncRuntimeCannotCarry) {
  EXPECT_EQ(error_of("package a:b; interface i { f: func() -> stream; } world w { import i; }", "w"),
            "interface `a:b/i`, function `f`: a stream without an element type is not supported by the guest "
            "generator");
  EXPECT_EQ(error_of("package a:b; interface i { resource r; f: func(x: stream<r>); } world w { import i; }", "w"),
            "interface `a:b/i`, function `f`: a stream of values holding handles is not supported by the guest "
            "generator");
  EXPECT_EQ(error_of("package a:b; interface i { resource r { f: async func(); } } world w { export i; }", "w"),
            "interface `a:b/i`, function `[method]r.f`: async functions of exported resources are not supported by "
            "the guest generator");
  EXPECT_EQ(error_of("package a:b; interface t { resource r; } interface i { use t.{r}; f: async func(x: borrow<r>); } "
                     "world w { import t; export i; }",
                     "w"),
            "interface `a:b/i`, function `f`: an exported async function's borrow parameters are not supported");
}

TEST(GuestBindgenTest, BorrowsAnExportCannotLift) {
  // A list of borrowed handles is fine to pass to an import ...
  EXPECT_TRUE(
      generate("package a:b; interface i { resource r; f: func(x: list<borrow<r>>); } world w { import i; }", "w")
          .ok());
  // ... but an export would need objects living for the call.
  EXPECT_EQ(error_of("package a:b; interface t { resource r; } interface i { use t.{r}; f: func(x: list<borrow<r>>); } "
                     "world w { export i; }",
                     "w"),
            "interface `a:b/i`, function `f`: borrow<r> inside another type is not supported in exported functions' "
            "parameters");
}

// Async functions, streams and futures: the names wit-component expects
// (`jco new` checks them; the http-p3 example is a component built so).
TEST(GuestBindgenTest, AsyncCoreNamesFollowTheComponentModel) {
  auto g = generate(R"(package a:b;
interface imp {
  g: async func(a: future<u32>, b: stream<string>) -> stream<u8>;
  h: func() -> error-context;
}
interface ex {
  f: async func(s: string) -> result<future<string>, string>;
}
world w { import imp; export ex; export run: async func(); }
)",
                    "w");
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_NE(g->header.find("#include \"stratus_guest_async.h\""), std::string::npos);
  EXPECT_NE(g->runtime.find("class Task"), std::string::npos);
  EXPECT_NE(g->header.find("::stratus_guest::Task<::stratus_guest::StreamReader<uint8_t>> g("
                           "::stratus_guest::FutureReader<uint32_t> a, ::stratus_guest::StreamReader<std::string> b);"),
            std::string::npos)
      << g->header;
  EXPECT_NE(g->header.find("::stratus_guest::ErrorContext h();"), std::string::npos);
  const std::string& s = g->source;
  for (const char* name : {
           // The async import, lowered async, and its types' built-ins
           // numbered as find_futures_and_streams does.
           R"(import_module("a:b/imp"), import_name("[async-lower]g"))",
           R"(import_module("a:b/imp"), import_name("[future-new-0]g"))",
           R"(import_module("a:b/imp"), import_name("[async-lower][future-read-0]g"))",
           R"(import_module("a:b/imp"), import_name("[stream-new-1]g"))",
           R"(import_module("a:b/imp"), import_name("[stream-cancel-write-1]g"))",
           R"(import_module("a:b/imp"), import_name("[stream-drop-readable-2]g"))",
           R"(import_module("a:b/imp"), import_name("[async-lower][stream-write-2]g"))",
           // The async exports, lifted with a callback, and their task.return.
           R"(export_name("[async-lift]a:b/ex#f"))",
           R"(export_name("[callback][async-lift]a:b/ex#f"))",
           R"(import_module("[export]a:b/ex"), import_name("[task-return]f"))",
           R"(import_module("[export]a:b/ex"), import_name("[future-new-0]f"))",
           R"(export_name("[async-lift]run"))",
           R"(import_module("[export]$root"), import_name("[task-return]run"))",
       }) {
    EXPECT_NE(s.find(name), std::string::npos) << name;
  }
  // A lowered async call takes at most 4 flat parameters: g's 3 handles and
  // its out-pointer; its result is the status.
  EXPECT_NE(s.find(R"(import_name("[async-lower]g"))) int32_t bindings_import_)"), std::string::npos);
  // Synchronous worlds need no runtime.
  auto sync = generate("package a:b; world w { export f: func(); }", "w");
  ASSERT_TRUE(sync.ok());
  EXPECT_TRUE(sync->runtime.empty());
  EXPECT_EQ(sync->header.find("stratus_guest_async.h"), std::string::npos);
}

TEST(GuestBindgenTest, UnknownWorld) {
  auto g = generate("package a:b; world w { export f: func(); }", "nope");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("nope"), std::string::npos) << g.error().message;
}

TEST(GuestBindgenTest, CoreNamesFollowTheComponentModel) {
  auto g = generate(R"(package a:b@1.0.0;
interface files {
  resource file {
    constructor(path: string);
    read: func(n: u32) -> list<u8>;
    open: static func(path: string) -> file;
  }
}
interface api {
  use files.{file};
  resource acc {
    constructor();
    get: func() -> u64;
  }
  run: func(f: borrow<file>) -> string;
}
world w {
  import files;
  import log: func(s: string);
  export api;
  export start: func() -> u32;
}
)",
                    "w");
  ASSERT_TRUE(g.ok()) << g.error().message;
  const std::string& h = g->header;
  const std::string& s = g->source;
  for (const char* want : {
           "namespace a::b::files {",
           "class File {",
           "explicit File(std::string_view path);",
           "std::vector<uint8_t> read(uint32_t n) const;",
           "static ::a::b::files::File open(std::string_view path);",
           "namespace w_world {",
           "void log(std::string_view s);",
           "namespace exports::a::b::api {",
           "class Acc {",
           "static std::unique_ptr<Acc> create();",
           "virtual uint64_t get() = 0;",
           "std::string run(const ::a::b::files::File& f);",
           "namespace exports::w_world {",
           "uint32_t start();",
       })
    EXPECT_NE(h.find(want), std::string::npos) << "header lacks " << want << "\n" << h;
  for (const char* want : {
           R"(import_module("a:b/files@1.0.0"), import_name("[constructor]file"))",
           R"(import_module("a:b/files@1.0.0"), import_name("[method]file.read"))",
           R"(import_module("a:b/files@1.0.0"), import_name("[static]file.open"))",
           R"(import_module("a:b/files@1.0.0"), import_name("[resource-drop]file"))",
           R"(import_module("$root"), import_name("log"))",
           R"(import_module("[export]a:b/api@1.0.0"), import_name("[resource-new]acc"))",
           R"(import_module("[export]a:b/api@1.0.0"), import_name("[resource-rep]acc"))",
           R"(import_module("[export]a:b/api@1.0.0"), import_name("[resource-drop]acc"))",
           R"(export_name("a:b/api@1.0.0#[constructor]acc"))",
           R"(export_name("a:b/api@1.0.0#[method]acc.get"))",
           R"(export_name("a:b/api@1.0.0#[dtor]acc"))",
           R"(export_name("a:b/api@1.0.0#run"))",
           R"(export_name("cabi_post_a:b/api@1.0.0#run"))",
           R"(export_name("start"))",
           R"(export_name("cabi_realloc"))",
       })
    EXPECT_NE(s.find(want), std::string::npos) << "source lacks " << want;
  // A result of one flat value needs no post-return function.
  EXPECT_EQ(s.find("cabi_post_start"), std::string::npos);
}

TEST(GuestBindgenTest, EveryWorldJcoShipsGeneratesOrIsRefusedForAReason) {
  namespace fs = std::filesystem;
  size_t generated = 0, refused = 0;
  for (const auto& root : jco_package_roots()) {
    auto parsed = parse_root(root);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    std::set<std::string> have;
    for (const auto& p : *parsed) have.insert(p.name.to_string());
    for (const auto& sibling : fs::directory_iterator(root.parent_path())) {
      if (!sibling.is_directory() || sibling.path() == root) continue;
      auto more = parse_root(sibling.path());
      if (!more.ok()) continue;
      for (auto& p : *more)
        if (have.insert(p.name.to_string()).second) parsed->push_back(std::move(p));
    }
    for (const auto& body : parsed->front().bodies)
      for (const auto& item : body.items)
        if (const auto* w = std::get_if<WorldDecl>(&item)) {
          auto g = generate_guest_cpp(*parsed, w->name, "bindings");
          if (g.ok()) {
            ++generated;
          } else {
            ++refused;
            EXPECT_NE(g.error().message.find("not supported"), std::string::npos)
                << root << " world " << w->name << ": " << g.error().message;
          }
        }
  }
  std::printf("guest bindgen: %zu jco worlds generated, %zu refused\n", generated, refused);
  EXPECT_GT(generated, 10u);
}

}  // namespace
}  // namespace stratus::wit
