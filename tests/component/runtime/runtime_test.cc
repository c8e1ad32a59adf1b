// The component runtime end to end: components written as text (built with
// jco parse by the build), decoded, instantiated on both engine backends and
// called from the host.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "support/trace_slot.h"

namespace stratus::component {
namespace {

FuncTypePtr func_type(std::vector<Field> params, std::optional<ValType> result) {
  auto t = std::make_shared<FuncType>();
  t->params = std::move(params);
  t->result = std::move(result);
  return t;
}

class RuntimeTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<Linker>(*engine_);
  }

  ComponentPtr load(const std::string& name) {
    auto bytes = read_file(std::string(STRATUS_COMPONENTS_DIR) + "/" + name + ".wasm");
    EXPECT_TRUE(bytes.ok()) << name;
    auto component = decode_component(*bytes);
    EXPECT_TRUE(component.ok()) << name << ": " << component.error().message;
    return *component;
  }

  std::shared_ptr<ComponentInstance> instantiate(const std::string& name) {
    auto instance = linker_->instantiate(load(name));
    EXPECT_TRUE(instance.ok()) << name << ": " << instance.error().message;
    return instance.ok() ? *instance : nullptr;
  }

  static Val returned(const CallOutcome& outcome) {
    EXPECT_TRUE(outcome.returned()) << (outcome.trapped()  ? "trap: " + outcome.trap().message
                                        : outcome.failed() ? "error: " + outcome.error().message
                                                           : "");
    if (!outcome.returned() || !outcome.result()) return Val();
    return *outcome.result();
  }

  void define_basics_imports(std::vector<std::string>& logged) {
    ASSERT_TRUE(linker_
                    ->define_func("log", {func_type({{"msg", PrimType::String}}, std::nullopt),
                                          [&logged](CallContext&, std::span<const Val> args)
                                              -> std::variant<std::optional<Val>, engine::Trap> {
                                            logged.push_back(args[0].as_string());
                                            return std::optional<Val>();
                                          }})
                    .ok());
    ASSERT_TRUE(linker_
                    ->define_func(
                        "double",
                        {func_type({{"x", PrimType::U32}}, PrimType::U32),
                         [](CallContext&, std::span<const Val> args) -> std::variant<std::optional<Val>, engine::Trap> {
                           return std::optional<Val>(Val::u32(args[0].as_unsigned() * 2));
                         }})
                    .ok());
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Linker> linker_;
};

TEST_P(RuntimeTest, ScalarsStringsListsAndSpilledResults) {
  std::vector<std::string> logged;
  define_basics_imports(logged);
  auto instance = instantiate("basics");
  ASSERT_NE(instance, nullptr);

  std::vector<Val> add_args = {Val::u32(40), Val::u32(2)};
  EXPECT_EQ(returned(instance->call("add", add_args)), Val::u32(42));

  const std::string text = "héllo, wörld 🌍";
  std::vector<Val> echo_args = {Val::string(text)};
  EXPECT_EQ(returned(instance->call("echo", echo_args)), Val::string(text));
  EXPECT_EQ(returned(instance->call("echo", echo_args)), Val::string(text));
  // post-return ran once per echo.
  EXPECT_EQ(returned(instance->call("post-count", {})), Val::u32(2));

  std::vector<Val> xs;
  uint64_t expected = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    xs.push_back(Val::u32(i));
    expected += i;
  }
  std::vector<Val> sum_args = {Val::list(xs)};
  EXPECT_EQ(returned(instance->call("sum", sum_args)), Val::u32(static_cast<uint32_t>(expected)));

  std::vector<Val> pair_args = {Val::u32(7)};
  EXPECT_EQ(returned(instance->call("pair", pair_args)), Val::tuple({Val::u32(7), Val::u32(8)}));

  std::vector<Val> host_args = {Val::string("four")};
  EXPECT_EQ(returned(instance->call("call-host", host_args)), Val::u32(8));
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0], "four");
}

TEST_P(RuntimeTest, NestedComponentsCloseOverTheirParentsImports) {
  // closures.wat: each instance of $C gets its own module and component;
  // the components nested in $C (two levels down) use the ones given to the
  // instance they were defined in.
  auto instance = instantiate("closures");
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(returned(instance->call("c1-a-m", {})), Val::u32(410));
  EXPECT_EQ(returned(instance->call("c2-a-m", {})), Val::u32(420));
  EXPECT_EQ(returned(instance->call("c1-b-k", {})), Val::u32(7));
  EXPECT_EQ(returned(instance->call("c2-b-k", {})), Val::u32(8));
}

