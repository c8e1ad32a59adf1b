// Tests specific to the `aot` backend (wasm2c + C compiler): the compile
// cache, batches, clean refusals, guard pages, traps across threads, host
// traps, deadlines and limits. Shared behaviour lives in engine_test.cc.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/aot/aot_engine.h"
#include "engine/aot/aot_stats.h"
#include "engine/engine.h"
#include "tests/support/wat.h"

namespace stratus::engine {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> wat(std::string_view text) {
  auto bytes = stratus::testing::wat_to_wasm(text);
  if (!bytes) {
    ADD_FAILURE() << "bad WAT: " << bytes.error().message;
    return {};
  }
  return *bytes;
}

class AotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stratus-aot-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    cache_dir_ = tmpl;
    engine_ = make(EngineOptions{});
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(cache_dir_, ec);
  }

  std::unique_ptr<Engine> make(EngineOptions options) {
    options.cache_dir = cache_dir_.string();
    auto e = make_aot_engine(options);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    return std::move(e).value();
  }

  std::shared_ptr<Module> compile(std::string_view text, Engine* engine = nullptr) {
    auto bytes = wat(text);
    auto m = (engine ? engine : engine_.get())->compile(bytes, {"test"});
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
    return m.ok() ? *m : nullptr;
  }

  std::shared_ptr<Instance> instantiate(const std::shared_ptr<Module>& m, std::span<const ImportValue> imports = {},
                                        const InstanceLimits& limits = {}) {
    auto r = engine_->instantiate(m, imports, limits);
    if (auto* t = std::get_if<Trap>(&r)) ADD_FAILURE() << "trap: " << t->message;
    if (auto* e = std::get_if<Error>(&r)) ADD_FAILURE() << "error: " << e->message;
    auto* i = std::get_if<std::shared_ptr<Instance>>(&r);
    return i ? *i : nullptr;
  }

  fs::path cache_dir_;
  std::unique_ptr<Engine> engine_;
};

constexpr std::string_view kAdd = R"((module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))))";

TEST_F(AotTest, CompilesAndCalls) {
  auto m = compile(kAdd);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->exports().size(), 1u);
  EXPECT_EQ(std::get<FuncType>(m->exports()[0].type), (FuncType{{ValType::I32, ValType::I32}, {ValType::I32}}));
  auto inst = instantiate(m);
  ASSERT_TRUE(inst);
  Value args[] = {Value::i32(2), Value::i32(40)};
  auto r = inst->call("add", args);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), 42u);
  Value bad[] = {Value::i64(1), Value::i32(1)};
  EXPECT_FALSE(inst->call("add", bad).ok());
}

TEST_F(AotTest, CacheHitOnSecondLoadInNewEngine) {
  ASSERT_TRUE(compile(kAdd));
  EXPECT_EQ(aot_stats(*engine_)->compiler_runs, 1u);
  auto second = make(EngineOptions{});
  ASSERT_TRUE(compile(kAdd, second.get()));
  auto stats = *aot_stats(*second);
  EXPECT_EQ(stats.compiler_runs, 0u);
  EXPECT_EQ(stats.cache_hits, 1u);
  size_t objects = 0;
  for (const auto& e : fs::directory_iterator(cache_dir_)) objects += e.path().extension() == ".so";
  EXPECT_EQ(objects, 1u);
}

// Compiled again while the module compiled first lives: that module, with
// no decode and no cache lookup. Once it is gone, the disk cache serves.
TEST_F(AotTest, TheSameBytesCompiledAgainWhileTheirModuleLivesAreThatModule) {
  EXPECT_TRUE(engine_->remembers_modules());
  auto first = compile(kAdd);
  ASSERT_TRUE(first);
  auto again = compile(kAdd);
  EXPECT_EQ(again.get(), first.get());
  auto stats = *aot_stats(*engine_);
  EXPECT_EQ(stats.compiler_runs, 1u);
  EXPECT_EQ(stats.cache_hits, 0u);
  auto bytes = wat(kAdd);
  auto other = engine_->compile(bytes, {.name = "test", .multi_memory = true});
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_NE(other->get(), first.get()) << "other options make another module";
  first.reset();
  again.reset();
  auto third = compile(kAdd);
  ASSERT_TRUE(third);
  EXPECT_EQ(aot_stats(*engine_)->cache_hits, 1u);
  auto inst = instantiate(third);
  ASSERT_TRUE(inst);
  Value args[] = {Value::i32(2), Value::i32(3)};
  auto r = inst->call("add", args);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), 5u);
}

