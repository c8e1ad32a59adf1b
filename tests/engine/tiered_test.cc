// The tiered engine: a module serves on the interpreter while aot compiles
// it in the background, then on aot; a failed aot compile leaves it on the
// interpreter. The C compiler is a gate (tests/support/gated_cc.h): it compiles only once
// the test opens it, so what the engine reports before is not a race.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/tiered/tiered_engine.h"
#include "tests/support/gated_cc.h"
#include "tests/support/wat.h"

namespace stratus::engine {
namespace {

constexpr std::string_view kAnswer = R"((module
  (global $g (mut i32) (i32.const 0))
  (func (export "answer") (result i32) (global.set $g (i32.add (global.get $g) (i32.const 1))) (i32.const 42))
  (func (export "calls") (result i32) (global.get $g))))";

class TieredTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> make(const std::string& cc) {
    EngineOptions options;
    options.cache_dir = gate_.dir() / "cache";
    options.c_compiler = cc;
    options.log = [this](const std::string& line) {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
    };
    auto made = make_engine("tiered", options);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? std::move(*made) : nullptr;
  }

  std::shared_ptr<Module> compile(Engine& engine, std::string_view wat) {
    auto bytes = testing::wat_to_wasm(wat);
    EXPECT_TRUE(bytes.ok()) << bytes.error().message;
    auto module = engine.compile(*bytes, {.name = "answer.wasm"});
    EXPECT_TRUE(module.ok()) << module.error().message;
    return module.ok() ? *module : nullptr;
  }

  // An instance made the way the component layer makes one: on the tier
  // the engine offers now.
  std::shared_ptr<Instance> instance_now(Engine& engine, const std::shared_ptr<Module>& module, std::string* tier) {
    Engine& on = engine.tier_for(*module);
    *tier = std::string(on.name());
    auto m = engine.on_tier(module, on);
    EXPECT_TRUE(m.ok()) << m.error().message;
    auto made = on.instantiate(*m, {});
    auto* instance = std::get_if<std::shared_ptr<Instance>>(&made);
    EXPECT_NE(instance, nullptr);
    return instance ? *instance : nullptr;
  }

  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

  test_support::GatedCc gate_;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

uint32_t call_i32(Instance& instance, std::string_view name) {
  auto r = instance.call(name, {});
  EXPECT_TRUE(r.ok()) << r.describe();
  return r.ok() ? r.values().at(0).i32() : 0;
}

TEST_F(TieredTest, ServesOnInterpWhileAotCompilesThenOnAot) {
  auto engine = make(gate_.script());
  test_support::GatedCc::OpenOnExit opener{gate_};
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->name(), "tiered");
  auto module = compile(*engine, kAnswer);
  ASSERT_NE(module, nullptr);
  EXPECT_EQ(tier_state(*engine, *module), TierState::Compiling);

  std::string tier;
  auto first = instance_now(*engine, module, &tier);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(tier, "interp");
  EXPECT_EQ(call_i32(*first, "answer"), 42u);
  // The same bytes again (another worker's linker): the same compile.
  auto again = compile(*engine, kAnswer);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(&engine->tier_for(*again), &engine->tier_for(*module));

  gate_.open();
  ASSERT_TRUE(wait_for_tiers(*engine));
  EXPECT_EQ(tier_state(*engine, *module), TierState::Ready);
  EXPECT_EQ(tier_state(*engine, *again), TierState::Ready);
  auto second = instance_now(*engine, module, &tier);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(tier, "aot");
  EXPECT_EQ(call_i32(*second, "answer"), 42u);
  EXPECT_EQ(call_i32(*second, "calls"), 1u);
  // The interpreter's instance goes on where it is, with its own state.
  EXPECT_EQ(call_i32(*first, "answer"), 42u);
  EXPECT_EQ(call_i32(*first, "calls"), 2u);

  auto log = lines();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "component answer.wasm: serving on interp while aot compiles (2 functions)");
  EXPECT_EQ(log[1].rfind("component answer.wasm: now on aot (compiled in ", 0), 0u) << log[1];
}

TEST_F(TieredTest, AModuleOfABatchCompiledAloneFollowsItsBatch) {
  auto engine = make(gate_.script());
  test_support::GatedCc::OpenOnExit opener{gate_};
  ASSERT_NE(engine, nullptr);
  auto a = testing::wat_to_wasm(kAnswer);
  auto b = testing::wat_to_wasm("(module (func (export \"seven\") (result i32) (i32.const 7)))");
  ASSERT_TRUE(a.ok() && b.ok());
  std::span<const uint8_t> both[] = {*a, *b};
  auto batch = engine->compile_many(both, {.name = "pair"});
  ASSERT_TRUE(batch[0].ok() && batch[1].ok());
  auto alone = engine->compile(*b, {.name = "pair"});
  ASSERT_TRUE(alone.ok());
  gate_.open();
  ASSERT_TRUE(wait_for_tiers(*engine));
  EXPECT_EQ(engine->tier_for(**alone).name(), "aot");
  auto on_aot = engine->on_tier(*alone, engine->tier_for(**alone));
  ASSERT_TRUE(on_aot.ok()) << on_aot.error().message;
  auto made = engine->tier_for(**alone).instantiate(*on_aot, {});
  auto* instance = std::get_if<std::shared_ptr<Instance>>(&made);
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(call_i32(**instance, "seven"), 7u);
  EXPECT_EQ(lines().size(), 2u);  // one compile: its start and its end
}

TEST_F(TieredTest, FailedAotCompileStaysOnInterp) {
  auto engine = make((gate_.dir() / "no-such-cc").string());
  ASSERT_NE(engine, nullptr);
  auto module = compile(*engine, kAnswer);
  ASSERT_NE(module, nullptr);
  ASSERT_TRUE(wait_for_tiers(*engine));
  EXPECT_EQ(tier_state(*engine, *module), TierState::Failed);
  std::string tier;
  auto instance = instance_now(*engine, module, &tier);
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(tier, "interp");
  EXPECT_EQ(call_i32(*instance, "answer"), 42u);
  const Engine* aot = aot_tier(*engine);
  ASSERT_NE(aot, nullptr);
  EXPECT_FALSE(engine->on_tier(module, *aot).ok());
  auto log = lines();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].rfind("component answer.wasm: aot compile failed, staying on interp: ", 0), 0u) << log[1];
}

TEST_F(TieredTest, BadModuleIsAnErrorAndStartsNoCompile) {
  auto engine = make(gate_.script());
  test_support::GatedCc::OpenOnExit opener{gate_};
  ASSERT_NE(engine, nullptr);
  const uint8_t junk[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x03, 0x05, 0xff};
  auto module = engine->compile(junk, {.name = "junk.wasm"});
  EXPECT_FALSE(module.ok());
  EXPECT_TRUE(lines().empty());
}

}  // namespace
}  // namespace stratus::engine