TEST_P(RuntimeTest, AsyncLiftedFunctionsAndAsyncLoweredCalls) {
  // async.wat: callee functions lifted `async`, called from the host and,
  // async-lowered, from another component that waits for its subtask.
  InstantiateOptions options;
  options.limits.call_timeout = std::chrono::milliseconds(300);
  auto fresh = [&] {
    auto made = linker_->instantiate(load("async"), options);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? *made : nullptr;
  };
  auto instance = fresh();
  ASSERT_NE(instance, nullptr);
  // The callback ran three times (YIELD, YIELD, then task.return and EXIT).
  EXPECT_EQ(returned(instance->call("yield-thrice", {})), Val::u32(3));
  std::vector<Val> x = {Val::u32(41)};
  EXPECT_EQ(returned(instance->call("stackful", x)), Val::u32(42));
  EXPECT_EQ(returned(instance->call("run", {})), Val::u32(45));

  // Each trap ends its instance (the spec's lockdown): a fresh one each.
  auto trap_of = [&](const char* name, std::span<const Val> args) {
    auto inst = fresh();
    if (inst == nullptr) return engine::Trap{};
    auto outcome = inst->call(name, args);
    EXPECT_TRUE(outcome.trapped()) << name;
    if (!outcome.trapped()) return engine::Trap{};
    auto again = inst->call("yield-thrice", {});
    EXPECT_TRUE(again.trapped() && again.trap().message == "cannot enter component instance") << name;
    return outcome.trap();
  };
  EXPECT_NE(trap_of("no-return", x).message.find("without calling task.return"), std::string::npos);
  EXPECT_NE(trap_of("twice", x).message.find("after the task already returned"), std::string::npos);
  EXPECT_NE(trap_of("sync", x).message.find("synchronously lifted"), std::string::npos);
  EXPECT_NE(trap_of("wait", {}).message.find("not a waitable set"), std::string::npos);
  EXPECT_NE(trap_of("bad-code", {}).message.find("unsupported callback code 3"), std::string::npos);
  // A task that yields forever is stopped by the call timeout.
  auto spin = trap_of("spin", {});
  EXPECT_EQ(spin.kind, engine::TrapKind::Deadline) << spin.message;
  // The first instance still works.
  EXPECT_EQ(returned(instance->call("yield-thrice", {})), Val::u32(3));
}

TEST_P(RuntimeTest, WrongArgumentsAreAnErrorNotATrap) {
  std::vector<std::string> logged;
  define_basics_imports(logged);
  auto instance = instantiate("basics");
  ASSERT_NE(instance, nullptr);
  std::vector<Val> bad = {Val::string("x"), Val::u32(1)};
  auto outcome = instance->call("add", bad);
  EXPECT_TRUE(outcome.failed());
  std::vector<Val> one = {Val::u32(1)};
  EXPECT_TRUE(instance->call("add", one).failed());
  EXPECT_TRUE(instance->call("no-such-export", {}).failed());
}