// A damaged cache entry (a write cut short by a full disk, another tool's
// file under the same name) is rebuilt, never reported as an error.
TEST_F(AotTest, DamagedCacheEntryIsRebuilt) {
  ASSERT_TRUE(compile(kAdd));
  // The same entry names with garbage inside, in a directory this process has
  // not loaded from (loaded objects are kept per path).
  const fs::path damaged = cache_dir_ / "damaged";
  fs::create_directories(damaged);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(cache_dir_)) {
    if (e.path().extension() != ".so") continue;
    std::ofstream(damaged / e.path().filename()) << "not an ELF object";
    ++entries;
  }
  ASSERT_EQ(entries, 1u);
  EngineOptions options;
  options.cache_dir = damaged.string();
  auto engine = make_aot_engine(options);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  auto module = compile(kAdd, engine->get());
  ASSERT_TRUE(module);
  EXPECT_EQ(aot_stats(**engine)->compiler_runs, 1u);
  auto made = (*engine)->instantiate(module, {});
  auto* instance = std::get_if<std::shared_ptr<Instance>>(&made);
  ASSERT_NE(instance, nullptr);
  auto r = (*instance)->call("add", std::vector{Value::i32(2), Value::i32(3)});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), 5u);
}

TEST_F(AotTest, CompileManyBuildsOneObjectAndFailsModulesAlone) {
  auto a = wat(kAdd);
  auto b = wat(R"((module (func (export "k") (result i64) (i64.const 7))))");
  std::vector<uint8_t> bad = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0x04, 0x01, 0x60};
  std::span<const uint8_t> inputs[] = {a, bad, b};
  auto results = engine_->compile_many(inputs, {"batch"});
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(results[0].ok()) << results[0].error().message;
  EXPECT_FALSE(results[1].ok());
  ASSERT_TRUE(results[2].ok()) << results[2].error().message;
  EXPECT_EQ(aot_stats(*engine_)->compiler_runs, 1u);
  auto inst = instantiate(*results[2]);
  ASSERT_TRUE(inst);
  auto r = inst->call("k", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.values()[0].i64(), 7u);
  // The batch is cached too.
  auto again = make(EngineOptions{});
  auto results2 = again->compile_many(inputs, {"batch"});
  EXPECT_TRUE(results2[0].ok());
  EXPECT_EQ(aot_stats(*again)->compiler_runs, 0u);
}

TEST_F(AotTest, SimdIsACleanError) {
  auto bytes = wat(R"((module (func (export "f") (result i32)
      (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4)))))");
  auto m = engine_->compile(bytes, {"simd"});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("SIMD (proposal 'simd') is not supported"), std::string::npos) << m.error().message;
}

TEST_F(AotTest, OtherUnsupportedProposalsAreCleanErrors) {
  // (func return_call 0): tail calls.
  std::vector<uint8_t> bytes = {0,    'a',  's',  'm',  1,    0,    0,    0,    0x01, 0x04, 0x01, 0x60, 0x00,
                                0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x12, 0x00, 0x0b};
  auto m = engine_->compile(bytes, {"tail.wasm"});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("proposal 'tail-call' is not supported"), std::string::npos) << m.error().message;
}

TEST_F(AotTest, ValidationErrorNamesOffset) {
  // (func (result i32) (i64.const 0)): type mismatch in the body.
  std::vector<uint8_t> bytes = {0,    'a',  's',  'm',  1,    0,    0,    0,    0x01, 0x05, 0x01, 0x60, 0x00, 0x01,
                                0x7f, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b};
  auto m = engine_->compile(bytes, {"bad.wasm"});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("offset 0x"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("bad.wasm"), std::string::npos) << m.error().message;
}

constexpr std::string_view kMemory = R"((module
  (memory (export "memory") 1)
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load_far") (param i32) (result i32) (i32.load offset=0xfffffff0 (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))))";

