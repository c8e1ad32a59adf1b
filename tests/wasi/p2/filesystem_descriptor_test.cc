// The descriptor rules WASI 0.2 and 0.3 share (wasi/p2/filesystem.h), on
// their own: what a preopen's descriptors may open and where, and reading
// a directory's entries.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>
#include <string>

#include "tests/support/temp_dir.h"
#include "wasi/p2/filesystem.h"

namespace stratus::wasi::p2 {
namespace {

namespace fs = std::filesystem;

class DescriptorRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(root_.path().empty());
    root_.write("outside.txt", "secret");
    root_.write("box/a.txt", "a");
    fs::create_directories(root_.path() / "box" / "sub");
    fs::create_symlink("../outside.txt", root_.path() / "box" / "up");
    fs::create_symlink((root_.path() / "outside.txt").string(), root_.path() / "box" / "abs");
  }

  std::shared_ptr<Descriptor> preopen(bool read_only) {
    auto dirs = open_preopens({Preopen{(root_.path() / "box").string(), "/box", read_only}});
    EXPECT_TRUE(dirs.ok());
    if (!dirs.ok()) return nullptr;
    return preopen_descriptor((*dirs)[0]);
  }

  static DescriptorOpen reading(bool follow = true) {
    DescriptorOpen open;
    open.request.read = true;
    open.request.follow = follow;
    return open;
  }

  test_support::TempDir root_;
};

TEST_F(DescriptorRulesTest, PathsNeverLeaveThePreopen) {
  auto box = preopen(false);
  ASSERT_TRUE(box);
  EXPECT_EQ(open_descriptor_at(*box, "../outside.txt", reading()).error, EPERM);
  EXPECT_EQ(open_descriptor_at(*box, "/etc/passwd", reading()).error, EPERM);
  EXPECT_EQ(open_descriptor_at(*box, "up", reading()).error, EPERM);
  EXPECT_EQ(open_descriptor_at(*box, "abs", reading()).error, EPERM);
  EXPECT_EQ(open_descriptor_at(*box, "sub/../../outside.txt", reading()).error, EPERM);
  EXPECT_EQ(open_descriptor_at(*box, "", reading()).error, ENOENT);
  EXPECT_EQ(open_descriptor_at(*box, std::string("a.txt\0x", 7), reading()).error, EINVAL);
  auto a = open_descriptor_at(*box, "sub/../a.txt", reading());
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_FALSE(a.value->is_directory);
  EXPECT_EQ(a.value->guest_path, "/box/sub/../a.txt");
  // A file is no directory to resolve paths under.
  EXPECT_EQ(open_descriptor_at(*a.value, "x", reading()).error, ENOTDIR);
}

TEST_F(DescriptorRulesTest, AReadOnlyPreopenHandsOutNothingThatWrites) {
  auto box = preopen(true);
  ASSERT_TRUE(box);
  EXPECT_FALSE(box->mutate_directory);
  EXPECT_FALSE(box->asked_mutate_directory);
  DescriptorOpen write = reading();
  write.request.write = true;
  EXPECT_EQ(open_descriptor_at(*box, "a.txt", write).error, EROFS);
  DescriptorOpen create = reading();
  create.request.create = true;
  EXPECT_EQ(open_descriptor_at(*box, "new.txt", create).error, EROFS);
  EXPECT_FALSE(fs::exists(root_.path() / "box" / "new.txt"));
  DescriptorOpen mutate = reading();
  mutate.mutate_directory = true;
  EXPECT_EQ(open_descriptor_at(*box, "sub", mutate).error, EROFS);

  auto sub = open_descriptor_at(*box, "sub", reading());
  ASSERT_TRUE(sub.ok()) << sub.error;
  EXPECT_TRUE(sub.value->is_directory);
  EXPECT_FALSE(sub.value->mutate_directory);  // inherited
  EXPECT_EQ(check_directory(*sub.value, true), EROFS);
  auto a = open_descriptor_at(*box, "a.txt", reading());
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a.value->may_set_times);
  EXPECT_EQ(check_file(*a.value, a.value->write), EBADF);
}

TEST_F(DescriptorRulesTest, AWritableDirectoryPassesItsRightsOnAndReportsWhatWasAsked) {
  auto box = preopen(false);
  ASSERT_TRUE(box);
  EXPECT_TRUE(box->asked_mutate_directory);
  auto plain = open_descriptor_at(*box, "sub", reading());
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain.value->mutate_directory);
  EXPECT_FALSE(plain.value->asked_mutate_directory);
  DescriptorOpen mutate = reading();
  mutate.mutate_directory = true;
  auto asked = open_descriptor_at(*box, "sub", mutate);
  ASSERT_TRUE(asked.ok());
  EXPECT_TRUE(asked.value->asked_mutate_directory);
  auto a = open_descriptor_at(*box, "a.txt", reading());
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a.value->may_set_times);
  EXPECT_EQ(check_file(*a.value, a.value->read), 0);
  EXPECT_EQ(check_file(*plain.value, true), EISDIR);
}

TEST_F(DescriptorRulesTest, DirectoryEntriesSkipDotsAndSayTheirType) {
  auto box = preopen(true);
  ASSERT_TRUE(box);
  auto entries = open_directory_entries(*box);
  ASSERT_TRUE(entries.ok()) << entries.error;
  std::set<std::string> names;
  for (;;) {
    auto next = next_directory_entry(*entries.value);
    ASSERT_TRUE(next.ok()) << next.error;
    if (!next.value) break;
    names.insert(next.value->name);
    if (next.value->name == "sub") EXPECT_EQ(next.value->type, S_IFDIR);
    if (next.value->name == "a.txt") EXPECT_EQ(next.value->type, S_IFREG);
    if (next.value->name == "up") EXPECT_EQ(next.value->type, S_IFLNK);
  }
  EXPECT_EQ(names, (std::set<std::string>{"a.txt", "abs", "sub", "up"}));
  auto a = open_descriptor_at(*box, "a.txt", reading());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(open_directory_entries(*a.value).error, ENOTDIR);
}

TEST(OpenPreopens, AMissingDirectoryIsAnErrorNamingIt) {
  auto dirs = open_preopens({Preopen{"/nonexistent/stratus-dir", "/data", false}});
  ASSERT_FALSE(dirs.ok());
  EXPECT_NE(dirs.error().message.find("/nonexistent/stratus-dir"), std::string::npos) << dirs.error().message;
  EXPECT_NE(dirs.error().message.find("/data"), std::string::npos) << dirs.error().message;
}

}  // namespace
}  // namespace stratus::wasi::p2
