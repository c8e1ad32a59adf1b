// Async components built by real toolchains (fixtures/jco/p3/general:
// wit-bindgen's async runtime tests, in Rust) that need only the Component
// Model and the WASI 0.2 subset of the test host: tasks talking through
// streams and futures inside one component, and caller/callee pairs linked
// by the host (post-return work, borrows across tasks, streams and futures
// of strings passed both ways), on both engine backends.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "test_host.h"

namespace stratus::test {
namespace {

using component::CallOutcome;
using component::Val;

class P3GeneralTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<component::Linker>(*engine_);
    host_.add_wasi();
  }

  component::ComponentPtr load(const std::string& name) {
    auto bytes = read_file(std::string(STRATUS_JCO_P3_FIXTURES) + "/general/" + name + ".wasm");
    EXPECT_TRUE(bytes.ok()) << name << ": " << (bytes.ok() ? "" : bytes.error().message);
    if (!bytes.ok()) return nullptr;
    auto c = component::decode_component(*bytes);
    EXPECT_TRUE(c.ok()) << name << ": " << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : nullptr;
  }

  // Instantiates `name`, its imports from the host (those an earlier
  // component took from it already, and those in `from_components`, are
  // left to the linker as they are).
  std::shared_ptr<component::ComponentInstance> start(const std::string& name) {
    auto c = load(name);
    if (c == nullptr) return nullptr;
    auto defined = host_.define_imports(*linker_, *c);
    EXPECT_TRUE(defined.ok()) << name << ": " << (defined.ok() ? "" : defined.error().message);
    for (const auto& import : c->type->imports) host_.skip(import.name);
    auto instance = linker_->instantiate(c);
    EXPECT_TRUE(instance.ok()) << name << ": " << (instance.ok() ? "" : instance.error().message);
    return instance.ok() ? *instance : nullptr;
  }

  // A callee whose exports the next component's imports bind to.
  bool start_callee(const std::string& name, std::initializer_list<const char*> exported) {
    auto callee = start(name);
    if (callee == nullptr) return false;
    for (const char* e : exported) host_.skip(e);
    auto ok = linker_->define_exports(callee);
    EXPECT_TRUE(ok.ok()) << (ok.ok() ? "" : ok.error().message);
    callees_.push_back(callee);
    return ok.ok();
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
  std::vector<std::shared_ptr<component::ComponentInstance>> callees_;
};

TEST_P(P3GeneralTest, TasksOfOneComponentTalkThroughStreamsAndFutures) {
  // Two calls at once: the first waits on a waitable set the second finds
  // (through the component's globals) and wakes with a future's event.
  auto instance = start("async-intertask-communication");
  ASSERT_NE(instance, nullptr);
  std::vector<std::vector<Val>> two(2);
  auto rs = instance->call_concurrent("local:local/run#run", two);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs[0].returned()) << describe(rs[0]);
  EXPECT_TRUE(rs[1].returned()) << describe(rs[1]);
  // Called alone, the first waits for ever: the host says so.
  auto alone = linker_->instantiate(load("async-intertask-communication"));
  ASSERT_TRUE(alone.ok());
  auto r = (*alone)->call("local:local/run#run", {});
  ASSERT_TRUE(r.trapped());
  EXPECT_NE(r.trap().message.find("deadlock detected"), std::string::npos) << r.trap().message;
}

TEST_P(P3GeneralTest, ACalleeKeepsWorkingAfterItReturned) {
  ASSERT_TRUE(start_callee("async-post-return-callee", {"local:local/post-return"}));
  auto caller = start("async-post-return-caller");
  ASSERT_NE(caller, nullptr);
  auto r = caller->call("local:local/run#run", {});
  EXPECT_TRUE(r.returned()) << describe(r);
}

TEST_P(P3GeneralTest, AnOlderToolchainsSyncCancelOfAStreamInAWaitableSetTraps) {
  // This fixture's wit-bindgen (0.58) cancels a stream read synchronously
  // while the stream is in a waitable set, which the spec now traps
  // (CanonicalABI.md cancel_copy; async/trap-if-sync-and-waitable-set.wast
  // tests it). Everything before that point ran.
  ASSERT_TRUE(start_callee("async-transmit-callee", {"local:local/transmit"}));
  auto caller = start("async-transmit-caller");
  ASSERT_NE(caller, nullptr);
  auto r = caller->call("local:local/run#run", {});
  ASSERT_TRUE(r.trapped()) << describe(r);
  EXPECT_EQ(r.trap().message,
            "waitable cannot be used synchronously while added to a waitable set (in `canon stream.cancel-read`)");
}

TEST_P(P3GeneralTest, BorrowsLentToATaskMustBeGivenBackBeforeItEnds) {
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
  ASSERT_TRUE(start_callee("async-borrowing-callee", {"local:local/borrowing"}));
  auto caller = start("async-borrowing-caller");
  ASSERT_NE(caller, nullptr);
  std::vector<Val> well = {Val::boolean(false)};
  auto r = caller->call("local:local/run-bool#run", well);
  EXPECT_TRUE(r.returned()) << describe(r);
  // The callee keeps the borrow past its task: a trap.
  auto caller2 = linker_->instantiate(load("async-borrowing-caller"));
  ASSERT_TRUE(caller2.ok()) << caller2.error().message;
  std::vector<Val> ill = {Val::boolean(true)};
  auto bad = (*caller2)->call("local:local/run-bool#run", ill);
  EXPECT_TRUE(bad.trapped()) << describe(bad);
}

// fixtures/jco/p3/{context,backpressure}-sync: sync exports over the
// built-ins.
TEST_P(P3GeneralTest, ContextIsPerCallAndBackpressureCounts) {
  auto load_p3 = [&](const std::string& name) -> std::shared_ptr<component::ComponentInstance> {
    auto bytes = read_file(std::string(STRATUS_JCO_P3_FIXTURES) + "/" + name + "/component.wasm");
    EXPECT_TRUE(bytes.ok());
    if (!bytes.ok()) return nullptr;
    auto c = component::decode_component(*bytes);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    if (!c.ok()) return nullptr;
    auto i = linker_->instantiate(*c);
    EXPECT_TRUE(i.ok()) << (i.ok() ? "" : i.error().message);
    return i.ok() ? *i : nullptr;
  };
  auto context = load_p3("context-sync");
  ASSERT_NE(context, nullptr);
  std::vector<Val> seven = {Val::u32(7)};
  auto pushed = context->call("push-context", seven);
  ASSERT_TRUE(pushed.returned()) << describe(pushed);
  EXPECT_EQ(pushed.result()->as_unsigned(), 7u);
  // Each call is a task of its own, on a thread whose storage starts at 0.
  auto pulled = context->call("pull-context", {});
  ASSERT_TRUE(pulled.returned()) << describe(pulled);
  EXPECT_EQ(pulled.result()->as_unsigned(), 0u);

  auto bp = load_p3("backpressure-sync");
  ASSERT_NE(bp, nullptr);
  EXPECT_TRUE(bp->call("inc-backpressure", {}).returned());
  EXPECT_TRUE(bp->call("inc-backpressure", {}).returned());
  EXPECT_TRUE(bp->call("dec-backpressure", {}).returned());
  EXPECT_TRUE(bp->call("dec-backpressure", {}).returned());
  auto under = bp->call("dec-backpressure", {});
  ASSERT_TRUE(under.trapped());
  EXPECT_NE(under.trap().message.find("backpressure counter underflow"), std::string::npos) << under.trap().message;
}

INSTANTIATE_TEST_SUITE_P(Backends, P3GeneralTest, testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::test