TEST_F(AotTest, GuardPageOutOfBoundsTraps) {
  auto inst = instantiate(compile(kMemory));
  ASSERT_TRUE(inst);
  Value ok_arg[] = {Value::i32(65532)};
  EXPECT_TRUE(inst->call("load", ok_arg).ok());
  Value oob[] = {Value::i32(65533)};
  auto r = inst->call("load", oob);
  ASSERT_TRUE(r.trapped()) << r.describe();
  EXPECT_EQ(r.trap().kind, TrapKind::MemoryOutOfBounds);
  Value far[] = {Value::i32(0xffffffff)};
  r = inst->call("load_far", far);
  ASSERT_TRUE(r.trapped()) << r.describe();
  EXPECT_EQ(r.trap().kind, TrapKind::MemoryOutOfBounds);
  // Still usable after traps; growing makes the page accessible.
  Value one[] = {Value::i32(1)};
  ASSERT_EQ(inst->call("grow", one).values()[0].i32(), 1u);
  EXPECT_TRUE(inst->call("load", oob).ok());
  auto mem = inst->memory();
  ASSERT_TRUE(mem);
  EXPECT_EQ(mem->size_bytes(), 2u * 65536);
  EXPECT_FALSE(mem->view(2 * 65536 - 3, 4).has_value());
}

// A host (libFuzzer, a sanitizer runtime, an embedding program) may install
// its own SIGSEGV handler after ours, without SA_NODEFER, and chain to ours.
// Guard-page traps must keep working then: the second one once killed the
// process because the signal stayed blocked after the first.
struct sigaction g_ours;
void chaining_handler(int sig, siginfo_t* info, void* uctx) { g_ours.sa_sigaction(sig, info, uctx); }

TEST_F(AotTest, GuardPageTrapsRepeatUnderAChainingOuterHandler) {
  auto inst = instantiate(compile(kMemory));
  ASSERT_TRUE(inst);
  Value oob[] = {Value::i32(65533)};
  ASSERT_TRUE(inst->call("load", oob).trapped());  // makes sure our handler is installed

  struct sigaction outer {};
  outer.sa_sigaction = chaining_handler;
  outer.sa_flags = SA_SIGINFO | SA_ONSTACK;  // no SA_NODEFER, as libFuzzer does
  sigemptyset(&outer.sa_mask);
  ASSERT_EQ(sigaction(SIGSEGV, &outer, &g_ours), 0);
  ASSERT_TRUE(g_ours.sa_flags & SA_SIGINFO);
  for (int i = 0; i < 3; ++i) {
    auto r = inst->call("load", oob);
    ASSERT_TRUE(r.trapped()) << r.describe();
    EXPECT_EQ(r.trap().kind, TrapKind::MemoryOutOfBounds);
  }
  sigaction(SIGSEGV, &g_ours, nullptr);
}

// wasm2c leaves out unreachable code, and the deadline checks in it; found
// by the differential fuzzer (the module failed to compile on aot only).
TEST_F(AotTest, DeadlineChecksInDeadCodeAreNotRequired) {
  InstanceLimits limits;
  limits.call_timeout = std::chrono::milliseconds(200);
  auto inst = instantiate(compile(R"((module
    (func (export "dead") (result i32) i32.const 1 return (loop br 0) unreachable)
    (func (export "spin") (loop br 0))))"),
                          {}, limits);
  ASSERT_TRUE(inst);
  auto dead = inst->call("dead", {});
  ASSERT_TRUE(dead.ok()) << dead.describe();
  EXPECT_EQ(dead.values()[0].i32(), 1u);
  auto spin = inst->call("spin", {});
  ASSERT_TRUE(spin.trapped()) << spin.describe();
  EXPECT_EQ(spin.trap().kind, TrapKind::Deadline);
}

