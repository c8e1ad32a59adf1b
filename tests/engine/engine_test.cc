// Behaviour every engine backend must show, run against each of them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>

#include "engine/engine.h"
#include "engine/validate.h"
#include "tests/engine/engine_fixture.h"
#include "tests/support/wat.h"

namespace stratus::engine {
namespace {

using namespace std::chrono_literals;

TEST_P(EngineTest, CompileErrorNamesOffsetAndReason) {
  const std::vector<uint8_t> garbage = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60};
  auto module = engine_->compile(garbage, {.name = "garbage.wasm"});
  ASSERT_FALSE(module.ok());
  EXPECT_NE(module.error().message.find("offset"), std::string::npos) << module.error().message;

  auto invalid = testing::wat_to_wasm("(module (func (result i32)))");
  ASSERT_FALSE(invalid.ok()) << "wabt should reject a function with a missing result";

  // Valid binary, invalid module: a type mismatch found only by validation.
  const std::vector<uint8_t> mistyped = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // header
      0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,        // type: () -> i32
      0x03, 0x02, 0x01, 0x00,                          // func 0: type 0
      0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b,  // body: i64.const 0 (wrong type)
  };
  auto bad = engine_->compile(mistyped, {.name = "mistyped.wasm"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("offset"), std::string::npos) << bad.error().message;
}

// Found by fuzz.module_decode: a global's constant expression holding a
// loop (opcodes not allowed there). wabt 1.0.32's IR reader asserts on it
// (so does wasm-validate) unless the bytes were validated first; it must be
// a plain error on both backends.
TEST_P(EngineTest, LoopInConstantExpressionIsAnError) {
  const std::vector<uint8_t> bytes = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x02,
      0x26, 0x04, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x00, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02,
      0x01, 0x01, 0x31, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x67, 0x03, 0x7e, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01,
      0x74, 0x01, 0x70, 0x00, 0x01, 0x03, 0x02, 0x01, 0x00, 0x06, 0x0d, 0x01, 0x7c, 0x00, 0x45, 0x00, 0x00,
      0x2f, 0x00, 0x00, 0x00, 0x63, 0x03, 0x01, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b};
  auto module = engine_->compile(bytes, {.name = "const-expr.wasm"});
  ASSERT_FALSE(module.ok());
  EXPECT_NE(module.error().message.find("offset"), std::string::npos) << module.error().message;
}

// Found by fuzz.module_decode: call_ref (0x14) in a module otherwise valid
// under Wasm 2.0. Probing whether another proposal would accept it must not
// reach wabt's IR validator, which asserts on call_ref.
TEST_P(EngineTest, CallRefIsAnErrorNotAnAbort) {
  const std::vector<uint8_t> bytes = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00,
      0x01, 0x7f, 0x60, 0x00, 0x00, 0x03, 0x04, 0x03, 0x00, 0x01, 0x02, 0x05, 0x04, 0x01, 0x01, 0x01, 0x04, 0x07,
      0x1e, 0x04, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, 0x04,
      0x67, 0x72, 0x6f, 0x77, 0x00, 0x01, 0x04, 0x66, 0x01, 0x6d, 0x02, 0x00, 0x02, 0x0a, 0x3a, 0x03, 0x24, 0x01,
      0x01, 0x7f, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x45, 0x0d, 0x01, 0x20, 0x01, 0x20, 0x00, 0x0d, 0x00, 0x00,
      0x6a, 0x21, 0x01, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x14, 0x00, 0x0b, 0x0b, 0x20, 0x01, 0x0b, 0x06,
      0x00, 0x41, 0x02, 0xc0, 0x00, 0x0b, 0x0c, 0x00, 0x41, 0x00, 0x41, 0x07, 0x41, 0xe5, 0x00, 0xfc, 0x0b, 0x00,
      0x0b, 0x0b, 0x0d, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x07, 0x73, 0x74, 0x72, 0x61, 0x74, 0x75, 0x73};
  auto module = engine_->compile(bytes, {.name = "call-ref.wasm"});
  ASSERT_FALSE(module.ok());
  EXPECT_NE(module.error().message.find("offset"), std::string::npos) << module.error().message;
}