TEST_P(RuntimeTest, MissingOrMistypedImportIsAnErrorNamingIt) {
  auto missing = linker_->instantiate(load("basics"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("log"), std::string::npos) << missing.error().message;

  Linker wrong(*engine_);
  ASSERT_TRUE(wrong
                  .define_func("log", {func_type({{"msg", PrimType::U32}}, std::nullopt),
                                       [](CallContext&, std::span<const Val>)
                                           -> std::variant<std::optional<Val>, engine::Trap> { return std::nullopt; }})
                  .ok());
  ASSERT_TRUE(wrong
                  .define_func("double", {func_type({{"x", PrimType::U32}}, PrimType::U32),
                                          [](CallContext&, std::span<const Val> args)
                                              -> std::variant<std::optional<Val>, engine::Trap> { return args[0]; }})
                  .ok());
  auto mistyped = wrong.instantiate(load("basics"));
  ASSERT_FALSE(mistyped.ok());
  EXPECT_NE(mistyped.error().message.find("log"), std::string::npos) << mistyped.error().message;
}

TEST_P(RuntimeTest, GuestResourceLifecycleAndDestructor) {
  auto instance = instantiate("counter");
  ASSERT_NE(instance, nullptr);
  std::vector<Val> ctor_args = {Val::u32(5)};
  Val counter = returned(instance->call("[constructor]counter", ctor_args));
  ASSERT_EQ(counter.kind(), ValKind::Own);
  std::vector<Val> borrow = {Val::borrow(counter.as_handle())};
  EXPECT_EQ(returned(instance->call("[method]counter.get", borrow)), Val::u32(5));
  returned(instance->call("[method]counter.inc", borrow));
  EXPECT_EQ(returned(instance->call("[method]counter.get", borrow)), Val::u32(6));
  EXPECT_EQ(returned(instance->call("dropped-count", {})), Val::u32(0));
  ASSERT_TRUE(instance->drop_resource(counter.as_handle()).ok());
  EXPECT_EQ(returned(instance->call("dropped-count", {})), Val::u32(1));

  // An own handed back to the guest is dropped there, which runs the destructor.
  Val second = returned(instance->call("[constructor]counter", ctor_args));
  std::vector<Val> take_args = {second};
  EXPECT_EQ(returned(instance->call("take", take_args)), Val::u32(5));
  EXPECT_EQ(returned(instance->call("dropped-count", {})), Val::u32(2));
}

// reset() makes an instance as fresh as a new instantiation, in place, on
// the aot backend: the guest's globals and memory as instantiated, the
// handle table empty (the next handle is 1 again), nested components'
// core instances too. A call that trapped makes it refuse, as do ends of a
// stream still in its table (their other side may be another instance's);
// the interpreter cannot reset, and says so.
TEST_P(RuntimeTest, ResetMakesAnInstanceFreshInPlace) {
  auto instance = instantiate("counter");
  ASSERT_NE(instance, nullptr);
  std::vector<Val> ctor_args = {Val::u32(5)};
  Val first = returned(instance->call("[constructor]counter", ctor_args));
  returned(instance->call("[constructor]counter", ctor_args));
  ASSERT_TRUE(instance->drop_resource(first.as_handle()).ok());
  ASSERT_EQ(returned(instance->call("dropped-count", {})), Val::u32(1));

  auto reset = instance->reset();
  if (GetParam() == "interp") {
    ASSERT_FALSE(reset.ok());
    EXPECT_NE(reset.error().message.find("cannot reinitialize"), std::string::npos) << reset.error().message;
    return;
  }
  ASSERT_TRUE(reset.ok()) << reset.error().message;
  EXPECT_EQ(returned(instance->call("dropped-count", {})), Val::u32(0));
  Val again = returned(instance->call("[constructor]counter", ctor_args));
  EXPECT_EQ(again.as_handle().rep, first.as_handle().rep) << "the guest's allocator starts over";
  std::vector<Val> borrow = {Val::borrow(again.as_handle())};
  EXPECT_EQ(returned(instance->call("[method]counter.get", borrow)), Val::u32(5));
  ASSERT_TRUE(instance->drop_resource(again.as_handle()).ok());
  EXPECT_EQ(returned(instance->call("dropped-count", {})), Val::u32(1));

  auto nested = instantiate("closures");
  ASSERT_NE(nested, nullptr);
  ASSERT_TRUE(nested->reset().ok());
  EXPECT_EQ(returned(nested->call("c1-a-m", {})), Val::u32(410));
  EXPECT_EQ(returned(nested->call("c2-b-k", {})), Val::u32(8));

  auto leaky = instantiate("counter");
  ASSERT_NE(leaky, nullptr);
  ASSERT_TRUE(leaky->call("leak-stream", {}).returned());
  auto holding = leaky->reset();
  ASSERT_FALSE(holding.ok());
  EXPECT_EQ(holding.error().message, "reset: the instance still holds an end of a stream or future");

  ASSERT_TRUE(instance->call("double-drop", {}).trapped());
  auto refused = instance->reset();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("did not return"), std::string::npos) << refused.error().message;
}

