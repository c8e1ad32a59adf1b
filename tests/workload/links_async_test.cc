// Components of one workload linked by the host (not composed) calling each
// other asynchronously and passing streams, futures, error contexts and
// borrowed resources: the wit-bindgen caller/callee pairs of
// fixtures/jco/p3 (as tests/component/jco/p3_general_test.cc runs them in
// one linker), and a stream of megabytes between two WAT components
// (guests/stream_*.wat) with a slow reader, early drops and a callee that
// traps mid-stream, and an error context passed back through the link.
// On both engine backends.
#include "component/runtime/host_async.h"
#include "tests/workload/runtime_fixture.h"

namespace stratus::workload {
namespace {

using component::Val;
using test_host::WorkloadRuntimeTest;

std::string fixture(const std::string& name) { return std::string(STRATUS_FIXTURES_DIR) + "/jco/p3/" + name; }

class LinkedAsyncTest : public WorkloadRuntimeTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string engine_name() const override { return GetParam(); }

  // A workload of `members` (name, image), nothing else asked of the host.
  std::string start_members(const std::string& name, const std::vector<std::pair<std::string, std::string>>& members) {
    std::string y = "namespace: test\nname: " + name + "\nwit_world:\n  components:\n";
    for (const auto& [n, image] : members) y += "    - name: " + n + "\n      image: " + image + "\n";
    auto id = start(y);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : std::string();
  }

  component::CallOutcome call(const std::string& id, const std::string& member, const std::string& function,
                              std::vector<Val> args = {}) {
    auto outcome = host_->call(id, member, function, args);
    if (!outcome) return outcome.error();
    return std::move(*outcome);
  }

