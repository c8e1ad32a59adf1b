// `stratus compose` (component/compose): the binary writer; the jco p3
// caller/callee pairs fused into one component and run by our runtime with
// the results tests/component/jco/p3_general_test.cc expects of the pair
// linked by the host, on both engine backends; `jco wit` reading each
// result; the errors; and the command end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "component/binary/decoder.h"
#include "component/compose/compose.h"
#include "component/compose/type_encoder.h"
#include "component/compose/writer.h"
#include "component/runtime/host_async.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "tests/cli/run_stratus.h"
#include "tests/component/jco/test_host.h"
#include "tests/support/http_get.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace stratus::test {
namespace {

using component::CallOutcome;
using component::Val;
using component::compose::ComposeInput;
using component::compose::Writer;

std::string general(const std::string& name) {
  return std::string(STRATUS_JCO_P3_FIXTURES) + "/general/" + name + ".wasm";
}

ComposeInput input(const std::string& file) {
  auto bytes = read_file(file);
  EXPECT_TRUE(bytes.ok()) << file;
  return {file, bytes.ok() ? *bytes : std::vector<uint8_t>{}};
}

Result<std::vector<uint8_t>> compose(const std::string& main, const std::vector<std::string>& plugs) {
  std::vector<ComposeInput> in;
  for (const auto& p : plugs) in.push_back(input(p));
  return component::compose::compose(input(main), in);
}

std::vector<std::string> names(const std::vector<component::NamedExtern>& externs) {
  std::vector<std::string> out;
  for (const auto& e : externs) out.push_back(e.name);
  return out;
}

// ------------------------------------------------------------- the writer

TEST(ComposeWriterTest, Leb128) {
  Writer w;
  w.u32(0);
  w.u32(127);
  w.u32(128);
  w.u32(624485);
  EXPECT_EQ(w.bytes(), (std::vector<uint8_t>{0x00, 0x7f, 0x80, 0x01, 0xe5, 0x8e, 0x26}));
  Writer s;
  s.s33(0);
  s.s33(63);
  s.s33(64);  // needs a second byte: 0x40 alone is -64
  s.s33(-1);
  s.s33(300);
  EXPECT_EQ(s.bytes(), (std::vector<uint8_t>{0x00, 0x3f, 0xc0, 0x00, 0x7f, 0xac, 0x02}));
  Writer n;
  n.name("ab");
  n.section(7, std::vector<uint8_t>{1, 2, 3});
  EXPECT_EQ(n.bytes(), (std::vector<uint8_t>{0x02, 'a', 'b', 0x07, 0x03, 1, 2, 3}));
}

// Imported instance types with resources, named types, outer aliases and
// over a hundred type definitions (wasi:filesystem/types: two-byte type
// indices) encode and decode back to the same exports; an interface both
// import with different functions (borrowing-types: the callee calls a
// method the caller does not) is imported once, with the union.
TEST(ComposeWriterTest, InstanceTypesRoundTripThroughTheDecoder) {
  auto caller = component::decode_component(input(general("async-borrowing-caller")).bytes);
  ASSERT_TRUE(caller.ok());
  const auto& imports = (*caller)->type->imports;
  auto composed = compose(general("async-borrowing-caller"), {general("async-borrowing-callee")});
  ASSERT_TRUE(composed.ok()) << composed.error().message;
  auto again = component::decode_component(*composed);
  ASSERT_TRUE(again.ok()) << again.error().message;
  for (const auto& import : (*again)->type->imports) {
    auto original = std::find_if(imports.begin(), imports.end(), [&](const auto& i) { return i.name == import.name; });
    ASSERT_NE(original, imports.end()) << import.name;
    auto mine = names(std::get<component::InstanceTypePtr>(import.type)->exports);
    auto theirs = names(std::get<component::InstanceTypePtr>(original->type)->exports);
    if (import.name == "local:local/borrowing-types") {
      EXPECT_EQ(theirs, (std::vector<std::string>{"x", "[constructor]x"}));
      EXPECT_EQ(mine, (std::vector<std::string>{"x", "[constructor]x", "[method]x.foo"}));
    } else {
      EXPECT_EQ(mine, theirs) << import.name;
    }
  }
  // A type the encoder cannot place is an error, not a bad binary.
  auto stray = std::make_shared<component::ResourceType>();
  stray->name = "stray";
  component::InstanceType t;
  auto f = std::make_shared<component::FuncType>();
  f->params.push_back({"x", component::make_type(component::OwnType{stray, nullptr})});
  t.exports.push_back({"f", component::FuncTypePtr(f)});
  auto bytes = component::compose::encode_instance_type(t, {});
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.error().message.find("resource `stray`"), std::string::npos) << bytes.error().message;
}

