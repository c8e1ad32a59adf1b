// Behaviour specific to the interp backend (wabt's interpreter): how it runs
// calls in slices, its shared store, its garbage collection and its host
// re-entry. What every backend must do is in engine_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/engine.h"
#include "engine/interp/interp_engine.h"
#include "tests/support/wat.h"

namespace stratus::engine {
namespace {

using namespace std::chrono_literals;

class InterpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = make_interp_engine({});
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
  }

  std::shared_ptr<Module> compile(std::string_view wat) {
    auto bytes = testing::wat_to_wasm(wat);
    EXPECT_TRUE(bytes.ok()) << bytes.error().message;
    if (!bytes.ok()) return nullptr;
    auto module = engine_->compile(*bytes, {.name = "test.wasm"});
    EXPECT_TRUE(module.ok()) << module.error().message;
    return module.ok() ? *module : nullptr;
  }

  std::variant<std::shared_ptr<Instance>, Trap, Error> try_instantiate(std::string_view wat,
                                                                       std::span<const ImportValue> imports = {},
                                                                       const InstanceLimits& limits = {}) {
    auto module = compile(wat);
    if (!module) return make_error("did not compile");
    return engine_->instantiate(module, imports, limits);
  }

  std::shared_ptr<Instance> instantiate(std::string_view wat, std::span<const ImportValue> imports = {},
                                        const InstanceLimits& limits = {}) {
    auto result = try_instantiate(wat, imports, limits);
    if (auto* trap = std::get_if<Trap>(&result)) ADD_FAILURE() << "trap: " << trap->message;
    if (auto* error = std::get_if<Error>(&result)) ADD_FAILURE() << "error: " << error->message;
    auto* instance = std::get_if<std::shared_ptr<Instance>>(&result);
    return instance ? *instance : nullptr;
  }

  std::unique_ptr<Engine> engine_;
};

constexpr std::string_view kLoop = R"((module
  (func (export "spin") (loop br 0))
  (func (export "seven") (result i32) i32.const 7)))";

TEST_F(InterpTest, RejectsFeaturesBeyondWebAssembly2) {
  auto bytes = testing::wat_to_wasm(R"((module
    (func $f (result i32) i32.const 1)
    (func (export "g") (result i32) return_call $f)))",
                                    testing::WatFeatures::All);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto module = engine_->compile(*bytes, {.name = "tail.wasm"});
  ASSERT_FALSE(module.ok());
  EXPECT_NE(module.error().message.find("tail.wasm: at byte offset"), std::string::npos) << module.error().message;
}

TEST_F(InterpTest, GarbageInputIsAnErrorNotACrash) {
  const uint8_t junk[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff};
  EXPECT_FALSE(engine_->compile(junk).ok());
  EXPECT_FALSE(engine_->compile(std::span<const uint8_t>()).ok());
}

TEST_F(InterpTest, DeadlineStopsAnInfiniteLoopInTheStartFunction) {
  InstanceLimits limits;
  limits.call_timeout = 50ms;
  auto started = std::chrono::steady_clock::now();
  auto result = try_instantiate(R"((module (func $spin (loop br 0)) (start $spin)))", {}, limits);
  ASSERT_TRUE(std::holds_alternative<Trap>(result));
  EXPECT_EQ(std::get<Trap>(result).kind, TrapKind::Deadline);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(InterpTest, InterruptIsStickyAndReachesCallsAlreadyRunning) {
  auto instance = instantiate(kLoop);
  ASSERT_TRUE(instance);
  std::thread stopper([&] {
    std::this_thread::sleep_for(30ms);
    instance->interrupt();
  });
  auto spun = instance->call("spin", {});
  stopper.join();
  ASSERT_TRUE(spun.trapped()) << spun.describe();
  EXPECT_EQ(spun.trap().kind, TrapKind::Deadline);
  auto later = instance->call("seven", {});
  ASSERT_TRUE(later.trapped()) << "interrupt() stops future calls too";
  EXPECT_EQ(later.trap().kind, TrapKind::Deadline);
}

TEST_F(InterpTest, InterruptStopsALoopInAnImportedFunctionOfAnotherInstance) {
  auto callee = instantiate(kLoop);
  ASSERT_TRUE(callee);
  ImportValue spin{"callee", "spin", *callee->get_export("spin")};
  auto caller = instantiate(R"((module
    (import "callee" "spin" (func $spin))
    (func (export "run") call $spin)))",
                            std::span(&spin, 1));
  ASSERT_TRUE(caller);
  std::thread stopper([&] {
    std::this_thread::sleep_for(30ms);
    callee->interrupt();
  });
  auto result = caller->call("run", {});
  stopper.join();
  ASSERT_TRUE(result.trapped()) << result.describe();
  EXPECT_EQ(result.trap().kind, TrapKind::Deadline);
}