  static std::string describe(const component::CallOutcome& r) {
    return r.trapped() ? "trap: " + r.trap().message : r.failed() ? "error: " + r.error().message : "returned";
  }
};

TEST_P(LinkedAsyncTest, TheTransmitPairPassesStreamsAndFuturesBothWaysAcrossTheLink) {
  auto id = start_members("transmit", {{"callee", fixture("general/async-transmit-callee.wasm")},
                                       {"caller", fixture("general/async-transmit-caller.wasm")}});
  auto r = call(id, "caller", "local:local/run#run");
  EXPECT_TRUE(r.returned()) << describe(r);
}

TEST_P(LinkedAsyncTest, ALinkedCalleeKeepsWorkingAfterItReturned) {
  auto id = start_members("post-return", {{"callee", fixture("general/async-post-return-callee.wasm")},
                                          {"caller", fixture("general/async-post-return-caller.wasm")}});
  auto r = call(id, "caller", "local:local/run#run");
  EXPECT_TRUE(r.returned()) << describe(r);
}

TEST_P(LinkedAsyncTest, BorrowsOfAThirdComponentsResourceCrossTwoLinksAndMustBeGivenBack) {
  auto id = start_members("borrowing", {{"types", STRATUS_BORROWING_TYPES_COMPONENT},
                                        {"callee", fixture("general/async-borrowing-callee.wasm")},
                                        {"caller", fixture("general/async-borrowing-caller.wasm")}});
  auto well = call(id, "caller", "local:local/run-bool#run", {Val::boolean(false)});
  EXPECT_TRUE(well.returned()) << describe(well);
  // The callee uses the borrow in a task it spawned, after its own task
  // gave it back: the handle is gone (Wasmtime's test expects the same
  // trap), and the next call (new instances) is served.
  auto ill = call(id, "caller", "local:local/run-bool#run", {Val::boolean(true)});
  ASSERT_TRUE(ill.trapped()) << describe(ill);
  EXPECT_NE(ill.trap().message.find("unknown handle index"), std::string::npos) << ill.trap().message;
  auto again = call(id, "caller", "local:local/run-bool#run", {Val::boolean(false)});
  EXPECT_TRUE(again.returned()) << describe(again);
}

TEST_P(LinkedAsyncTest, ContextIsPerCallAndBackpressureCountsInAWorkloadMember) {
  auto id = start_members("sync-builtins", {{"context", fixture("context-sync/component.wasm")},
                                            {"backpressure", fixture("backpressure-sync/component.wasm")}});
  auto pushed = call(id, "context", "push-context", {Val::u32(7)});
  ASSERT_TRUE(pushed.returned()) << describe(pushed);
  EXPECT_EQ(pushed.result()->as_unsigned(), 7u);
  auto pulled = call(id, "context", "pull-context");
  ASSERT_TRUE(pulled.returned()) << describe(pulled);
  EXPECT_EQ(pulled.result()->as_unsigned(), 0u);
  EXPECT_TRUE(call(id, "backpressure", "inc-backpressure").returned());
  auto under = call(id, "backpressure", "dec-backpressure");  // a new instance: its counter is 0
  ASSERT_TRUE(under.trapped()) << describe(under);
  EXPECT_NE(under.trap().message.find("backpressure counter underflow"), std::string::npos) << under.trap().message;
}

// guests/stream_consumer.wat's run(total, chunk, mode, read-size, stop-after)
// through the link to guests/stream_producer.wat; (bytes read, reads).
class LinkedStreamTest : public LinkedAsyncTest {
 protected:
  void SetUp() override {
    LinkedAsyncTest::SetUp();
    id_ = start_members(
        "stream", {{"producer", STRATUS_STREAM_PRODUCER_COMPONENT}, {"consumer", STRATUS_STREAM_CONSUMER_COMPONENT}});
  }
  component::CallOutcome run(uint32_t total, uint32_t chunk, uint32_t mode, uint32_t read_size, uint32_t stop_after) {
    return call(id_, "consumer", "test:link/run#run",
                {Val::u32(total), Val::u32(chunk), Val::u32(mode), Val::u32(read_size), Val::u32(stop_after)});
  }
  static std::pair<uint64_t, uint64_t> read_and_reads(const component::CallOutcome& r) {
    const auto& items = r.result()->items();
    return {items.at(0).as_unsigned(), items.at(1).as_unsigned()};
  }
  std::string id_;
};

constexpr uint32_t kMiB = 1u << 20;

TEST_P(LinkedStreamTest, MegabytesCrossTheLinkAsFastAsASlowReaderTakesThem) {
  // 64 KiB writes, 4 KiB reads with yields between them: each read gets
  // exactly what it asked for, straight from the writer's buffer.
  auto r = run(4 * kMiB, 64 * 1024, 0, 4096, 0);
  ASSERT_TRUE(r.returned()) << describe(r);
  EXPECT_EQ(read_and_reads(r), std::make_pair(uint64_t{4 * kMiB}, uint64_t{1024}));
  // Writes smaller than reads: a read takes what one write offers.
  auto small = run(kMiB, 1000, 0, 65536, 0);
  ASSERT_TRUE(small.returned()) << describe(small);
  EXPECT_EQ(read_and_reads(small).first, kMiB);
  EXPECT_GE(read_and_reads(small).second, kMiB / 1000);
}

TEST_P(LinkedStreamTest, AWriterDroppingEarlyEndsTheReadersStream) {
  auto r = run(4 * kMiB, 64 * 1024, 1, 8192, 0);
  ASSERT_TRUE(r.returned()) << describe(r);
  EXPECT_EQ(read_and_reads(r), std::make_pair(uint64_t{2 * kMiB}, uint64_t{256}));
}

TEST_P(LinkedStreamTest, AReaderDroppingEarlyIsSeenByTheWriter) {
  // Mode 0: the writer stops writing when its write comes back DROPPED.
  auto r = run(4 * kMiB, 64 * 1024, 0, 8192, kMiB);
  ASSERT_TRUE(r.returned()) << describe(r);
  EXPECT_EQ(read_and_reads(r), std::make_pair(uint64_t{kMiB}, uint64_t{128}));
  // Mode 3: the writer traps when it sees the drop, after the reader's call
  // returned; the host's call reports it, so the drop was seen.
  auto probe = run(4 * kMiB, 64 * 1024, 3, 8192, kMiB);
  ASSERT_TRUE(probe.trapped()) << describe(probe);
  EXPECT_NE(probe.trap().message.find("unreachable"), std::string::npos) << probe.trap().message;
}

TEST_P(LinkedStreamTest, ACalleeTrappingMidStreamGivesTheCallerATrapAndTheHostGoesOn) {
  auto r = run(4 * kMiB, 64 * 1024, 2, 8192, 0);
  ASSERT_TRUE(r.trapped()) << describe(r);
  EXPECT_NE(r.trap().message.find("unreachable"), std::string::npos) << r.trap().message;
  auto status = host_->status(id_);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, WorkloadState::kRunning);
  auto next = run(kMiB, 64 * 1024, 0, 65536, 0);
  ASSERT_TRUE(next.returned()) << describe(next);
  EXPECT_EQ(read_and_reads(next), std::make_pair(uint64_t{kMiB}, uint64_t{16}));
}

TEST_P(LinkedStreamTest, AnErrorContextTheCalleeMadeReachesTheHostThroughTheCaller) {
  auto r = call(id_, "consumer", "test:link/run#relay-oops");
  ASSERT_TRUE(r.returned()) << describe(r);
  ASSERT_TRUE(r.result());
  EXPECT_EQ(component::error_context_message(*r.result()), std::optional<std::string>("stream producer: oops"));
}

INSTANTIATE_TEST_SUITE_P(Backends, LinkedAsyncTest, ::testing::Values("interp", "aot"));
INSTANTIATE_TEST_SUITE_P(Backends, LinkedStreamTest, ::testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::workload