// ----------------------------------------------------- the composed shape

TEST(ComposeTest, TheResultImportsWhatIsLeftAndExportsTheMainComponentsExports) {
  auto composed = compose(general("async-post-return-caller"), {general("async-post-return-callee")});
  ASSERT_TRUE(composed.ok()) << composed.error().message;
  auto c = component::decode_component(*composed);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto caller = component::decode_component(input(general("async-post-return-caller")).bytes);
  ASSERT_TRUE(caller.ok());
  auto imports = names((*c)->type->imports);
  EXPECT_EQ(std::count(imports.begin(), imports.end(), "local:local/post-return"), 0);
  EXPECT_EQ(imports.size(), (*caller)->type->imports.size() - 1);
  EXPECT_EQ(names((*c)->type->exports), names((*caller)->type->exports));
  size_t nested = 0;
  for (const auto& d : (*c)->definitions) nested += std::holds_alternative<component::ComponentDef>(d) ? 1 : 0;
  EXPECT_EQ(nested, 2u);
}

// `jco wit` (wasm-tools) reads every composition the tests below run.
TEST(ComposeTest, JcoWitReadsTheResults) {
  test_support::TempDir dir;
  struct Pair {
    const char* main;
    const char* plug;
    const char* plugged;
  };
  for (const Pair& p : {Pair{"async-post-return-caller", "async-post-return-callee", "local:local/post-return"},
                        Pair{"async-transmit-caller", "async-transmit-callee", "local:local/transmit"},
                        Pair{"async-borrowing-caller", "async-borrowing-callee", "local:local/borrowing"}}) {
    auto composed = compose(general(p.main), {general(p.plug)});
    ASSERT_TRUE(composed.ok()) << p.main << ": " << composed.error().message;
    auto file = dir.path() / (std::string(p.main) + ".wasm");
    ASSERT_TRUE(write_file_atomic(file, *composed).ok());
    std::string cmd = std::string(STRATUS_JCO) + " wit " + file.string() + " 2>&1";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string wit;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) wit.append(buf, n);
    int status = ::pclose(pipe);
    EXPECT_EQ(status, 0) << p.main << ":\n" << wit;
    EXPECT_NE(wit.find("import wasi:io/streams@0.2.12;"), std::string::npos) << wit;
    EXPECT_NE(wit.find("export wasi:cli/run@0.2.12;"), std::string::npos) << wit;
    EXPECT_EQ(wit.find(std::string("import ") + p.plugged + ";"), std::string::npos) << wit;
  }
}

// ------------------------------------------------------------ the errors

TEST(ComposeTest, APlugThatSatisfiesNoImportIsNamed) {
  std::string context = std::string(STRATUS_JCO_P3_FIXTURES) + "/context-sync/component.wasm";
  auto r = compose(general("async-post-return-caller"), {general("async-post-return-callee"), context});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find(context + " plugs none of the imports of " + general("async-post-return-caller") +
                                   " (it exports `push-context`"),
            0u)
      << r.error().message;
}

TEST(ComposeTest, AnImportTwoPlugsExportIsAmbiguous) {
  auto r = compose(general("async-post-return-caller"),
                   {general("async-post-return-callee"), general("async-post-return-callee")});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("`local:local/post-return` (imported by " + general("async-post-return-caller") +
                                   ") is exported by both"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("ambiguous"), std::string::npos);
}