TEST_F(InterpTest, ALongCallLetsCallsOnOtherThreadsThrough) {
  auto busy = instantiate(kLoop);
  auto quick = instantiate(kLoop);
  ASSERT_TRUE(busy && quick);
  std::thread spinner([&] { busy->call("spin", {}); });
  std::this_thread::sleep_for(20ms);
  auto started = std::chrono::steady_clock::now();
  auto seven = quick->call("seven", {});
  auto waited = std::chrono::steady_clock::now() - started;
  busy->interrupt();
  spinner.join();
  ASSERT_TRUE(seven.ok()) << seven.describe();
  EXPECT_EQ(seven.values()[0].i32(), 7u);
  EXPECT_LT(waited, 1s) << "the store lock is shared between slices of a long call";
}

TEST_F(InterpTest, HostFunctionCanCallBackIntoWasmAndSeesItsCaller) {
  std::shared_ptr<Instance> instance;
  Instance* seen = nullptr;
  auto twice = engine_->host_func(FuncType{{ValType::I32}, {ValType::I32}},
                                  [&](Caller& caller, std::span<const Value> args, std::span<Value> results) {
                                    seen = caller.instance();
                                    auto inner = instance->call("double", args);
                                    if (!inner.ok()) return std::optional<Trap>(Trap{TrapKind::HostError, "inner"});
                                    results[0] = inner.values()[0];
                                    return std::optional<Trap>();
                                  });
  ImportValue import{"env", "twice", twice};
  instance = instantiate(R"((module
    (import "env" "twice" (func $twice (param i32) (result i32)))
    (func (export "double") (param i32) (result i32) local.get 0 local.get 0 i32.add)
    (func (export "run") (param i32) (result i32) local.get 0 call $twice i32.const 1 i32.add)))",
                         std::span(&import, 1));
  ASSERT_TRUE(instance);
  auto result = instance->call("run", std::vector{Value::i32(20)});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.values()[0].i32(), 41u);
  EXPECT_EQ(seen, instance.get());
}

TEST_F(InterpTest, EndlessHostAndWasmRecursionTrapsInsteadOfOverflowingTheStack) {
  std::shared_ptr<Instance> instance;
  auto again = engine_->host_func(FuncType{}, [&](Caller&, std::span<const Value>, std::span<Value>) {
    auto inner = instance->call("run", {});
    if (inner.trapped()) return std::optional<Trap>(inner.trap());
    return std::optional<Trap>();
  });
  ImportValue import{"env", "again", again};
  instance = instantiate(R"((module
    (import "env" "again" (func $again))
    (func (export "run") call $again)))",
                         std::span(&import, 1));
  ASSERT_TRUE(instance);
  auto result = instance->call("run", {});
  ASSERT_TRUE(result.trapped()) << result.describe();
  EXPECT_EQ(result.trap().kind, TrapKind::StackExhausted);
}

TEST_F(InterpTest, HostExceptionBecomesAHostErrorTrap) {
  auto boom =
      engine_->host_func(FuncType{}, [](Caller&, std::span<const Value>, std::span<Value>) -> std::optional<Trap> {
        throw std::runtime_error("boom");
      });
  ImportValue import{"env", "boom", boom};
  auto instance =
      instantiate(R"((module (import "env" "boom" (func $b)) (func (export "run") call $b)))", std::span(&import, 1));
  ASSERT_TRUE(instance);
  auto result = instance->call("run", {});
  ASSERT_TRUE(result.trapped());
  EXPECT_EQ(result.trap().kind, TrapKind::HostError);
  EXPECT_NE(result.trap().message.find("boom"), std::string::npos);
}

TEST_F(InterpTest, ExternrefsInATableSurviveGarbageCollection) {
  auto instance = instantiate(R"((module
    (table $t 40000 externref)
    (func (export "put") (param i32 externref) local.get 0 local.get 1 table.set $t)
    (func (export "get") (param i32) (result externref) local.get 0 table.get $t)))");
  ASSERT_TRUE(instance);
  // Each externref crossing into wasm is a wabt object; this many calls pass
  // the collection threshold several times.
  for (uint32_t i = 0; i < 40000; ++i) {
    auto put =
        instance->call("put", std::vector{Value::i32(i), Value::ref(ValType::ExternRef, Ref::extern_ref(i * 3))});
    ASSERT_TRUE(put.ok()) << put.describe();
  }
  for (uint32_t i = 0; i < 40000; i += 997) {
    auto got = instance->call("get", std::vector{Value::i32(i)});
    ASSERT_TRUE(got.ok()) << got.describe();
    EXPECT_EQ(got.values()[0].ref().host, i * 3);
  }
}