// Found by fuzz.component_decode: a data count section claiming billions of
// segments made wabt's reader reserve that much memory.
TEST_P(EngineTest, HugeDataCountIsAnErrorNotAnAllocation) {
  const std::vector<uint8_t> bytes = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                      0x0c, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f};
  auto module = engine_->compile(bytes, {.name = "data-count.wasm"});
  ASSERT_FALSE(module.ok());
  EXPECT_NE(module.error().message.find("data count"), std::string::npos) << module.error().message;
  auto info = engine::validate_core_module(bytes);
  ASSERT_FALSE(info.ok());
}

TEST_P(EngineTest, ListsImportsAndExportsWithTypes) {
  auto module = compile(R"((module
    (import "env" "log" (func (param i32 i64) (result f32)))
    (import "env" "mem" (memory 1 3))
    (import "env" "g" (global (mut i64)))
    (import "env" "t" (table 2 funcref))
    (func (export "f") (param f64) (result i32 i32) i32.const 1 i32.const 2)
    (export "memory" (memory 0))
    (global (export "answer") i32 (i32.const 42))
    (table (export "tab") 4 10 externref)))");
  ASSERT_TRUE(module);
  const auto& imports = module->imports();
  ASSERT_EQ(imports.size(), 4u);
  EXPECT_EQ(imports[0].module, "env");
  EXPECT_EQ(imports[0].name, "log");
  EXPECT_EQ(std::get<FuncType>(imports[0].type), (FuncType{{ValType::I32, ValType::I64}, {ValType::F32}}));
  EXPECT_EQ(std::get<MemoryType>(imports[1].type).limits, (Limits{1, 3}));
  EXPECT_EQ(std::get<GlobalType>(imports[2].type), (GlobalType{ValType::I64, true}));
  EXPECT_EQ(std::get<TableType>(imports[3].type), (TableType{ValType::FuncRef, {2, std::nullopt}}));

  const auto& exports = module->exports();
  ASSERT_EQ(exports.size(), 4u);
  EXPECT_EQ(exports[0].name, "f");
  EXPECT_EQ(std::get<FuncType>(exports[0].type), (FuncType{{ValType::F64}, {ValType::I32, ValType::I32}}));
  EXPECT_EQ(std::get<MemoryType>(exports[1].type).limits, (Limits{1, 3}));
  EXPECT_EQ(std::get<GlobalType>(exports[2].type), (GlobalType{ValType::I32, false}));
  EXPECT_EQ(std::get<TableType>(exports[3].type), (TableType{ValType::ExternRef, {4, 10}}));
  EXPECT_EQ(module->hash().size(), 64u);
}

// Two memories: an error by default (Wasm 2.0), compiled and kept apart with
// CompileOptions::multi_memory (core modules inside components).
TEST_P(EngineTest, MultiMemoryOnlyWhenAskedFor) {
  auto bytes = testing::wat_to_wasm(R"((module
    (memory $a 1) (memory $b 1)
    (func (export "poke") (param i32) (i32.store8 $b (i32.const 0) (local.get 0)))
    (func (export "sum") (result i32)
      (i32.add (i32.load8_u $a (i32.const 0)) (i32.load8_u $b (i32.const 0))))))",
                                    testing::WatFeatures::All);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto plain = engine_->compile(*bytes, {.name = "two-memories"});
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("two-memories"), std::string::npos) << plain.error().message;
  auto module = engine_->compile(*bytes, {.name = "two-memories", .multi_memory = true});
  ASSERT_TRUE(module.ok()) << module.error().message;
  auto instance = instantiate(*module);
  ASSERT_TRUE(instance);
  ASSERT_TRUE(instance->call("poke", std::vector{Value::i32(7)}).ok());
  auto sum = instance->call("sum", {});
  ASSERT_TRUE(sum.ok()) << sum.describe();
  EXPECT_EQ(sum.values().at(0).i32(), 7u);
}

