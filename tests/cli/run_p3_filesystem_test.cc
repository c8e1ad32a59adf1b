// `stratus run --dir` of WASI 0.3 commands that use wasi:filesystem 0.3
// (fixtures/jco/p3/fs: Wasmtime's p3_file_write, p3_filesystem_file_read_write
// and p3_readdir test programs), on both backends. Each works in the first
// preopen it is given and expects it empty.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli/run_stratus.h"
#include "tests/support/temp_dir.h"

namespace stratus::cli {
namespace {

class RunP3FilesystemTest : public ::testing::TestWithParam<std::string> {
 protected:
  Ran run(const std::string& program, const std::filesystem::path& dir) {
    return run_stratus({"run", "--engine", GetParam(), "--cache-dir", STRATUS_TEST_CACHE_DIR, "--dir",
                        dir.string() + "::/", std::string(STRATUS_JCO_P3_FIXTURES) + "/fs/" + program + ".wasm"});
  }
};

TEST_P(RunP3FilesystemTest, WritesALongFileThroughAStreamAndReadsItBack) {
  test_support::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Ran r = run("p3-file-write", dir.path());
  EXPECT_EQ(r.code, 0) << r.err;
  // 4096 chunks of 16 bytes, written by the guest through write-via-stream.
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "long_write.txt"), 64u * 1024u);
}

TEST_P(RunP3FilesystemTest, ReadsAndWritesAtOffsets) {
  test_support::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Ran r = run("p3-filesystem-file-read-write", dir.path());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "test.txt"));  // the guest unlinks it
}

TEST_P(RunP3FilesystemTest, ReadsDirectoriesAsStreamsOfEntries) {
  test_support::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Ran r = run("p3-readdir", dir.path());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // it removes the thousand files it made
}

TEST_P(RunP3FilesystemTest, WithoutAPreopenTheGuestFailsAndTheHostDoesNot) {
  // The programs index the first preopen: none granted is a guest panic,
  // reported as the trap it ends in (exit 134, as for every trap).
  Ran r = run_stratus({"run", "--engine", GetParam(), "--cache-dir", STRATUS_TEST_CACHE_DIR,
                       std::string(STRATUS_JCO_P3_FIXTURES) + "/fs/p3-readdir.wasm"});
  EXPECT_EQ(r.code, 134) << r.err;
  EXPECT_NE(r.err.find("trap: unreachable"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, RunP3FilesystemTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::cli