// A loop whose body starts with a loop (directly, through blocks or after
// instructions that neither branch nor call) has no check of its own, nor has
// a function whose body starts with one: each of these spins must still stop
// at the inner loop's check.
TEST_F(AotTest, DeadlineStopsLoopsThatRelyOnAnInnerLoopsCheck) {
  InstanceLimits limits;
  limits.call_timeout = std::chrono::milliseconds(100);
  auto inst = instantiate(compile(R"((module
    (func (export "outer") (loop $o (loop $i (br $o))))
    (func (export "through_blocks") (loop $o (block (block (loop $i (br_if $o (i32.const 1)))))))
    (func $rec (export "recursive_loop_first") (loop $l (call $rec) (br_if $l (i32.const 0))))
    (func (export "after_straight_code") (local i32)
      (loop $o (local.set 0 (i32.add (local.get 0) (i32.const 1))) (loop $i (br $o))))
    (func (export "inner_exits")
      (loop $o (loop $i (br_if $i (i32.eqz (i32.const 1)))) (br $o)))))"),
                          {}, limits);
  ASSERT_TRUE(inst);
  for (const char* name : {"outer", "through_blocks", "after_straight_code", "inner_exits"}) {
    auto r = inst->call(name, {});
    ASSERT_TRUE(r.trapped()) << name << ": " << r.describe();
    EXPECT_EQ(r.trap().kind, TrapKind::Deadline) << name;
  }
  // Unbounded recursion ends at the call-depth limit or the deadline, whichever comes first.
  auto rec = inst->call("recursive_loop_first", {});
  ASSERT_TRUE(rec.trapped()) << rec.describe();
  EXPECT_TRUE(rec.trap().kind == TrapKind::Deadline || rec.trap().kind == TrapKind::StackExhausted) << rec.describe();
}

TEST_F(AotTest, TrapsOnTwoThreadsAtOnce) {
  auto m = compile(kMemory);
  auto a = instantiate(m), b = instantiate(m);
  ASSERT_TRUE(a && b);
  std::atomic<int> wrong{0};
  auto worker = [&](Instance* inst, bool oob) {
    for (int i = 0; i < 2000; ++i) {
      CallResult r = oob ? inst->call("load", std::vector<Value>{Value::i32(70000)})
                         : inst->call("div", std::vector<Value>{Value::i32(1), Value::i32(0)});
      TrapKind want = oob ? TrapKind::MemoryOutOfBounds : TrapKind::IntegerDivideByZero;
      if (!r.trapped() || r.trap().kind != want) ++wrong;
      auto ok = inst->call("div", std::vector<Value>{Value::i32(9), Value::i32(3)});
      if (!ok.ok() || ok.values()[0].i32() != 3) ++wrong;
    }
  };
  std::thread t1(worker, a.get(), true), t2(worker, b.get(), false), t3(worker, a.get(), false);
  t1.join();
  t2.join();
  t3.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(AotTest, HostFunctionsAndTheirTraps) {
  auto m = compile(R"((module
    (import "host" "twice" (func $twice (param i64) (result i64)))
    (import "host" "fail" (func $fail (param i32)))
    (memory (export "memory") 1)
    (func (export "run") (param i64) (result i64) (call $twice (local.get 0)))
    (func (export "fail") (param i32) (call $fail (local.get 0)) (unreachable))))");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->imports().size(), 2u);
  EXPECT_EQ(m->imports()[0].module, "host");
  EXPECT_EQ(std::get<FuncType>(m->imports()[1].type), (FuncType{{ValType::I32}, {}}));
  bool saw_memory = false;
  auto twice = engine_->host_func({{ValType::I64}, {ValType::I64}},
                                  [&](Caller& caller, std::span<const Value> args, std::span<Value> results) {
                                    saw_memory = caller.memory() != nullptr;
                                    results[0] = Value::i64(args[0].i64() * 2);
                                    return std::optional<Trap>();
                                  });
  auto fail = engine_->host_func({{ValType::I32}, {}}, [](Caller&, std::span<const Value> args, std::span<Value>) {
    if (args[0].i32() == 1) return std::optional<Trap>(Trap{TrapKind::Exit, "exit", 3});
    return std::optional<Trap>(Trap{TrapKind::HostError, "boom", 0});
  });
  ImportValue imports[] = {{"host", "twice", twice}, {"host", "fail", fail}};
  auto inst = instantiate(m, imports);
  ASSERT_TRUE(inst);
  auto r = inst->call("run", std::vector<Value>{Value::i64(21)});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i64(), 42u);
  EXPECT_TRUE(saw_memory);
  r = inst->call("fail", std::vector<Value>{Value::i32(0)});
  ASSERT_TRUE(r.trapped());
  EXPECT_EQ(r.trap().kind, TrapKind::HostError);
  EXPECT_EQ(r.trap().message, "boom");
  r = inst->call("fail", std::vector<Value>{Value::i32(1)});
  ASSERT_TRUE(r.trapped());
  EXPECT_EQ(r.trap().kind, TrapKind::Exit);
  EXPECT_EQ(r.trap().exit_code, 3);
}