TEST_P(EngineTest, CallsWithTypedValuesAndKeepsNaNPayloads) {
  auto instance = instance_of(R"((module
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "mul64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
    (func (export "id32") (param f32) (result f32) local.get 0)
    (func (export "id64") (param f64) (result f64) local.get 0)
    (func (export "swap") (param i32 f64) (result f64 i32) local.get 1 local.get 0)))");
  ASSERT_TRUE(instance);
  auto add = instance->call("add", std::vector{Value::i32(40), Value::i32(2)});
  ASSERT_TRUE(add.ok()) << add.describe();
  EXPECT_EQ(add.values().at(0).i32(), 42u);
  auto wrap = instance->call("add", std::vector{Value::i32(0xffffffffu), Value::i32(2)});
  EXPECT_EQ(wrap.values().at(0).i32(), 1u);
  auto mul = instance->call("mul64", std::vector{Value::i64(1ull << 40), Value::i64(3)});
  EXPECT_EQ(mul.values().at(0).i64(), 3ull << 40);

  const uint32_t nan32 = 0x7fa00001;  // signalling NaN with a payload
  auto id32 = instance->call("id32", std::vector{Value::f32_bits(nan32)});
  ASSERT_TRUE(id32.ok()) << id32.describe();
  EXPECT_EQ(id32.values().at(0).f32_bits(), nan32);
  const uint64_t nan64 = 0xfff0000000000123ull;
  auto id64 = instance->call("id64", std::vector{Value::f64_bits(nan64)});
  EXPECT_EQ(id64.values().at(0).f64_bits(), nan64);

  auto swap = instance->call("swap", std::vector{Value::i32(7), Value::f64(2.5)});
  ASSERT_TRUE(swap.ok()) << swap.describe();
  ASSERT_EQ(swap.values().size(), 2u);
  EXPECT_EQ(swap.values()[0].f64(), 2.5);
  EXPECT_EQ(swap.values()[1].i32(), 7u);
}

TEST_P(EngineTest, WrongArgumentsAreAnErrorNotATrap) {
  auto instance = instance_of(R"((module (func (export "f") (param i32) (result i32) local.get 0)))");
  ASSERT_TRUE(instance);
  auto none = instance->call("f", {});
  EXPECT_FALSE(none.ok());
  EXPECT_FALSE(none.trapped());
  auto wrong_type = instance->call("f", std::vector{Value::i64(1)});
  EXPECT_FALSE(wrong_type.ok());
  EXPECT_FALSE(wrong_type.trapped());
  auto missing = instance->call("nope", {});
  EXPECT_FALSE(missing.ok());
}

TEST_P(EngineTest, TrapsComeBackWithTheirKind) {
  auto instance = instance_of(R"((module
    (type $v (func))
    (memory 1)
    (table 2 funcref)
    (func (export "unreachable") unreachable)
    (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
    (func (export "load") (param i32) (result i32) local.get 0 i32.load)
    (func (export "trunc") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
    (func (export "null_call") i32.const 1 call_indirect (type $v))))");
  ASSERT_TRUE(instance);
  auto expect_trap = [&](std::string_view name, std::vector<Value> args, TrapKind kind) {
    auto r = instance->call(name, args);
    ASSERT_TRUE(r.trapped()) << name << ": " << r.describe();
    EXPECT_EQ(r.trap().kind, kind) << name << ": " << r.describe();
  };
  expect_trap("unreachable", {}, TrapKind::Unreachable);
  expect_trap("div", {Value::i32(1), Value::i32(0)}, TrapKind::IntegerDivideByZero);
  expect_trap("div", {Value::i32(0x80000000u), Value::i32(0xffffffffu)}, TrapKind::IntegerOverflow);
  expect_trap("load", {Value::i32(65534)}, TrapKind::MemoryOutOfBounds);
  expect_trap("load", {Value::i32(0xfffffff0u)}, TrapKind::MemoryOutOfBounds);
  expect_trap("trunc", {Value::f32(NAN)}, TrapKind::InvalidConversion);
  expect_trap("trunc", {Value::f32(3e9f)}, TrapKind::IntegerOverflow);
  expect_trap("null_call", {}, TrapKind::IndirectCallNull);

  // The instance stays usable after a trap.
  auto ok = instance->call("div", std::vector{Value::i32(9), Value::i32(3)});
  ASSERT_TRUE(ok.ok()) << ok.describe();
  EXPECT_EQ(ok.values()[0].i32(), 3u);
}

TEST_P(EngineTest, HostFunctionSeesCallerMemoryThroughBoundsCheckedView) {
  std::string seen;
  auto log = engine_->host_func(
      FuncType{{ValType::I32, ValType::I32}, {ValType::I32}},
      [&](Caller& caller, std::span<const Value> args, std::span<Value> results) -> std::optional<Trap> {
        Memory* memory = caller.memory();
        if (memory == nullptr) return Trap{TrapKind::HostError, "no memory"};
        auto view = memory->view(args[0].i32(), args[1].i32());
        if (!view) return Trap{TrapKind::HostError, "string out of bounds"};
        seen.assign(view->begin(), view->end());
        results[0] = Value::i32(static_cast<uint32_t>(seen.size()));
        return std::nullopt;
      });
  std::vector<ImportValue> imports = {{"env", "log", log}};
  auto instance = instance_of(R"((module
    (import "env" "log" (func $log (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "hello, host")
    (func (export "good") (result i32) i32.const 16 i32.const 11 call $log)
    (func (export "bad") (result i32) i32.const 65530 i32.const 100 call $log)))",
                              imports);
  ASSERT_TRUE(instance);
  auto good = instance->call("good", {});
  ASSERT_TRUE(good.ok()) << good.describe();
  EXPECT_EQ(good.values()[0].i32(), 11u);
  EXPECT_EQ(seen, "hello, host");

  auto bad = instance->call("bad", {});
  ASSERT_TRUE(bad.trapped()) << bad.describe();
  EXPECT_EQ(bad.trap().kind, TrapKind::HostError);
  EXPECT_NE(bad.trap().message.find("string out of bounds"), std::string::npos);

  // Host code can use the same view from outside a call.
  auto memory = instance->memory();
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->size_bytes(), 65536u);
  EXPECT_FALSE(memory->view(65536, 1).has_value());
  EXPECT_TRUE(memory->view(65535, 1).has_value());
  EXPECT_FALSE(memory->view(UINT64_MAX, 2).has_value());
}