TEST(ComposeTest, AnExportOfTheWrongTypeIsNamed) {
  // A callee whose `local:local/post-return` is an empty instance:
  // (component (type (instance)) (import "x:y/z" (instance (type 0)))
  //            (export "local:local/post-return" (instance 0)))
  std::vector<uint8_t> bytes = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00,                        // preamble
                                0x07, 0x03, 0x01, 0x42, 0x00,                                          // type
                                0x0a, 0x0a, 0x01, 0x00, 0x05, 'x',  ':',  'y',  '/', 'z', 0x05, 0x00,  // import
                                0x0b, 0x1d, 0x01, 0x00, 0x17};                                         // export
  std::string name = "local:local/post-return";
  bytes.insert(bytes.end(), name.begin(), name.end());
  bytes.insert(bytes.end(), {0x05, 0x00, 0x00});
  ASSERT_TRUE(component::decode_component(bytes).ok()) << component::decode_component(bytes).error().message;
  auto r = component::compose::compose(input(general("async-post-return-caller")), {{"wrong.wasm", bytes}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("`local:local/post-return`: the export of wrong.wasm does not match the import of " +
                                   general("async-post-return-caller")),
            0u)
      << r.error().message;
}

TEST(ComposeTest, OneImportWithIncompatibleTypesIsNamed) {
  // (component (type (instance (type (func)) (export "error" (func (type 0)))))
  //            (type (instance))
  //            (import "wasi:io/error@0.2.12" (instance (type 0)))
  //            (import "local:local/post-return" (instance (type 1))))
  // The callee imports wasi:io/error's `error` as a resource.
  Writer types;
  types.u32(2);
  types.raw(std::vector<uint8_t>{0x42, 0x02, 0x01, 0x40, 0x00, 0x01, 0x00, 0x04, 0x00});
  types.name("error");
  types.raw(std::vector<uint8_t>{0x01, 0x00, 0x42, 0x00});
  Writer imports;
  imports.u32(2);
  imports.u8(0x00);
  imports.name("wasi:io/error@0.2.12");
  imports.raw(std::vector<uint8_t>{0x05, 0x00, 0x00});
  imports.name("local:local/post-return");
  imports.raw(std::vector<uint8_t>{0x05, 0x01});
  Writer main;
  main.raw(component::compose::kComponentPreamble);
  main.section(component::compose::kTypeSection, types.bytes());
  main.section(component::compose::kImportSection, imports.bytes());
  ASSERT_TRUE(component::decode_component(main.bytes()).ok());
  auto r = component::compose::compose({"main.wasm", main.bytes()}, {input(general("async-post-return-callee"))});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("`wasi:io/error@0.2.12` is imported by " + general("async-post-return-callee") +
                                   " and main.wasm with incompatible types: "),
            0u)
      << r.error().message;
}

TEST(ComposeTest, AKeptImportReferringToAPluggedOnesTypeIsRefused) {
  // borrowing-types comes from the plug, but the caller's import of
  // local:local/borrowing (no plug exports it) borrows its resource.
  auto r = compose(general("async-borrowing-caller"), {STRATUS_BORROWING_TYPES_COMPONENT});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("`local:local/borrowing` (imported by " + general("async-borrowing-caller") +
                                   "): `x`: resource"),
            0u)
      << r.error().message;
  EXPECT_NE(r.error().message.find("cannot refer to a type of an import a plug satisfies"), std::string::npos);
}