TEST_F(InterpTest, FuncrefTakenFromATableIsCallableFromTheHost) {
  auto instance = instantiate(R"((module
    (func $nine (result i32) i32.const 9)
    (table (export "t") funcref (elem $nine))))");
  ASSERT_TRUE(instance);
  auto ext = instance->get_export("t");
  ASSERT_TRUE(ext);
  auto table = std::get<std::shared_ptr<Table>>(*ext);
  auto ref = table->get(0);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  ASSERT_TRUE(ref->func);
  EXPECT_EQ(ref->func->type(), (FuncType{{}, {ValType::I32}}));
  auto result = ref->func->call({});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.values()[0].i32(), 9u);
  EXPECT_FALSE(table->get(1).ok());
}

TEST_F(InterpTest, ExternalsOfAnotherEngineAreRejected) {
  auto other = make_interp_engine({});
  ASSERT_TRUE(other.ok());
  auto foreign = (*other)->host_func(
      FuncType{}, [](Caller&, std::span<const Value>, std::span<Value>) { return std::optional<Trap>(); });
  ImportValue import{"env", "f", foreign};
  auto result = try_instantiate(R"((module (import "env" "f" (func))))", std::span(&import, 1));
  ASSERT_TRUE(std::holds_alternative<Error>(result));
  EXPECT_NE(std::get<Error>(result).message.find("another interp engine"), std::string::npos);

  auto table = engine_->host_table(TableType{ValType::FuncRef, {1, std::nullopt}});
  ASSERT_TRUE(table.ok());
  EXPECT_FALSE((*table)->set(0, Ref::func_ref(foreign)).ok());
}

TEST_F(InterpTest, MemoryLimitKeepsTheDeclaredTypeAndCapsHostGrowth) {
  InstanceLimits limits;
  limits.max_memory_bytes = 3 * 65536;
  auto instance = instantiate(R"((module (memory (export "memory") 1)))", {}, limits);
  ASSERT_TRUE(instance);
  auto memory = instance->memory();
  ASSERT_TRUE(memory);
  EXPECT_FALSE(memory->type().limits.max.has_value());
  EXPECT_EQ(memory->grow(2), 1u);
  EXPECT_FALSE(memory->grow(1).has_value());
  EXPECT_EQ(memory->size_bytes(), 3u * 65536);
  EXPECT_TRUE(memory->view(3 * 65536, 0).has_value());
  EXPECT_FALSE(memory->view(3 * 65536 - 1, 2).has_value());
  EXPECT_FALSE(memory->view(UINT64_MAX, 2).has_value());
}

TEST_F(InterpTest, V128ValuesRoundTrip) {
  auto instance = instantiate(R"((module
    (func (export "add") (param v128 v128) (result v128) local.get 0 local.get 1 i32x4.add)))");
  ASSERT_TRUE(instance);
  V128 a, b;
  for (int i = 0; i < 16; ++i) {
    a.bytes[i] = static_cast<uint8_t>(i);
    b.bytes[i] = i % 4 == 0 ? 1 : 0;
  }
  auto result = instance->call("add", std::vector{Value::v128(a), Value::v128(b)});
  ASSERT_TRUE(result.ok()) << result.describe();
  V128 want = a;
  for (int i = 0; i < 16; i += 4) want.bytes[i] += 1;
  EXPECT_EQ(result.values()[0].v128(), want);
}

TEST_F(InterpTest, ExportsOutliveTheirInstanceObject) {
  std::shared_ptr<Func> seven;
  {
    auto instance = instantiate(kLoop);
    ASSERT_TRUE(instance);
    seven = instance->func("seven");
  }
  auto result = seven->call({});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.values()[0].i32(), 7u);
}

// A store dropped by a thread's exit (a thread_local, or a static at the
// process's exit) is dropped after that thread's other thread_locals, the
// engine's record of the locks its stack holds among them: it must still
// lock the store safely (AddressSanitizer saw a use after free there).
TEST_F(InterpTest, AStoreDroppedAsItsThreadEndsLocksSafely) {
  auto instance = instantiate(kLoop);
  ASSERT_TRUE(instance);
  std::thread owner([&] {
    // Made before the thread's first call records a lock, so destroyed after
    // that record's thread_local.
    thread_local std::shared_ptr<Instance> held;
    held = std::move(instance);
    auto seven = held->call("seven", {});
    ASSERT_TRUE(seven.ok());
    EXPECT_EQ(seven.values()[0].i32(), 7u);
  });
  owner.join();
  engine_.reset();
}

}  // namespace
}  // namespace stratus::engine