TEST_P(EngineTest, HostExitTrapKeepsItsCode) {
  auto exit_fn =
      engine_->host_func(FuncType{{ValType::I32}, {}}, [](Caller&, std::span<const Value> args, std::span<Value>) {
        return std::optional<Trap>(Trap{TrapKind::Exit, "exit", static_cast<int>(args[0].i32())});
      });
  std::vector<ImportValue> imports = {{"wasi", "exit", exit_fn}};
  auto instance = instance_of(R"((module
    (import "wasi" "exit" (func $exit (param i32)))
    (func (export "_start") i32.const 3 call $exit unreachable)))",
                              imports);
  ASSERT_TRUE(instance);
  auto r = instance->call("_start", {});
  ASSERT_TRUE(r.trapped()) << r.describe();
  EXPECT_EQ(r.trap().kind, TrapKind::Exit);
  EXPECT_EQ(r.trap().exit_code, 3);
}

TEST_P(EngineTest, LinksOneInstanceToAnothersExports) {
  auto provider = instance_of(R"((module
    (type $i2i (func (param i32) (result i32)))
    (memory (export "mem") 1)
    (global (export "counter") (mut i32) (i32.const 5))
    (table (export "tab") 2 funcref)
    (elem (i32.const 0) $double)
    (func $double (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
    (func (export "peek") (param i32) (result i32) local.get 0 i32.load)))");
  ASSERT_TRUE(provider);
  std::vector<ImportValue> imports;
  for (const char* name : {"mem", "counter", "tab", "double"}) {
    auto ext = provider->get_export(name);
    ASSERT_TRUE(ext.has_value()) << name;
    imports.push_back({"provider", name, *ext});
  }
  auto user = instance_of(R"((module
    (type $i2i (func (param i32) (result i32)))
    (import "provider" "mem" (memory 1))
    (import "provider" "counter" (global $c (mut i32)))
    (import "provider" "tab" (table 2 funcref))
    (import "provider" "double" (func $double (param i32) (result i32)))
    (func (export "run") (result i32)
      ;; write through the shared memory, bump the shared global,
      ;; call directly and through the shared table
      i32.const 8 i32.const 1234 i32.store
      global.get $c i32.const 1 i32.add global.set $c
      i32.const 10 call $double
      i32.const 100 i32.const 0 call_indirect (type $i2i)
      i32.add)))",
                          imports);
  ASSERT_TRUE(user);
  auto r = user->call("run", {});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.values()[0].i32(), 220u);
  auto peek = provider->call("peek", std::vector{Value::i32(8)});
  EXPECT_EQ(peek.values()[0].i32(), 1234u);
  auto counter = std::get<std::shared_ptr<Global>>(*provider->get_export("counter"));
  EXPECT_EQ(counter->get().i32(), 6u);
}

