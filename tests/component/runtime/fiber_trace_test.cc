// The trace context slot (support/trace_slot.h) is switched with fibers: a
// fiber starts with its first resumer's, keeps its own while parked, and
// leaves the thread's as it found it.
#include <gtest/gtest.h>

#include "component/runtime/fiber.h"
#include "support/trace_slot.h"

namespace stratus::component {
namespace {

TEST(FiberTraceTest, AFiberKeepsItsTraceContextAcrossAParkAndLeavesTheThreadsAlone) {
  int request = 0, link = 0, other = 0;
  void* seen_first = nullptr;
  void* seen_after_park = nullptr;
  t_trace_slot = &request;
  Fiber fiber([&] {
    seen_first = t_trace_slot;
    t_trace_slot = &link;  // a link call starts in the fiber, then it parks
    Fiber::park();
    seen_after_park = t_trace_slot;
    t_trace_slot = &request;  // the call returned
  });
  fiber.resume();
  EXPECT_EQ(seen_first, &request);
  EXPECT_EQ(t_trace_slot, &request);  // not the parked call's
  t_trace_slot = &other;              // the thread goes on with other work
  fiber.resume();
  EXPECT_TRUE(fiber.finished());
  EXPECT_EQ(seen_after_park, &link);
  EXPECT_EQ(t_trace_slot, &other);
  t_trace_slot = nullptr;
}

}  // namespace
}  // namespace stratus::component