TEST_P(RuntimeTest, HandleMisuseTraps) {
  auto instance = instantiate("counter");
  ASSERT_NE(instance, nullptr);
  auto dd = instance->call("double-drop", {});
  ASSERT_TRUE(dd.trapped());
  EXPECT_NE(dd.trap().message.find("unknown handle index 1"), std::string::npos) << dd.trap().message;

  auto fresh = instantiate("counter");
  auto unknown = fresh->call("rep-of-unknown", {});
  ASSERT_TRUE(unknown.trapped());
  EXPECT_NE(unknown.trap().message.find("unknown handle index 7"), std::string::npos) << unknown.trap().message;
}

TEST_P(RuntimeTest, HostMediatedLinkBetweenTwoComponents) {
  auto provider = instantiate("provider");
  ASSERT_NE(provider, nullptr);
  // The provider exports test:demo/strings@0.1.4 and the consumer imports
  // @0.1.0: semver binds them, as Wasmtime does.
  ASSERT_TRUE(linker_->define_exports(provider).ok());
  auto consumer = linker_->instantiate(load("consumer"));
  ASSERT_TRUE(consumer.ok()) << consumer.error().message;
  std::vector<Val> args = {Val::string("hi ünïcode")};
  EXPECT_EQ(returned((*consumer)->call("run", args)), Val::string("hi ünïcode!"));
}

TEST_P(RuntimeTest, AnImportRedefinedGoesToTheNewExportForLaterInstancesOnly) {
  const std::string import = "test:demo/strings@0.1.0", export_name = "test:demo/strings@0.1.4";
  auto first = instantiate("provider");
  auto second = instantiate("provider");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto undefined = linker_->redefine_export(import, second, export_name);
  ASSERT_FALSE(undefined.ok());
  EXPECT_NE(undefined.error().message.find("not defined as another component's export"), std::string::npos);
  ASSERT_TRUE(linker_->define_export(import, first, export_name).ok());
  auto early = linker_->instantiate(load("consumer"));
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_FALSE(linker_->redefine_export(import, second, "no:such/export").ok());
  ASSERT_TRUE(linker_->redefine_export(import, second, export_name).ok());
  first.reset();  // the early consumer keeps its provider alive
  auto late = linker_->instantiate(load("consumer"));
  ASSERT_TRUE(late.ok()) << late.error().message;
  std::vector<Val> args = {Val::string("hi")};
  EXPECT_EQ(returned((*early)->call("run", args)), Val::string("hi!"));
  EXPECT_EQ(returned((*late)->call("run", args)), Val::string("hi!"));
}

TEST_P(RuntimeTest, ALazyExportIsMadeOnTheFirstCallAndOnce) {
  const std::string import = "test:demo/strings@0.1.0", export_name = "test:demo/strings@0.1.4";
  auto provider = load("provider");
  int made = 0;
  LazyExport lazy{provider, export_name,
                  [&]() -> Result<std::shared_ptr<ComponentInstance>> {
                    ++made;
                    return linker_->instantiate(provider);
                  },
                  nullptr, nullptr};
  auto missing =
      linker_->define_lazy_export(import, LazyExport{provider, "no:such/export", lazy.instantiate, nullptr, nullptr});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "define `" + import + "`: the component has no export `no:such/export`");
  ASSERT_TRUE(linker_->define_lazy_export(import, lazy).ok());
  auto consumer = linker_->instantiate(load("consumer"));
  ASSERT_TRUE(consumer.ok()) << consumer.error().message;
  EXPECT_EQ(made, 0) << "instantiating the importer does not make the provider";
  std::vector<Val> args = {Val::string("hi ünïcode")};
  EXPECT_EQ(returned((*consumer)->call("run", args)), Val::string("hi ünïcode!"));
  EXPECT_EQ(returned((*consumer)->call("run", args)), Val::string("hi ünïcode!"));
  EXPECT_EQ(made, 1);

  // A provider that cannot be made traps the call that needed it.
  Linker failing(*engine_);
  ASSERT_TRUE(failing
                  .define_lazy_export(import, LazyExport{provider, export_name,
                                                         []() -> Result<std::shared_ptr<ComponentInstance>> {
                                                           return make_error("out of luck");
                                                         },
                                                         nullptr, nullptr})
                  .ok());
  auto orphan = failing.instantiate(load("consumer"));
  ASSERT_TRUE(orphan.ok()) << orphan.error().message;
  auto outcome = (*orphan)->call("run", args);
  ASSERT_TRUE(outcome.trapped());
  EXPECT_NE(outcome.trap().message.find("instantiating the provider of `" + export_name + "`: out of luck"),
            std::string::npos)
      << outcome.trap().message;
}