// Reinitializing in place (what `stratus serve` does between requests on
// the aot backend) must leave the instances as instantiation made them:
// memory back to its initial size with only the data segments in it,
// globals and tables as initialized, start functions run again, in the
// order the instances were made; the export objects stay valid. The
// interpreter cannot, and says so.
TEST_P(EngineTest, ReinitializeMakesInstancesFreshInPlace) {
  int starts = 0;
  auto started = engine_->host_func(FuncType{{}, {}}, [&](Caller&, std::span<const Value>, std::span<Value>) {
    ++starts;
    return std::optional<Trap>();
  });
  std::vector<ImportValue> host = {{"host", "started", started}};
  auto provider = instance_of(R"((module
    (import "host" "started" (func $started))
    (memory (export "mem") 1 4)
    (global (export "counter") (mut i32) (i32.const 5))
    (table (export "tab") 2 funcref)
    (elem (i32.const 0) $double)
    (data (i32.const 16) "\2a")
    (func $double (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
    (func (export "peek") (param i32) (result i32) local.get 0 i32.load)
    (func (export "pages") (result i32) memory.size)
    (start $started)))",
                              host);
  ASSERT_TRUE(provider);
  std::vector<ImportValue> imports = host;
  for (const char* name : {"mem", "counter", "tab"}) imports.push_back({"provider", name, *provider->get_export(name)});
  auto user = instance_of(R"((module
    (type $i2i (func (param i32) (result i32)))
    (import "host" "started" (func $started))
    (import "provider" "mem" (memory 1 4))
    (import "provider" "counter" (global $c (mut i32)))
    (import "provider" "tab" (table 2 funcref))
    (global $own (mut i32) (i32.const 100))
    (data (i32.const 32) "\07")
    (elem declare func $triple)
    (func $triple (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
    (func (export "dirty")
      i32.const 8 i32.const 1234 i32.store
      i32.const 16 i32.const 0 i32.store
      global.get $c i32.const 1 i32.add global.set $c
      global.get $own i32.const 1 i32.add global.set $own
      i32.const 1 ref.func $triple table.set 0
      i32.const 2 memory.grow drop)
    (func (export "own") (result i32) global.get $own)
    (func (export "second") (param i32) (result i32) local.get 0 i32.const 1 call_indirect (type $i2i))
    (start $started)))",
                          imports);
  ASSERT_TRUE(user);
  ASSERT_EQ(starts, 2);
  auto counter = std::get<std::shared_ptr<Global>>(*provider->get_export("counter"));
  auto peek = provider->func("peek");
  auto second = user->func("second");
  ASSERT_TRUE(user->call("dirty", {}).ok());
  ASSERT_EQ(counter->get().i32(), 6u);
  ASSERT_EQ(second->call(std::vector{Value::i32(5)}).values()[0].i32(), 15u);

  auto again = provider->reinitialize();
  if (GetParam() == "interp") {
    ASSERT_TRUE(std::holds_alternative<Error>(again));
    return;
  }
  ASSERT_TRUE(std::holds_alternative<std::monostate>(again));
  ASSERT_TRUE(std::holds_alternative<std::monostate>(user->reinitialize()));
  EXPECT_EQ(starts, 4);
  EXPECT_EQ(provider->call("pages", {}).values()[0].i32(), 1u);
  auto at = [&](uint32_t addr) { return peek->call(std::vector{Value::i32(addr)}).values()[0].i32(); };
  EXPECT_EQ(at(8), 0u);
  EXPECT_EQ(at(16), 0x2au);
  EXPECT_EQ(at(32), 7u);
  EXPECT_EQ(counter->get().i32(), 5u);
  EXPECT_EQ(user->call("own", {}).values()[0].i32(), 100u);
  auto cleared = second->call(std::vector{Value::i32(5)});
  EXPECT_TRUE(cleared.trapped()) << cleared.describe();

  // An interrupted instance is not reinitialized; a start function that
  // traps leaves the instance of no further use.
  user->interrupt();
  EXPECT_TRUE(std::holds_alternative<Error>(user->reinitialize()));
  int calls = 0;
  auto trap_second_time = engine_->host_func(FuncType{{}, {}}, [&](Caller&, std::span<const Value>, std::span<Value>) {
    return ++calls == 2 ? std::optional<Trap>(Trap{TrapKind::Unreachable, "second start"}) : std::optional<Trap>();
  });
  std::vector<ImportValue> trapping = {{"host", "started", trap_second_time}};
  auto flaky = instance_of(R"((module (import "host" "started" (func $s)) (memory 1) (start $s)))", trapping);
  ASSERT_TRUE(flaky);
  EXPECT_TRUE(std::holds_alternative<Trap>(flaky->reinitialize()));
  EXPECT_TRUE(std::holds_alternative<Error>(flaky->reinitialize()));
}

