// Exception handling (CompileOptions::exceptions) on every backend: tags as
// imports and exports, per-instance tags, payloads, rethrow, and the
// boundaries an exception does not cross. The text format wabt parses has
// the legacy try/catch; try_table is lowered to it (eh_lower_test.cc) and is
// run end to end by the Component Model reference tests (linking/tags.wast).
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "tests/engine/engine_fixture.h"
#include "tests/support/wat.h"

namespace stratus::engine {
namespace {

const CompileOptions kExceptions{.name = "test", .exceptions = true};

class ExceptionsTest : public EngineTest {
 protected:
  std::shared_ptr<Instance> eh_instance(std::string_view wat, std::span<const ImportValue> imports = {},
                                        const InstanceLimits& limits = {}) {
    return instantiate(compile(wat, kExceptions, testing::WatFeatures::All), imports, limits);
  }

  std::vector<ImportValue> exports_as(const std::shared_ptr<Instance>& from, const std::string& module,
                                      std::initializer_list<const char*> names) {
    std::vector<ImportValue> out;
    for (const char* name : names) {
      auto ext = from->get_export(name);
      EXPECT_TRUE(ext.has_value()) << name;
      if (ext) out.push_back({module, name, *ext});
    }
    return out;
  }
};

constexpr const char* kTagModule = R"((module (tag (export "t") (param i32 i64 f64))))";

constexpr const char* kThrower = R"((module
  (import "tags" "t" (tag $t (param i32 i64 f64)))
  (func (export "throw") (param i32)
    (throw $t (local.get 0) (i64.const 0x1122334455667788) (f64.const 2.5)))))";

constexpr const char* kCatcher = R"((module
  (import "tags" "t" (tag $t (param i32 i64 f64)))
  (import "thrower" "throw" (func $throw (param i32)))
  ;; The payload comes back as i32 + (i64 >> 32) + trunc(f64).
  (func (export "catch") (param i32) (result i32)
    (local $a i32) (local $b i64) (local $c f64)
    (try (result i32)
      (do (call $throw (local.get 0)) (i32.const -1))
      (catch $t
        (local.set $c) (local.set $b) (local.set $a)
        (i32.add (i32.add (local.get $a) (i32.wrap_i64 (i64.shr_u (local.get $b) (i64.const 32))))
                 (i32.trunc_f64_s (local.get $c))))
      (catch_all (i32.const -2))))))";

TEST_P(ExceptionsTest, TagsAreExportedImportedAndMatchedAcrossInstances) {
  auto tags = eh_instance(kTagModule);
  ASSERT_TRUE(tags);
  auto tag = tags->get_export("t");
  ASSERT_TRUE(tag.has_value());
  ASSERT_EQ(kind_of(*tag), ExternKind::Tag);
  EXPECT_EQ(std::get<std::shared_ptr<Tag>>(*tag)->type(), (TagType{{ValType::I32, ValType::I64, ValType::F64}}));
  auto tag_imports = exports_as(tags, "tags", {"t"});
  auto thrower = eh_instance(kThrower, tag_imports);
  ASSERT_TRUE(thrower);
  auto imports = tag_imports;
  for (auto& i : exports_as(thrower, "thrower", {"throw"})) imports.push_back(i);
  auto catcher = eh_instance(kCatcher, imports);
  ASSERT_TRUE(catcher);
  auto r = catcher->call("catch", std::vector{Value::i32(40)});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), 40u + 0x11223344u + 2u);
}

TEST_P(ExceptionsTest, EachInstanceDefinesItsOwnTag) {
  // Two instances of one module: the catcher imports the first one's tag, so
  // a throw of the second one's passes its `catch $t` and lands in catch_all.
  auto tags_a = eh_instance(kTagModule);
  auto tags_b = eh_instance(kTagModule);
  ASSERT_TRUE(tags_a && tags_b);
  auto thrower_b = eh_instance(kThrower, exports_as(tags_b, "tags", {"t"}));
  ASSERT_TRUE(thrower_b);
  auto imports = exports_as(tags_a, "tags", {"t"});
  for (auto& i : exports_as(thrower_b, "thrower", {"throw"})) imports.push_back(i);
  auto catcher = eh_instance(kCatcher, imports);
  ASSERT_TRUE(catcher);
  auto r = catcher->call("catch", std::vector{Value::i32(1)});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), static_cast<uint32_t>(-2));
}

