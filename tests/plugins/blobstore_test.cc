// wasi:blobstore's filesystem backend: names that cannot leave their
// folder, ranges, whole-object writes, and symbolic links never followed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "plugins/blobstore_fs.h"

namespace stratus::plugins {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> b(std::string_view s) { return {s.begin(), s.end()}; }

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("stratus-blobs-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(FsBlobStoreTest, ContainersAndObjects) {
  FsBlobStore s(root_);
  EXPECT_FALSE(*s.container_exists("c"));
  ASSERT_TRUE(s.create_container("c"));
  EXPECT_FALSE(s.create_container("c")) << "already exists";
  EXPECT_TRUE(*s.container_exists("c"));
  ASSERT_TRUE(s.write("c", "a.txt", b("0123456789")));
  EXPECT_EQ(*s.read("c", "a.txt", 0, UINT64_MAX), b("0123456789"));
  EXPECT_EQ(*s.read("c", "a.txt", 2, 4), b("234")) << "start and end inclusive";
  EXPECT_EQ(*s.read("c", "a.txt", 8, 100), b("89"));
  EXPECT_EQ(*s.read("c", "a.txt", 20, 30), b(""));
  EXPECT_FALSE(s.read("c", "a.txt", 5, 4));
  EXPECT_EQ(s.info("c", "a.txt")->size, 10u);
  ASSERT_TRUE(s.write("c", "a.txt", b("new")));
  EXPECT_EQ(*s.read("c", "a.txt", 0, UINT64_MAX), b("new"));
  ASSERT_TRUE(s.create_container("d"));
  ASSERT_TRUE(s.copy("c", "a.txt", "d", "copy"));
  ASSERT_TRUE(s.move("c", "a.txt", "d", "moved"));
  EXPECT_FALSE(*s.has("c", "a.txt"));
  EXPECT_EQ(*s.list("d"), (std::vector<std::string>{"copy", "moved"}));
  ASSERT_TRUE(s.clear("d"));
  EXPECT_TRUE(s.list("d")->empty());
  ASSERT_TRUE(s.delete_container("d"));
  EXPECT_FALSE(*s.container_exists("d"));
  auto missing = s.read("nope", "x", 0, 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "no container `nope`");
}

TEST_F(FsBlobStoreTest, NamesNeverLeaveTheirFolder) {
  FsBlobStore s(root_ / "store");
  ASSERT_TRUE(s.create_container(".."));
  ASSERT_TRUE(s.write("..", "../../escape", b("x")));
  ASSERT_TRUE(s.write("..", "a/b", b("y")));
  ASSERT_TRUE(s.write("..", ".hidden", b("z")));
  EXPECT_FALSE(fs::exists(root_ / "escape"));
  EXPECT_TRUE(fs::exists(root_ / "store" / "%2E." / "%2E.%2F..%2Fescape"));
  EXPECT_EQ(*s.list(".."), (std::vector<std::string>{"../../escape", ".hidden", "a/b"})) << "names come back as given";
  EXPECT_EQ(*s.read("..", "a/b", 0, 10), b("y"));
  EXPECT_FALSE(s.create_container(""));
  EXPECT_FALSE(s.write("..", std::string(300, 'n'), b("x"))) << "too long for a file name";
}

TEST_F(FsBlobStoreTest, SymbolicLinksAreNeverFollowed) {
  FsBlobStore s(root_ / "store");
  ASSERT_TRUE(s.create_container("c"));
  fs::create_directories(root_ / "outside");
  std::ofstream(root_ / "outside" / "secret") << "secret";
  fs::create_symlink(root_ / "outside" / "secret", root_ / "store" / "c" / "link");
  fs::create_directory_symlink(root_ / "outside", root_ / "store" / "evil");
  EXPECT_FALSE(s.read("c", "link", 0, 100));
  EXPECT_FALSE(s.write("c", "link", b("overwrite")));
  EXPECT_FALSE(*s.has("c", "link"));
  EXPECT_FALSE(s.read("evil", "secret", 0, 100));
  EXPECT_FALSE(s.list("evil"));
  EXPECT_TRUE(s.list("c")->empty()) << "a link is no object";
  std::ifstream in(root_ / "outside" / "secret");
  std::string text;
  in >> text;
  EXPECT_EQ(text, "secret");
}

}  // namespace
}  // namespace stratus::plugins