TEST_P(EngineTest, ImportTypeMismatchIsAnError) {
  auto provider = instance_of(R"((module (func (export "f") (param i64))))");
  ASSERT_TRUE(provider);
  auto module = compile(R"((module (import "p" "f" (func (param i32)))))");
  ASSERT_TRUE(module);
  std::vector<ImportValue> imports = {{"p", "f", *provider->get_export("f")}};
  auto result = engine_->instantiate(module, imports);
  EXPECT_TRUE(std::holds_alternative<Error>(result));
  auto missing = engine_->instantiate(module, {});
  EXPECT_TRUE(std::holds_alternative<Error>(missing));
}

TEST_P(EngineTest, HostCreatedMemoryTableAndGlobal) {
  auto memory = engine_->host_memory(MemoryType{{1, 2}});
  ASSERT_TRUE(memory.ok()) << memory.error().message;
  auto global = engine_->host_global(GlobalType{ValType::I32, true}, Value::i32(7));
  ASSERT_TRUE(global.ok()) << global.error().message;
  auto table = engine_->host_table(TableType{ValType::FuncRef, {3, 3}});
  ASSERT_TRUE(table.ok()) << table.error().message;
  ASSERT_TRUE((*memory)->write(100, std::vector<uint8_t>{0x2a, 0, 0, 0}).ok());

  std::vector<ImportValue> imports = {{"h", "m", *memory}, {"h", "g", *global}, {"h", "t", *table}};
  auto instance = instance_of(R"((module
    (import "h" "m" (memory 1 2))
    (import "h" "g" (global $g (mut i32)))
    (import "h" "t" (table 3 3 funcref))
    (func (export "read") (result i32) i32.const 100 i32.load global.get $g i32.add)
    (func (export "grow") (result i32) i32.const 1 memory.grow)
    (func (export "set") (param i32) local.get 0 global.set $g)))",
                              imports);
  ASSERT_TRUE(instance);
  EXPECT_EQ(instance->call("read", {}).values()[0].i32(), 49u);
  EXPECT_EQ(instance->call("grow", {}).values()[0].i32(), 1u);
  EXPECT_EQ((*memory)->size_bytes(), 2u * 65536);
  EXPECT_EQ(instance->call("grow", {}).values()[0].i32(), 0xffffffffu);  // at max
  ASSERT_TRUE(instance->call("set", std::vector{Value::i32(99)}).ok());
  EXPECT_EQ((*global)->get().i32(), 99u);
  EXPECT_EQ((*table)->size(), 3u);
}

TEST_P(EngineTest, ReferencesRoundTrip) {
  auto instance = instance_of(R"((module
    (func $seven (result i32) i32.const 7)
    (elem declare func $seven)
    (func (export "id") (param externref) (result externref) local.get 0)
    (func (export "is_null") (param externref) (result i32) local.get 0 ref.is_null)
    (func (export "get_func") (result funcref) ref.func $seven)))");
  ASSERT_TRUE(instance);
  auto id = instance->call("id", std::vector{Value::ref(ValType::ExternRef, Ref::extern_ref(42))});
  ASSERT_TRUE(id.ok()) << id.describe();
  EXPECT_FALSE(id.values()[0].ref().is_null);
  EXPECT_EQ(id.values()[0].ref().host, 42u);
  auto null = instance->call("is_null", std::vector{Value::ref(ValType::ExternRef, Ref::null())});
  EXPECT_EQ(null.values()[0].i32(), 1u);
  auto zero = instance->call("is_null", std::vector{Value::ref(ValType::ExternRef, Ref::extern_ref(0))});
  EXPECT_EQ(zero.values()[0].i32(), 0u) << "ref.extern 0 is not null";

  auto f = instance->call("get_func", {});
  ASSERT_TRUE(f.ok()) << f.describe();
  ASSERT_FALSE(f.values()[0].ref().is_null);
  ASSERT_TRUE(f.values()[0].ref().func);
  auto seven = f.values()[0].ref().func->call({});
  ASSERT_TRUE(seven.ok()) << seven.describe();
  EXPECT_EQ(seven.values()[0].i32(), 7u);
}