// (component (type (instance)) (import IMPORT (instance (type 0)))
//            [(export EXPORT (instance 0))])
std::vector<uint8_t> reexporter(const std::string& import, const std::string& exported) {
  using component::compose::kExportSection;
  using component::compose::kImportSection;
  using component::compose::kTypeSection;
  Writer c;
  c.raw(component::compose::kComponentPreamble);
  c.section(kTypeSection, std::vector<uint8_t>{0x01, 0x42, 0x00});
  Writer i;
  i.u32(1);
  i.u8(0x00);
  i.name(import);
  i.raw(std::vector<uint8_t>{0x05, 0x00});
  c.section(kImportSection, i.bytes());
  if (!exported.empty()) {
    Writer e;
    e.u32(1);
    e.u8(0x00);
    e.name(exported);
    e.raw(std::vector<uint8_t>{0x05, 0x00, 0x00});
    c.section(kExportSection, e.bytes());
  }
  return c.take();
}

TEST(ComposeTest, PlugsImportingFromEachOtherInACycleAreNamed) {
  auto r =
      component::compose::compose({"main.wasm", reexporter("a:b/x", "")},
                                  {{"a.wasm", reexporter("a:b/x", "a:b/y")}, {"b.wasm", reexporter("a:b/y", "a:b/x")}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "the plugs import from each other in a cycle: b.wasm -> a.wasm -> b.wasm");
  // Without the cycle: main <- b <- a, and a's import stays.
  auto chain =
      component::compose::compose({"main.wasm", reexporter("a:b/x", "")},
                                  {{"a.wasm", reexporter("a:b/z", "a:b/y")}, {"b.wasm", reexporter("a:b/y", "a:b/x")}});
  ASSERT_TRUE(chain.ok()) << chain.error().message;
  auto c = component::decode_component(*chain);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(names((*c)->type->imports), std::vector<std::string>{"a:b/z"});
}

TEST(ComposeTest, BadInputsAreNamed) {
  std::vector<uint8_t> module = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  auto core = component::compose::compose(input(general("async-post-return-caller")), {{"core.wasm", module}});
  ASSERT_FALSE(core.ok());
  EXPECT_EQ(core.error().message, "core.wasm: not a component");
  std::vector<uint8_t> garbage = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0xff};
  auto bad = component::compose::compose({"bad.wasm", garbage}, {input(general("async-post-return-callee"))});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("bad.wasm: "), 0u) << bad.error().message;
}

// ------------------------------------------------ composed pairs, running

class ComposedRunTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<component::Linker>(*engine_);
    host_.add_wasi();
  }

  std::shared_ptr<component::ComponentInstance> start(const std::string& main, const std::string& plug,
                                                      const component::InstantiateOptions& options = {}) {
    return start_files(general(main), {general(plug)}, options);
  }
  std::shared_ptr<component::ComponentInstance> start_files(const std::string& main,
                                                            const std::vector<std::string>& plugs,
                                                            const component::InstantiateOptions& options = {}) {
    auto composed = compose(main, plugs);
    EXPECT_TRUE(composed.ok()) << (composed.ok() ? "" : composed.error().message);
    if (!composed.ok()) return nullptr;
    auto c = component::decode_component(*composed);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    if (!c.ok()) return nullptr;
    composed_ = *c;
    auto defined = host_.define_imports(*linker_, **c);
    EXPECT_TRUE(defined.ok()) << (defined.ok() ? "" : defined.error().message);
    auto instance = linker_->instantiate(*c, options);
    EXPECT_TRUE(instance.ok()) << (instance.ok() ? "" : instance.error().message);
    return instance.ok() ? *instance : nullptr;
  }

  std::string describe(const CallOutcome& r) {
    return (r.trapped()  ? "trap: " + r.trap().message
            : r.failed() ? "error: " + r.error().message
                         : "returned") +
           "\nstdout: " + host_.stdout_text() + "\nstderr: " + host_.stderr_text();
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<component::Linker> linker_;
  TestHost host_;
  component::ComponentPtr composed_;
};

component::InstantiateOptions older_toolchains() {
  component::InstantiateOptions o;
  o.allow_sync_cancel_in_waitable_set = true;
  return o;
}

