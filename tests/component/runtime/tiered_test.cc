// A component on the tiered engine: instances made while aot compiles run
// on the interpreter, those made after on aot; an instance of an older
// tier refuses reset() once aot is ready, saying so (a pool makes its next
// one anew, on aot), and a failed aot compile leaves the component on the
// interpreter.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "engine/tiered/tiered_engine.h"
#include "support/file.h"
#include "tests/support/gated_cc.h"

namespace stratus::component {
namespace {

class TieredComponentTest : public testing::Test {
 protected:
  void SetUp() override {
    auto bytes = read_file(std::string(STRATUS_COMPONENTS_DIR) + "/basics.wasm");
    ASSERT_TRUE(bytes.ok());
    auto component = decode_component(*bytes);
    ASSERT_TRUE(component.ok()) << component.error().message;
    component_ = *component;
  }

  std::unique_ptr<engine::Engine> make(const std::string& cc) {
    engine::EngineOptions options;
    options.cache_dir = (gate_.dir() / "cache").string();
    options.c_compiler = cc;
    options.log = [](const std::string&) {};
    return std::move(engine::make_engine("tiered", options)).value();
  }

  static void define_imports(Linker& linker) {
    auto type = [](std::vector<Field> params, std::optional<ValType> result) {
      auto t = std::make_shared<FuncType>();
      t->params = std::move(params);
      t->result = std::move(result);
      return t;
    };
    using Out = std::variant<std::optional<Val>, engine::Trap>;
    ASSERT_TRUE(
        linker
            .define_func("log", {type({{"msg", PrimType::String}}, std::nullopt),
                                 [](CallContext&, std::span<const Val>) -> Out { return std::optional<Val>(); }})
            .ok());
    ASSERT_TRUE(linker
                    .define_func("double", {type({{"x", PrimType::U32}}, PrimType::U32),
                                            [](CallContext&, std::span<const Val> args) -> Out {
                                              return std::optional<Val>(Val::u32(args[0].as_unsigned() * 2));
                                            }})
                    .ok());
  }

  static void expect_works(ComponentInstance& instance) {
    std::vector<Val> args = {Val::u32(40), Val::u32(2)};
    auto added = instance.call("add", args);
    ASSERT_TRUE(added.returned());
    EXPECT_EQ(*added.result(), Val::u32(42));
    std::vector<Val> host_args = {Val::string("four")};
    auto hosted = instance.call("call-host", host_args);
    ASSERT_TRUE(hosted.returned());
    EXPECT_EQ(*hosted.result(), Val::u32(8));
  }

  test_support::GatedCc gate_;
  ComponentPtr component_;
};

TEST_F(TieredComponentTest, InterpAtOnceThenAot) {
  auto engine = make(gate_.script());
  test_support::GatedCc::OpenOnExit opener{gate_};
  Linker linker(*engine);
  define_imports(linker);
  ASSERT_TRUE(linker.precompile(component_, "basics").ok());
  auto first = linker.instantiate(component_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ((*first)->engine_name(), "interp");
  expect_works(**first);

  gate_.open();
  ASSERT_TRUE(engine::wait_for_tiers(*engine));
  auto second = linker.instantiate(component_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ((*second)->engine_name(), "aot");
  expect_works(**second);
  EXPECT_TRUE((*second)->reset().ok());
  expect_works(**second);

  // The interpreter's instance still serves, but a pool must not reuse it.
  expect_works(**first);
  auto reset = (*first)->reset();
  ASSERT_FALSE(reset.ok());
  EXPECT_NE(reset.error().message.find("instantiate anew"), std::string::npos) << reset.error().message;

  // Another linker (a new worker) gets aot straight away.
  Linker other(*engine);
  define_imports(other);
  auto third = other.instantiate(component_);
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ((*third)->engine_name(), "aot");
  expect_works(**third);
}

TEST_F(TieredComponentTest, FailedAotCompileStaysOnInterp) {
  auto engine = make((gate_.dir() / "no-such-cc").string());
  Linker linker(*engine);
  define_imports(linker);
  auto first = linker.instantiate(component_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(engine::wait_for_tiers(*engine));
  auto second = linker.instantiate(component_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ((*first)->engine_name(), "interp");
  EXPECT_EQ((*second)->engine_name(), "interp");
  expect_works(**second);
  // The interpreter cannot reset in place (a pool makes a new instance,
  // as ever); nothing says aot is ready.
  auto reset = (*first)->reset();
  ASSERT_FALSE(reset.ok());
  EXPECT_EQ(reset.error().message.find("instantiate anew"), std::string::npos) << reset.error().message;
  expect_works(**second);
}

}  // namespace
}  // namespace stratus::component