TEST_P(EngineTest, StartFunctionTrapIsReturnedAsTrap) {
  auto module = compile(R"((module (func $s unreachable) (start $s)))");
  ASSERT_TRUE(module);
  auto result = engine_->instantiate(module, {});
  ASSERT_TRUE(std::holds_alternative<Trap>(result));
  EXPECT_EQ(std::get<Trap>(result).kind, TrapKind::Unreachable);
}

TEST_P(EngineTest, MemoryLimitCapsGrowthAndInstantiation) {
  InstanceLimits limits;
  limits.max_memory_bytes = 4 * 65536;
  auto instance = instance_of(R"((module
    (memory (export "memory") 2)
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)))",
                              {}, limits);
  ASSERT_TRUE(instance);
  EXPECT_EQ(instance->call("grow", std::vector{Value::i32(2)}).values()[0].i32(), 2u);
  EXPECT_EQ(instance->call("grow", std::vector{Value::i32(1)}).values()[0].i32(), 0xffffffffu);
  EXPECT_EQ(instance->memory()->size_bytes(), 4u * 65536);

  auto big = compile("(module (memory 8))");
  ASSERT_TRUE(big);
  auto result = engine_->instantiate(big, {}, limits);
  ASSERT_TRUE(std::holds_alternative<Error>(result));
  EXPECT_NE(std::get<Error>(result).message.find("memory"), std::string::npos);
}

// A server makes an instance per request; the aot backend hands a freed
// instance's memory to the next one. Each must start zeroed, with exactly
// its own pages accessible, whatever the one before wrote or grew.
TEST_P(EngineTest, EachInstanceGetsZeroedMemoryOfItsOwnSize) {
  auto module = compile(R"((module
    (memory 1)
    (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
    (func (export "load") (param i32) (result i32) local.get 0 i32.load)
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)))");
  ASSERT_TRUE(module);
  for (int round = 0; round < 4; ++round) {
    auto instance = instantiate(module);
    ASSERT_TRUE(instance);
    for (uint32_t addr : {0u, 4096u, 65532u}) {
      auto v = instance->call("load", std::vector{Value::i32(addr)});
      ASSERT_TRUE(v.ok()) << v.describe();
      EXPECT_EQ(v.values()[0].i32(), 0u) << "round " << round << ", address " << addr;
    }
    auto beyond = instance->call("load", std::vector{Value::i32(65536 + 8)});
    ASSERT_TRUE(beyond.trapped()) << "round " << round << ": " << beyond.describe();
    EXPECT_EQ(beyond.trap().kind, TrapKind::MemoryOutOfBounds);
    ASSERT_TRUE(instance->call("store", std::vector{Value::i32(0), Value::i32(0xdead)}).ok());
    ASSERT_TRUE(instance->call("store", std::vector{Value::i32(65532), Value::i32(7)}).ok());
    EXPECT_EQ(instance->call("grow", std::vector{Value::i32(1)}).values()[0].i32(), 1u);
    ASSERT_TRUE(instance->call("store", std::vector{Value::i32(65536 + 8), Value::i32(5)}).ok());
  }
}