TEST_P(ComposedRunTest, ACalleeKeepsWorkingAfterItReturned) {
  auto instance = start("async-post-return-caller", "async-post-return-callee");
  ASSERT_NE(instance, nullptr);
  auto r = instance->call("local:local/run#run", {});
  EXPECT_TRUE(r.returned()) << describe(r);
}

TEST_P(ComposedRunTest, TheTransmitPairPassesStreamsAndFuturesBothWays) {
  auto instance = start("async-transmit-caller", "async-transmit-callee", older_toolchains());
  ASSERT_NE(instance, nullptr);
  auto r = instance->call("local:local/run#run", {});
  EXPECT_TRUE(r.returned()) << describe(r);
}

TEST_P(ComposedRunTest, TheTransmitPairsSyncCancelTrapsAsLinked) {
  auto instance = start("async-transmit-caller", "async-transmit-callee");
  ASSERT_NE(instance, nullptr);
  auto r = instance->call("local:local/run#run", {});
  ASSERT_TRUE(r.trapped()) << describe(r);
  EXPECT_EQ(r.trap().message,
            "waitable cannot be used synchronously while added to a waitable set (in `canon stream.cancel-read`)");
}

TEST_P(ComposedRunTest, BorrowsOfAnImportedResourceCrossTheFusedPairAndMustBeGivenBack) {
  uint32_t next = 1;
  host_.implement(
      "local:local/borrowing-types#[constructor]x",
      [this, &next](component::CallContext&, std::span<const Val>) -> std::variant<std::optional<Val>, engine::Trap> {
        return std::optional<Val>(host_.own("local:local/borrowing-types", "x", next++));
      });
  host_.implement("local:local/borrowing-types#[method]x.foo",
                  [](component::CallContext&, std::span<const Val>) -> std::variant<std::optional<Val>, engine::Trap> {
                    return std::optional<Val>();
                  });
  auto instance = start("async-borrowing-caller", "async-borrowing-callee");
  ASSERT_NE(instance, nullptr);
  std::vector<Val> well = {Val::boolean(false)};
  auto r = instance->call("local:local/run-bool#run", well);
  EXPECT_TRUE(r.returned()) << describe(r);
  // The callee keeps the borrow past its task: a trap, as linked.
  auto again = linker_->instantiate(composed_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  std::vector<Val> ill = {Val::boolean(true)};
  auto bad = (*again)->call("local:local/run-bool#run", ill);
  ASSERT_TRUE(bad.trapped()) << describe(bad);
  EXPECT_NE(bad.trap().message.find("unknown handle index"), std::string::npos) << bad.trap().message;
}

TEST_P(ComposedRunTest, APlugImportsFromAnotherPlug) {
  // The caller and the callee both import borrowing-types, which the third
  // component exports: the callee is instantiated with the third's
  // instance, then the caller with both.
  auto instance = start_files(general("async-borrowing-caller"),
                              {general("async-borrowing-callee"), STRATUS_BORROWING_TYPES_COMPONENT});
  ASSERT_NE(instance, nullptr);
  for (const auto& import : composed_->type->imports) EXPECT_EQ(import.name.find("local:local/"), std::string::npos);
  std::vector<Val> well = {Val::boolean(false)};
  auto r = instance->call("local:local/run-bool#run", well);
  EXPECT_TRUE(r.returned()) << describe(r);
  std::vector<Val> ill = {Val::boolean(true)};
  auto bad = instance->call("local:local/run-bool#run", ill);
  ASSERT_TRUE(bad.trapped()) << describe(bad);
  EXPECT_NE(bad.trap().message.find("unknown handle index"), std::string::npos) << bad.trap().message;
}

TEST_P(ComposedRunTest, WorldLevelFunctionsArePluggedAndKept) {
  auto instance = start_files(STRATUS_TWICE_COMPONENT, {STRATUS_ADD_ONE_COMPONENT});
  ASSERT_NE(instance, nullptr);
  ASSERT_EQ(names(composed_->type->imports), std::vector<std::string>{"g"});
  const auto& g = *std::get<component::FuncTypePtr>(composed_->type->imports[0].type);
  ASSERT_EQ(g.params.size(), 1u);
  const auto* result = std::get_if<component::ResultType>(&g.params[0].type.defined().kind);
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->err->primitive(), component::PrimType::String);
  std::vector<Val> one = {Val::u32(1)};
  auto r = instance->call("h", one);
  ASSERT_TRUE(r.returned()) << describe(r);
  EXPECT_EQ(r.result()->as_unsigned(), 3u);
}