TEST_F(AotTest, ProgressLineForSlowCompiles) {
  EngineOptions options;
  options.progress_after = std::chrono::milliseconds(0);
  auto e = make(options);
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(compile(kAdd, e.get()));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("stratus: compiling test (1 functions) with"), std::string::npos) << err;
}

constexpr std::string_view kSpin = R"((module
  (func $spin (export "spin") (loop $l (br $l)))
  (func $rec (export "rec") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get 0) (i32.const 1)))))))))";

TEST_F(AotTest, DeadlineStopsAnInfiniteLoop) {
  InstanceLimits limits;
  limits.call_timeout = std::chrono::milliseconds(100);
  auto m = compile(kSpin);
  auto inst = instantiate(m, {}, limits);
  ASSERT_TRUE(inst);
  auto start = std::chrono::steady_clock::now();
  auto r = inst->call("spin", {});
  ASSERT_TRUE(r.trapped()) << r.describe();
  EXPECT_EQ(r.trap().kind, TrapKind::Deadline);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // The next call gets its own budget.
  auto ok = inst->call("rec", std::vector<Value>{Value::i32(10)});
  ASSERT_TRUE(ok.ok()) << ok.describe();
  EXPECT_EQ(ok.values()[0].i32(), 10u);
}

TEST_F(AotTest, InterruptFromAnotherThread) {
  auto inst = instantiate(compile(kSpin));
  ASSERT_TRUE(inst);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    inst->interrupt();
  });
  auto r = inst->call("spin", {});
  stopper.join();
  ASSERT_TRUE(r.trapped());
  EXPECT_EQ(r.trap().kind, TrapKind::Deadline);
}

TEST_F(AotTest, CallDepthLimit) {
  InstanceLimits limits;
  limits.max_call_depth = 100;
  auto inst = instantiate(compile(kSpin), {}, limits);
  ASSERT_TRUE(inst);
  EXPECT_TRUE(inst->call("rec", std::vector<Value>{Value::i32(50)}).ok());
  auto r = inst->call("rec", std::vector<Value>{Value::i32(500)});
  ASSERT_TRUE(r.trapped());
  EXPECT_EQ(r.trap().kind, TrapKind::StackExhausted);
  EXPECT_TRUE(inst->call("rec", std::vector<Value>{Value::i32(50)}).ok());
}

TEST_F(AotTest, MemoryLimit) {
  InstanceLimits limits;
  limits.max_memory_bytes = 3 * 65536;
  auto m = compile(kMemory);
  auto inst = instantiate(m, {}, limits);
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->call("grow", std::vector<Value>{Value::i32(2)}).values()[0].i32(), 1u);
  EXPECT_EQ(inst->call("grow", std::vector<Value>{Value::i32(1)}).values()[0].i32(), 0xffffffffu);
  InstanceLimits tiny;
  tiny.max_memory_bytes = 1000;
  auto r = engine_->instantiate(m, {}, tiny);
  EXPECT_TRUE(std::holds_alternative<Error>(r));
}

TEST_F(AotTest, CallIndirectAcrossInstancesOfDifferentModules) {
  auto a = instantiate(compile(R"((module
    (table (export "table") 3 funcref)
    (func $seven (result i32) (i32.const 7))
    (func $one (param i32) (result i32) (local.get 0))
    (elem (i32.const 0) $seven $one)))"));
  ASSERT_TRUE(a);
  auto table = std::get<std::shared_ptr<Table>>(*a->get_export("table"));
  auto mb = compile(R"((module
    (import "a" "table" (table 3 funcref))
    (type $r (func (result i32)))
    (func (export "call") (param i32) (result i32) (call_indirect (type $r) (local.get 0)))))");
  ImportValue imports[] = {{"a", "table", table}};
  auto b = instantiate(mb, imports);
  ASSERT_TRUE(b);
  auto r = b->call("call", std::vector<Value>{Value::i32(0)});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), 7u);
  r = b->call("call", std::vector<Value>{Value::i32(1)});
  ASSERT_TRUE(r.trapped());
  EXPECT_EQ(r.trap().kind, TrapKind::IndirectCallMismatch);
  r = b->call("call", std::vector<Value>{Value::i32(2)});
  ASSERT_TRUE(r.trapped());
  EXPECT_EQ(r.trap().kind, TrapKind::IndirectCallNull);
  r = b->call("call", std::vector<Value>{Value::i32(3)});
  ASSERT_TRUE(r.trapped());
  EXPECT_EQ(r.trap().kind, TrapKind::TableOutOfBounds);
  // A funcref read by the host is callable and can be stored back.
  auto ref = table->get(0);
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(ref->func);
  EXPECT_EQ(ref->func->call({}).values()[0].i32(), 7u);
  ASSERT_TRUE(table->set(2, *ref).ok());
  EXPECT_EQ(b->call("call", std::vector<Value>{Value::i32(2)}).values()[0].i32(), 7u);
}