// A lazy export's observer is asked about each call made under a trace
// context (support/trace_slot.h), and only then; the call ends with the
// LinkCall's destruction, and the caller's context is back after it.
TEST_P(RuntimeTest, ALazyExportsObserverSeesTheCallsMadeUnderATrace) {
  const std::string import = "test:demo/strings@0.1.0", export_name = "test:demo/strings@0.1.4";
  struct Call final : LinkCall {
    explicit Call(int& e) : ended(e) {}
    ~Call() override { ++ended; }
    void* trace_context() override { return &context; }
    void trapped(const engine::Trap&) override { ADD_FAILURE() << "the call did not trap"; }
    int context = 0;
    int& ended;
  };
  struct Observer final : LinkObserver {
    std::unique_ptr<LinkCall> begin(const std::string& function) override {
      functions.push_back(function);
      return std::make_unique<Call>(ended);
    }
    std::vector<std::string> functions;
    int ended = 0;
  };
  auto observer = std::make_shared<Observer>();
  auto provider = load("provider");
  ASSERT_TRUE(linker_
                  ->define_lazy_export(import, LazyExport{provider, export_name,
                                                          [&]() -> Result<std::shared_ptr<ComponentInstance>> {
                                                            return linker_->instantiate(provider);
                                                          },
                                                          nullptr, observer})
                  .ok());
  auto consumer = linker_->instantiate(load("consumer"));
  ASSERT_TRUE(consumer.ok()) << consumer.error().message;
  std::vector<Val> args = {Val::string("hi")};
  EXPECT_EQ(returned((*consumer)->call("run", args)), Val::string("hi!"));
  EXPECT_TRUE(observer->functions.empty()) << "no trace, no question";
  int request = 0;
  t_trace_slot = &request;
  EXPECT_EQ(returned((*consumer)->call("run", args)), Val::string("hi!"));
  EXPECT_EQ(t_trace_slot, &request);
  t_trace_slot = nullptr;
  ASSERT_FALSE(observer->functions.empty());
  for (const auto& f : observer->functions) EXPECT_EQ(f.rfind(export_name + "#", 0), 0u) << f;
  EXPECT_EQ(observer->ended, static_cast<int>(observer->functions.size()));
}

// An export handed over by define_export (an HTTP middleware chain's link)
// with an observer: the observer is asked about each call made under a
// trace context, and only then, as a lazy export's is; a redefinition
// takes its own observer.
TEST_P(RuntimeTest, ADefinedExportsObserverSeesTheCallsMadeUnderATrace) {
  const std::string import = "test:demo/strings@0.1.0", export_name = "test:demo/strings@0.1.4";
  struct Call final : LinkCall {
    explicit Call(int& e) : ended(e) {}
    ~Call() override { ++ended; }
    void* trace_context() override { return &context; }
    void trapped(const engine::Trap&) override { ADD_FAILURE() << "the call did not trap"; }
    int context = 0;
    int& ended;
  };
  struct Observer final : LinkObserver {
    std::unique_ptr<LinkCall> begin(const std::string& function) override {
      functions.push_back(function);
      return std::make_unique<Call>(ended);
    }
    std::vector<std::string> functions;
    int ended = 0;
  };
  auto first = std::make_shared<Observer>(), second = std::make_shared<Observer>();
  auto provider = linker_->instantiate(load("provider"));
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  ASSERT_TRUE(linker_->define_export(import, *provider, export_name, first).ok());
  auto consumer = linker_->instantiate(load("consumer"));
  ASSERT_TRUE(consumer.ok()) << consumer.error().message;
  ASSERT_TRUE(linker_->redefine_export(import, *provider, export_name, second).ok());
  auto later = linker_->instantiate(load("consumer"));
  ASSERT_TRUE(later.ok()) << later.error().message;

  std::vector<Val> args = {Val::string("hi")};
  EXPECT_EQ(returned((*consumer)->call("run", args)), Val::string("hi!"));
  EXPECT_TRUE(first->functions.empty()) << "no trace, no question";
  int request = 0;
  t_trace_slot = &request;
  EXPECT_EQ(returned((*consumer)->call("run", args)), Val::string("hi!"));
  EXPECT_EQ(t_trace_slot, &request);
  size_t asked = first->functions.size();
  EXPECT_EQ(returned((*later)->call("run", args)), Val::string("hi!"));
  t_trace_slot = nullptr;
  ASSERT_GT(asked, 0u);
  EXPECT_EQ(first->functions.size(), asked) << "the later consumer's calls go to the redefinition's observer";
  ASSERT_FALSE(second->functions.empty());
  for (const auto& f : first->functions) EXPECT_EQ(f.rfind(export_name + "#", 0), 0u) << f;
  EXPECT_EQ(first->ended, static_cast<int>(first->functions.size()));
  EXPECT_EQ(second->ended, static_cast<int>(second->functions.size()));
}