TEST_P(EngineTest, CallDepthLimitTrapsAsStackExhausted) {
  InstanceLimits limits;
  limits.max_call_depth = 200;
  auto instance = instance_of(R"((module
    (func $down (export "down") (param i32) (result i32)
      local.get 0 i32.eqz
      if (result i32) i32.const 0
      else local.get 0 i32.const 1 i32.sub call $down i32.const 1 i32.add end)))",
                              {}, limits);
  ASSERT_TRUE(instance);
  auto shallow = instance->call("down", std::vector{Value::i32(100)});
  ASSERT_TRUE(shallow.ok()) << shallow.describe();
  EXPECT_EQ(shallow.values()[0].i32(), 100u);
  auto deep = instance->call("down", std::vector{Value::i32(100000)});
  ASSERT_TRUE(deep.trapped()) << deep.describe();
  EXPECT_EQ(deep.trap().kind, TrapKind::StackExhausted);
  // Unbounded recursion with the default limit also traps, without crashing.
  auto unbounded = instance_of(R"((module (func $f (export "f") call $f)))");
  ASSERT_TRUE(unbounded);
  auto r = unbounded->call("f", {});
  ASSERT_TRUE(r.trapped()) << r.describe();
  EXPECT_EQ(r.trap().kind, TrapKind::StackExhausted);
}

constexpr const char* kSpinners = R"((module
  (func (export "spin") (loop br 0))
  (func $rec (export "spin_calls") (param i32) (result i32)
    ;; an endless loop whose body is a call: checks at function entry count too
    (loop (drop (call $leaf (local.get 0))) (br 0)) (i32.const 0))
  (func $leaf (param i32) (result i32) local.get 0 i32.const 1 i32.add)
  (func (export "quick") (result i32) i32.const 5)))";

TEST_P(EngineTest, DeadlineStopsAnInfiniteLoopWithinTwiceTheDeadline) {
  InstanceLimits limits;
  limits.call_timeout = 300ms;
  auto instance = instance_of(kSpinners, {}, limits);
  ASSERT_TRUE(instance);
  for (const char* name : {"spin", "spin_calls"}) {
    std::vector<Value> args;
    if (std::string_view(name) == "spin_calls") args.push_back(Value::i32(1));
    auto start = std::chrono::steady_clock::now();
    auto r = instance->call(name, args);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r.trapped()) << name << ": " << r.describe();
    EXPECT_EQ(r.trap().kind, TrapKind::Deadline) << name;
    EXPECT_GE(elapsed, 300ms) << name;
    EXPECT_LT(elapsed, 600ms) << name << " took "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  }
  // The deadline is per call: the next call starts with a fresh budget.
  auto quick = instance->call("quick", {});
  ASSERT_TRUE(quick.ok()) << quick.describe();
  EXPECT_EQ(quick.values()[0].i32(), 5u);
}

TEST_P(EngineTest, InterruptFromAnotherThreadStopsACall) {
  auto instance = instance_of(kSpinners);
  ASSERT_TRUE(instance);
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    instance->interrupt();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = instance->call("spin", {});
  auto elapsed = std::chrono::steady_clock::now() - start;
  stopper.join();
  ASSERT_TRUE(r.trapped()) << r.describe();
  EXPECT_EQ(r.trap().kind, TrapKind::Deadline);
  EXPECT_LT(elapsed, 2s);
}

TEST_P(EngineTest, InstancesRunOnSeveralThreadsAtOnce) {
  auto module = compile(R"((module
    (memory 1)
    (func (export "sum") (param i32) (result i64) (local i64)
      (loop
        (local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
        (i64.store (i32.const 0) (local.get 1))
        (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
        (br_if 0))
      (i64.load (i32.const 0)))
    (func (export "boom") (param i32) (result i32) local.get 0 i32.const 0 i32.div_u)))");
  ASSERT_TRUE(module);
  constexpr int kThreads = 4;
  std::vector<std::shared_ptr<Instance>> instances;
  for (int i = 0; i < kThreads; ++i) instances.push_back(instantiate(module));
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        const uint32_t n = 1000 + static_cast<uint32_t>(t * 100 + round);
        auto r = instances[t]->call("sum", std::vector{Value::i32(n)});
        auto trap = instances[t]->call("boom", std::vector{Value::i32(1)});
        if (r.ok() && r.values()[0].i64() == uint64_t{n} * (n + 1) / 2 && trap.trapped() &&
            trap.trap().kind == TrapKind::IntegerDivideByZero) {
          ++good;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), kThreads * 20);
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineTest, ::testing::Values("aot", "interp", "aot_split"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::engine