TEST_F(AotTest, HostFunctionInATableWithASignatureNoModuleHasYet) {
  auto table = engine_->host_table(TableType{ValType::FuncRef, {1, 1}});
  ASSERT_TRUE(table.ok());
  FuncType sig{{ValType::F64, ValType::I64}, {ValType::I64, ValType::F64}};
  auto f = engine_->host_func(sig, [](Caller&, std::span<const Value> args, std::span<Value> results) {
    results[0] = Value::i64(args[1].i64() + 1);
    results[1] = Value::f64(args[0].f64() * 2);
    return std::optional<Trap>();
  });
  ASSERT_TRUE((*table)->set(0, Ref::func_ref(f)).ok());
  EXPECT_EQ(aot_stats(*engine_)->compiler_runs, 1u);  // the signature's trampoline
  auto back = (*table)->get(0);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->func, f);  // identity survives the round trip
  auto m = compile(R"((module
    (import "env" "t" (table 1 funcref))
    (type $s (func (param f64 i64) (result i64 f64)))
    (func (export "go") (result i64 f64)
      (call_indirect (type $s) (f64.const 1.5) (i64.const 41) (i32.const 0)))))");
  ImportValue imports[] = {{"env", "t", *table}};
  auto inst = instantiate(m, imports);
  ASSERT_TRUE(inst);
  auto r = inst->call("go", {});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i64(), 42u);
  EXPECT_EQ(r.values()[1].f64(), 3.0);
}

TEST_F(AotTest, LinksMemoriesGlobalsAndReferences) {
  auto host_mem = engine_->host_memory(MemoryType{{1, 2}});
  auto host_global = engine_->host_global(GlobalType{ValType::I32, true}, Value::i32(5));
  ASSERT_TRUE(host_mem.ok() && host_global.ok());
  auto m = compile(R"((module
    (import "env" "mem" (memory 1))
    (import "env" "g" (global $g (mut i32)))
    (global $e (export "e") (mut externref) (ref.null extern))
    (func (export "bump") (result i32)
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (i32.store (i32.const 8) (global.get $g))
      (global.get $g))
    (func (export "id") (param externref funcref) (result funcref externref) (local.get 1) (local.get 0))))");
  ImportValue imports[] = {{"env", "mem", *host_mem}, {"env", "g", *host_global}};
  auto inst = instantiate(m, imports);
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->call("bump", {}).values()[0].i32(), 6u);
  EXPECT_EQ((*host_global)->get().i32(), 6u);
  uint8_t word[4];
  ASSERT_TRUE((*host_mem)->read(8, word).ok());
  EXPECT_EQ(word[0], 6);
  auto f = inst->func("bump");
  auto r = inst->call("id", std::vector<Value>{Value::ref(ValType::ExternRef, Ref::extern_ref(0)),
                                               Value::ref(ValType::FuncRef, Ref::func_ref(f))});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_FALSE(r.values()[1].ref().is_null);
  EXPECT_EQ(r.values()[1].ref().host, 0u);
  ASSERT_TRUE(r.values()[0].ref().func);
  EXPECT_EQ(r.values()[0].ref().func->call({}).values()[0].i32(), 7u);
  auto g = std::get<std::shared_ptr<Global>>(*inst->get_export("e"));
  EXPECT_TRUE(g->get().ref().is_null);
  ASSERT_TRUE(g->set(Value::ref(ValType::ExternRef, Ref::extern_ref(42))).ok());
  EXPECT_EQ(g->get().ref().host, 42u);
  // Missing and mistyped imports are errors.
  EXPECT_TRUE(std::holds_alternative<Error>(engine_->instantiate(m, {})));
  ImportValue wrong[] = {{"env", "mem", *host_mem}, {"env", "g", f}};
  EXPECT_TRUE(std::holds_alternative<Error>(engine_->instantiate(m, wrong)));
}

}  // namespace
}  // namespace stratus::engine
