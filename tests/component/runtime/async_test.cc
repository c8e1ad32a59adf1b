// The async runtime under load and abuse, on both engine backends: many
// tasks parked at once (each on a fiber: memory, not threads) and a guest
// leaking handles until its instance's limit.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "tests/support/sanitized.h"

namespace stratus::component {
namespace {

// A field of /proc/self/status ("Threads", "VmHWM" in kB), or -1.
long status_field(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + ":", 0) == 0) return std::stol(line.substr(name.size() + 1));
  return -1;
}

class AsyncRuntimeTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<Linker>(*engine_);
    auto bytes = read_file(std::string(STRATUS_COMPONENTS_DIR) + "/parked.wasm");
    ASSERT_TRUE(bytes.ok());
    auto component = decode_component(*bytes);
    ASSERT_TRUE(component.ok()) << component.error().message;
    component_ = *component;
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Linker> linker_;
  ComponentPtr component_;
};

TEST_P(AsyncRuntimeTest, ThousandsOfParkedTasksCostMemoryNotThreads) {
  auto made = linker_->instantiate(component_);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto instance = *made;
  long threads_before = status_field("Threads");
  long peak_before = status_field("VmHWM");
  // 2000 tasks block at once, each on its own fiber, until the driver writes
  // their futures.
  constexpr uint32_t kTasks = 2000;
  std::vector<Val> args = {Val::u32(kTasks)};
  auto outcome = instance->call("run", args);
  ASSERT_TRUE(outcome.returned()) << (outcome.trapped() ? outcome.trap().message : outcome.error().message);
  ASSERT_TRUE(outcome.result().has_value());
  EXPECT_EQ(outcome.result()->as_unsigned(), kTasks * (kTasks + 1) / 2);
  EXPECT_EQ(status_field("Threads"), threads_before);
  long grown_kb = status_field("VmHWM") - peak_before;
  // A parked fiber holds the pages its stack touched, a few KiB; 64 KiB
  // each would be 125 MiB. (Under ASan the peak is mostly its own shadow
  // memory and quarantine: not measured there.)
  if (!test_support::kSanitized)
    EXPECT_LT(grown_kb, 64 * 1024) << "peak memory grew by " << grown_kb << " KiB for " << kTasks << " parked tasks";
  // And again, on the stacks the first run gave back.
  outcome = instance->call("run", args);
  ASSERT_TRUE(outcome.returned());
}

TEST_P(AsyncRuntimeTest, AGuestLeakingHandlesHitsItsInstancesLimit) {
  InstantiateOptions options;
  options.max_handles = 1000;
  auto made = linker_->instantiate(component_, options);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto outcome = (*made)->call("leak", {});
  ASSERT_TRUE(outcome.trapped());
  EXPECT_NE(outcome.trap().message.find("handle table is full"), std::string::npos) << outcome.trap().message;
  // The host goes on: another instance of the same component works.
  auto again = linker_->instantiate(component_);
  ASSERT_TRUE(again.ok());
  std::vector<Val> args = {Val::u32(3)};
  auto outcome2 = (*again)->call("run", args);
  ASSERT_TRUE(outcome2.returned());
  EXPECT_EQ(outcome2.result()->as_unsigned(), 6u);
}

INSTANTIATE_TEST_SUITE_P(Backends, AsyncRuntimeTest, testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::component