TEST_P(ExceptionsTest, UncaughtExceptionIsATrapAndRethrowKeepsThePayload) {
  auto m = eh_instance(R"((module
    (tag $t (param i32))
    (func $throw (export "throw") (param i32) (throw $t (local.get 0)))
    (func $rethrow (export "rethrow") (param i32)
      (try (do (call $throw (local.get 0))) (catch_all (rethrow 0))))
    (func (export "outer") (param i32) (result i32)
      (try (result i32) (do (call $rethrow (local.get 0)) (i32.const 0)) (catch $t)))))");
  ASSERT_TRUE(m);
  auto uncaught = m->call("throw", std::vector{Value::i32(3)});
  ASSERT_TRUE(uncaught.trapped()) << uncaught.describe();
  EXPECT_NE(uncaught.trap().message.find("uncaught exception"), std::string::npos) << uncaught.trap().message;
  auto r = m->call("outer", std::vector{Value::i32(77)});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), 77u);
  // The instance still works after the trap.
  auto again = m->call("outer", std::vector{Value::i32(5)});
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_EQ(again.values()[0].i32(), 5u);
}

TEST_P(ExceptionsTest, AnExceptionDoesNotCrossAHostFunction) {
  // wasm `try` -> host function -> wasm `throw`: the throw traps at the host
  // boundary, the host function returns that trap, and the outer `try`
  // cannot catch a trap.
  auto thrower = eh_instance(R"((module
    (tag $t (export "t"))
    (func (export "throw") (throw $t))))");
  ASSERT_TRUE(thrower);
  auto inner = thrower->func("throw");
  ASSERT_TRUE(inner);
  std::string seen;
  auto host = engine_->host_func(FuncType{}, [&](Caller&, std::span<const Value>, std::span<Value>) {
    auto r = inner->call({});
    seen = r.describe();
    return r.trapped() ? std::optional<Trap>(r.trap()) : std::nullopt;
  });
  std::vector<ImportValue> imports = exports_as(thrower, "m", {"t"});
  imports.push_back({"host", "f", host});
  auto outer = eh_instance(R"((module
    (import "m" "t" (tag $t))
    (import "host" "f" (func $f))
    (func (export "run") (result i32)
      (try (result i32) (do (call $f) (i32.const 1)) (catch $t (i32.const 2)) (catch_all (i32.const 3))))))",
                           imports);
  ASSERT_TRUE(outer);
  auto r = outer->call("run", {});
  ASSERT_TRUE(r.trapped()) << r.describe();
  EXPECT_NE(seen.find("uncaught exception"), std::string::npos) << seen;
}

TEST_P(ExceptionsTest, CatchingFromDeepRecursionRestoresTheCallDepth) {
  // One call catches 50 throws, each from 150 frames down; if the frames a
  // throw skipped were still counted, the 200-deep limit would trap at the
  // second.
  InstanceLimits limits;
  limits.max_call_depth = 200;
  auto m = eh_instance(R"((module
    (tag $t (param i32))
    (func $down (param i32)
      (if (i32.eqz (local.get 0)) (then (throw $t (i32.const 9))))
      (call $down (i32.sub (local.get 0) (i32.const 1))))
    (func $once (result i32)
      (try (result i32) (do (call $down (i32.const 150)) (i32.const 0)) (catch $t)))
    (func (export "run") (param $n i32) (result i32) (local $sum i32)
      (loop $again
        (local.set $sum (i32.add (local.get $sum) (call $once)))
        (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $sum))))",
                       {}, limits);
  ASSERT_TRUE(m);
  auto r = m->call("run", std::vector{Value::i32(50)});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), 450u);
}

TEST_P(ExceptionsTest, TagsOnlyWhenAskedForAndImportTypesChecked) {
  auto bytes = testing::wat_to_wasm(kTagModule, testing::WatFeatures::All);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_FALSE(engine_->compile(*bytes, {.name = "tags"}).ok());
  auto tags = eh_instance(kTagModule);
  ASSERT_TRUE(tags);
  auto module = compile(R"((module (import "tags" "t" (tag (param i32)))))", kExceptions, testing::WatFeatures::All);
  ASSERT_TRUE(module);
  auto result = engine_->instantiate(module, exports_as(tags, "tags", {"t"}));
  ASSERT_TRUE(std::holds_alternative<Error>(result));
  EXPECT_NE(std::get<Error>(result).message.find("t"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, ExceptionsTest, ::testing::Values("aot", "interp", "aot_split"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::engine