// tests/workload's WAT stream pair (links_async_test.cc's LinkedStreamTest
// runs it linked): consumer.run(total, chunk, mode, read-size, stop-after)
// reads the producer's stream; (bytes read, reads).
class ComposedStreamTest : public ComposedRunTest {
 protected:
  void SetUp() override {
    ComposedRunTest::SetUp();
    instance_ = start_files(STRATUS_STREAM_CONSUMER_COMPONENT, {STRATUS_STREAM_PRODUCER_COMPONENT});
    ASSERT_NE(instance_, nullptr);
  }
  CallOutcome run(uint32_t total, uint32_t chunk, uint32_t mode, uint32_t read_size, uint32_t stop_after) {
    std::vector<Val> args = {Val::u32(total), Val::u32(chunk), Val::u32(mode), Val::u32(read_size),
                             Val::u32(stop_after)};
    return instance_->call("test:link/run#run", args);
  }
  static std::pair<uint64_t, uint64_t> read_and_reads(const CallOutcome& r) {
    const auto& items = r.result()->items();
    return {items.at(0).as_unsigned(), items.at(1).as_unsigned()};
  }
  std::shared_ptr<component::ComponentInstance> instance_;
};

constexpr uint32_t kMiB = 1u << 20;

TEST_P(ComposedStreamTest, MegabytesCrossTheFusedLinkAndDropsAreSeen) {
  // 64 KiB writes, 4 KiB reads: each read gets what it asked for.
  auto r = run(kMiB, 64 * 1024, 0, 4096, 0);
  ASSERT_TRUE(r.returned()) << describe(r);
  EXPECT_EQ(read_and_reads(r), std::make_pair(uint64_t{kMiB}, uint64_t{256}));
  // The writer drops early (mode 1), then the reader does.
  auto instance = linker_->instantiate(composed_);
  ASSERT_TRUE(instance.ok()) << instance.error().message;
  instance_ = *instance;
  auto dropped = run(kMiB, 64 * 1024, 1, 8192, 0);
  ASSERT_TRUE(dropped.returned()) << describe(dropped);
  EXPECT_EQ(read_and_reads(dropped), std::make_pair(uint64_t{kMiB / 2}, uint64_t{64}));
}

TEST_P(ComposedStreamTest, ACalleeTrappingMidStreamGivesTheCallerATrap) {
  auto r = run(kMiB, 64 * 1024, 2, 8192, 0);
  ASSERT_TRUE(r.trapped()) << describe(r);
  EXPECT_NE(r.trap().message.find("unreachable"), std::string::npos) << r.trap().message;
}

TEST_P(ComposedStreamTest, AnErrorContextTheCalleeMadeReachesTheHostThroughTheCaller) {
  auto r = instance_->call("test:link/run#relay-oops", {});
  ASSERT_TRUE(r.returned()) << describe(r);
  ASSERT_TRUE(r.result());
  EXPECT_EQ(component::error_context_message(*r.result()), std::optional<std::string>("stream producer: oops"));
}

INSTANTIATE_TEST_SUITE_P(Backends, ComposedStreamTest, ::testing::Values("interp", "aot"));

INSTANTIATE_TEST_SUITE_P(Backends, ComposedRunTest, ::testing::Values("interp", "aot"));

// ------------------------------------------------------ the command

