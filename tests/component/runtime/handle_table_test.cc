#include "component/runtime/handle_table.h"

#include <gtest/gtest.h>

namespace stratus::component {
namespace {

TEST(HandleTableTest, IndexZeroIsNeverHandedOutAndFreedIndicesAreReusedLastInFirstOut) {
  HandleTable table;
  auto r = std::make_shared<ResourceType>();
  EXPECT_EQ(*table.add({r, 10}), 1u);
  EXPECT_EQ(*table.add({r, 20}), 2u);
  EXPECT_EQ(*table.add({r, 30}), 3u);
  EXPECT_EQ(table.remove(1)->rep, 10u);
  EXPECT_EQ(table.remove(3)->rep, 30u);
  EXPECT_EQ(*table.add({r, 40}), 3u);
  EXPECT_EQ(*table.add({r, 50}), 1u);
  EXPECT_EQ(*table.add({r, 60}), 4u);
  EXPECT_EQ(table.live_count(), 4u);
}

TEST(HandleTableTest, UnknownIndicesAreErrorsNamingTheIndex) {
  HandleTable table;
  auto r = std::make_shared<ResourceType>();
  EXPECT_FALSE(table.get(0).ok());
  EXPECT_EQ(table.get(0).error().message, "unknown handle index 0");
  EXPECT_FALSE(table.get(4294967295u).ok());
  ASSERT_TRUE(table.add({r, 1}).ok());
  ASSERT_TRUE(table.remove(1).ok());
  auto again = table.remove(1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "unknown handle index 1");
}

}  // namespace
}  // namespace stratus::component