// The provider exports a resource type: the importer gets a placeholder for
// it, which becomes the provider's type when the provider is made on the
// first call; handles, borrows and destructors work across the link.
TEST_P(RuntimeTest, ALazyExportOfAResourceIsMadeOnTheFirstCallAndItsHandlesWork) {
  const std::string iface = "test:demo/tallies";
  auto provider = load("tallies_provider");
  int made = 0;
  ASSERT_TRUE(linker_
                  ->define_lazy_export(iface, LazyExport{provider, iface,
                                                         [&]() -> Result<std::shared_ptr<ComponentInstance>> {
                                                           ++made;
                                                           return linker_->instantiate(provider);
                                                         },
                                                         nullptr, nullptr})
                  .ok());
  auto consumer = linker_->instantiate(load("tallies_consumer"));
  ASSERT_TRUE(consumer.ok()) << consumer.error().message;
  EXPECT_EQ(returned((*consumer)->call("idle", {})), Val::u32(7));
  EXPECT_EQ(made, 0) << "an importer of a resource type does not make its provider until it calls it";

  std::vector<Val> n41 = {Val::u32(41)};
  EXPECT_EQ(returned((*consumer)->call("use", n41)), Val::u32(42));
  EXPECT_EQ(made, 1);
  EXPECT_EQ(returned((*consumer)->call("dropped", {})), Val::u32(1)) << "the importer's drop ran the destructor";

  // A handle the importer hands to the host is of the provider's type.
  std::vector<Val> n5 = {Val::u32(5)};
  auto kept = (*consumer)->call("keep", n5);
  ASSERT_TRUE(kept.returned() && kept.result()) << (kept.trapped() ? kept.trap().message : "");
  EXPECT_EQ(kept.result()->as_handle().resource->name, "tally");
  ASSERT_TRUE((*consumer)->drop_resource(kept.result()->as_handle()).ok());
  EXPECT_EQ(returned((*consumer)->call("dropped", {})), Val::u32(2));

  // Another importer made by the same linker shares the provider and its type.
  auto second = linker_->instantiate(load("tallies_consumer"));
  ASSERT_TRUE(second.ok()) << second.error().message;
  std::vector<Val> n1 = {Val::u32(1)};
  EXPECT_EQ(returned((*second)->call("use", n1)), Val::u32(2));
  EXPECT_EQ(made, 1);
  EXPECT_EQ(returned((*second)->call("dropped", {})), Val::u32(3));
}

TEST_P(RuntimeTest, ReenteringAnInstanceFromTheHostTraps) {
  std::shared_ptr<ComponentInstance> self;
  std::string inner_message;
  ASSERT_TRUE(
      linker_
          ->define_func("callback",
                        {func_type({}, std::nullopt),
                         [&](CallContext&, std::span<const Val>) -> std::variant<std::optional<Val>, engine::Trap> {
                           auto inner = self->call("noop", {});
                           if (inner.trapped()) {
                             inner_message = inner.trap().message;
                             return inner.trap();
                           }
                           return std::optional<Val>();
                         }})
          .ok());
  self = instantiate("reenter");
  ASSERT_NE(self, nullptr);
  auto outcome = self->call("reenter", {});
  EXPECT_TRUE(outcome.trapped());
  EXPECT_NE(inner_message.find("cannot enter component instance"), std::string::npos) << inner_message;
  self.reset();
}

INSTANTIATE_TEST_SUITE_P(Backends, RuntimeTest, testing::Values("interp", "aot"),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace stratus::component