TEST(ComposeCommandTest, WritesTheComposedComponentAndExitsZero) {
  test_support::TempDir dir;
  auto out = (dir.path() / "composed.wasm").string();
  cli::Ran r = cli::run_stratus(
      {"compose", general("async-post-return-caller"), "--plug", general("async-post-return-callee"), "-o", out});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto bytes = read_file(out);
  ASSERT_TRUE(bytes.ok());
  auto c = component::decode_component(*bytes);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto imports = names((*c)->type->imports);
  EXPECT_EQ(std::count(imports.begin(), imports.end(), "local:local/post-return"), 0);
}

TEST(ComposeCommandTest, AComposedCommandRuns) {
  // run_answer's run succeeds when answer's get returns 42; alone, its
  // import is not the host's to give.
  test_support::TempDir dir;
  auto out = (dir.path() / "command.wasm").string();
  cli::Ran composed =
      cli::run_stratus({"compose", STRATUS_RUN_ANSWER_COMPONENT, "--plug", STRATUS_ANSWER_COMPONENT, "-o", out});
  ASSERT_EQ(composed.code, 0) << composed.err;
  cli::Ran ran = cli::run_stratus({"run", "--engine", "interp", out});
  EXPECT_EQ(ran.code, 0) << ran.err;
  cli::Ran alone = cli::run_stratus({"run", "--engine", "interp", STRATUS_RUN_ANSWER_COMPONENT});
  EXPECT_EQ(alone.code, 1);
  EXPECT_NE(alone.err.find("import `test:compose/answer` is not defined by the host"), std::string::npos) << alone.err;
}

// `stratus serve` of fused HTTP components: a WASI 0.2 pass-through
// middleware in front of examples/http-hello, and a WASI 0.3 middleware
// (it adds x-middleware) in front of an echo backend.
TEST(ComposeCommandTest, ComposedHttpComponentsServe) {
  test_support::TempDir dir;
  std::string guests = STRATUS_WORKLOAD_GUESTS;
  struct Case {
    std::string main, plug, target, body, middleware;
  };
  for (const Case& c :
       {Case{guests + "/middleware-p2.wasm", STRATUS_HTTP_HELLO_COMPONENT, "/", "Hello from stratus!\n", ""},
        Case{guests + "/middleware.wasm", guests + "/backend.wasm", "/echo", "", "1"}}) {
    auto out = (dir.path() / "http.wasm").string();
    cli::Ran composed = cli::run_stratus({"compose", c.main, "--plug", c.plug, "-o", out});
    ASSERT_EQ(composed.code, 0) << composed.err;
    uint16_t port = test_support::free_loopback_port();
    test_support::ServerProcess server(
        {STRATUS_BINARY, "serve", "--engine", "interp", "--addr", "127.0.0.1:" + std::to_string(port), out}, port);
    ASSERT_TRUE(server.running()) << c.main;
    auto res = testing::http_get(port, c.target);
    EXPECT_EQ(res.result_int(), 200) << c.main;
    EXPECT_EQ(res.body(), c.body) << c.main;
    EXPECT_EQ(std::string(res["x-middleware"]), c.middleware) << c.main;
  }
}

TEST(ComposeCommandTest, ErrorsExitOneAndWriteNothing) {
  test_support::TempDir dir;
  auto out = (dir.path() / "composed.wasm").string();
  cli::Ran missing =
      cli::run_stratus({"compose", general("async-post-return-caller"), "--plug", "no-such.wasm", "-o", out});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("stratus: compose: no-such.wasm: cannot open"), std::string::npos) << missing.err;
  cli::Ran ambiguous =
      cli::run_stratus({"compose", general("async-post-return-caller"), "--plug", general("async-post-return-callee"),
                        "--plug", general("async-post-return-callee"), "-o", out});
  EXPECT_EQ(ambiguous.code, 1);
  EXPECT_NE(ambiguous.err.find("ambiguous"), std::string::npos) << ambiguous.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  cli::Ran usage = cli::run_stratus({"compose", general("async-post-return-caller"), "-o", out});
  EXPECT_EQ(usage.code, 2);
}

}  // namespace
}  // namespace stratus::test
