// wasi:filesystem: the sandboxed path resolution on its own, then
// tests/wasi/p2/guests/fs.c (adapted into a component) on both backends,
// against a temp tree preopened at /sandbox. Beside the preopen lies a file
// the guest must never reach; inside, symlinks point at it (absolute and
// `../`), at the parent directory, and at a file inside.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "engine/engine.h"
#include "tests/support/component_file.h"
#include "wasi/p2/filesystem_paths.h"
#include "wasi/p2/wasi.h"

namespace stratus::wasi::p2 {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// Everything under `dir`, symlinks not followed: name -> mode, size,
// modification time and contents, so a test can see that nothing changed.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    std::string what = std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
                       std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (e.is_symlink()) {
      what += " -> " + fs::read_symlink(e.path()).string();
    } else if (e.is_regular_file()) {
      what += " [" + slurp(e.path()) + "]";
    }
    out[fs::relative(e.path(), dir).string()] = what;
  }
  return out;
}

// base/outside.txt, and the preopen base/root with data.txt, sub/inner.txt
// and the symlinks; removed again at the end.
class SandboxTree {
 public:
  SandboxTree() {
    std::string pattern = (fs::temp_directory_path() / "stratus-fs-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    base = pattern;
    root = base / "root";
    fs::create_directories(root / "sub");
    spit(base / "outside.txt", "secret");
    spit(root / "data.txt", "data in sandbox");
    spit(root / "sub" / "inner.txt", "inner");
    fs::create_symlink(base / "outside.txt", root / "link_abs");
    fs::create_symlink("../outside.txt", root / "link_rel");
    fs::create_symlink("data.txt", root / "link_in");
    fs::create_symlink("../created.txt", root / "link_new");  // dangling, and out
    fs::create_directory_symlink("..", root / "up");
  }
  ~SandboxTree() {
    std::error_code ec;
    if (!base.empty()) fs::remove_all(base, ec);
  }
  SandboxTree(const SandboxTree&) = delete;
  SandboxTree& operator=(const SandboxTree&) = delete;

  // What lies outside the preopen (the base without root/).
  std::map<std::string, std::string> outside() const {
    auto all = snapshot(base);
    std::erase_if(all, [](const auto& e) { return e.first == "root" || e.first.rfind("root/", 0) == 0; });
    return all;
  }

  fs::path base, root;
};

class SandboxPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::open(tree_.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dir_, 0);
  }
  void TearDown() override {
    if (dir_ >= 0) ::close(dir_);
  }
  int open_error(const std::string& path, int flags = O_RDONLY) { return open_beneath(dir_, path, flags, 0644).error; }
  ino_t inode(int fd) {
    struct stat st {};
    ::fstat(fd, &st);
    return st.st_ino;
  }

  SandboxTree tree_;
  int dir_ = -1;
};

TEST_F(SandboxPathsTest, OpensOnlyBeneathTheDirectory) {
  EXPECT_EQ(open_error("data.txt"), 0);
  EXPECT_EQ(open_error("sub/../data.txt"), 0);
  EXPECT_EQ(open_error("./sub/inner.txt"), 0);
  EXPECT_EQ(open_error("link_in"), 0);
  EXPECT_EQ(open_error("link_abs", O_PATH | O_NOFOLLOW), 0);  // the link itself

  EXPECT_EQ(open_error("../outside.txt"), EPERM);
  EXPECT_EQ(open_error("/etc/passwd"), EPERM);
  EXPECT_EQ(open_error(tree_.base / "outside.txt"), EPERM);
  EXPECT_EQ(open_error("sub/../../outside.txt"), EPERM);
  EXPECT_EQ(open_error(".."), EPERM);
  EXPECT_EQ(open_error("link_abs"), EPERM);
  EXPECT_EQ(open_error("link_rel"), EPERM);
  EXPECT_EQ(open_error("up/outside.txt"), EPERM);
  EXPECT_EQ(open_error("link_new", O_WRONLY | O_CREAT), EPERM);
  EXPECT_EQ(open_error("link_rel", O_PATH), EPERM);
  EXPECT_EQ(open_error(""), ENOENT);
  EXPECT_EQ(open_error(std::string("data.txt\0/../..", 15)), EINVAL);
  EXPECT_FALSE(fs::exists(tree_.base / "created.txt"));
}

TEST_F(SandboxPathsTest, ParentsAreResolvedBeneathAndNamesAreNeverDotDot) {
  auto plain = open_parent(dir_, "new.txt", false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain.value.fd, dir_);
  EXPECT_EQ(plain.value.name, "new.txt");

  auto nested = open_parent(dir_, "sub/inner.txt", false);
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested.value.name, "inner.txt");
  struct stat sub {};
  ASSERT_EQ(::stat((tree_.root / "sub").c_str(), &sub), 0);
  EXPECT_EQ(inode(nested.value.fd), sub.st_ino);

  // A path ending in ".." or "/" names a directory: that directory and ".".
  auto back = open_parent(dir_, "sub/..", false);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value.name, ".");
  EXPECT_EQ(inode(back.value.fd), inode(dir_));
  auto slash = open_parent(dir_, "sub/", false);
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash.value.name, ".");
  auto stripped = open_parent(dir_, "sub//", true);
  ASSERT_TRUE(stripped.ok());
  EXPECT_EQ(stripped.value.name, "sub");
  EXPECT_TRUE(stripped.value.trailing_slash);

  EXPECT_EQ(open_parent(dir_, "..", false).error, EPERM);
  EXPECT_EQ(open_parent(dir_, "../x", false).error, EPERM);
  EXPECT_EQ(open_parent(dir_, "up/x", false).error, EPERM);
  EXPECT_EQ(open_parent(dir_, "link_abs/", false).error, EPERM);
  EXPECT_EQ(open_parent(dir_, "/tmp/x", false).error, EPERM);
  EXPECT_EQ(open_parent(dir_, "", true).error, ENOENT);
}

class FilesystemTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
    auto component = testing::read_component(STRATUS_FS_COMPONENT);
    ASSERT_TRUE(component.ok()) << component.error().message;
    guest_ = *component;
  }

  // Runs the guest with `args` after the program name and `dirs`
  // preopened; returns its stdout.
  std::string run(std::vector<std::string> args, std::vector<Preopen> dirs) {
    WasiConfig config;
    config.args = {"fs"};
    config.args.insert(config.args.end(), args.begin(), args.end());
    config.dirs = std::move(dirs);
    auto out = std::make_shared<CapturedOutput>();
    auto err = std::make_shared<CapturedOutput>();
    config.stdout_stream = out;
    config.stderr_stream = err;
    auto outcome = run_command(*engine_, guest_, std::move(config));
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    if (outcome.ok()) {
      EXPECT_EQ(outcome->exit_code, 0) << err->contents() << out->contents();
      EXPECT_FALSE(outcome->trap.has_value()) << outcome->trap->message;
    }
    return out->contents();
  }

  std::vector<Preopen> sandbox(bool read_only = false) { return {Preopen{tree_.root.string(), "/sandbox", read_only}}; }

  std::unique_ptr<engine::Engine> engine_;
  component::ComponentPtr guest_;
  SandboxTree tree_;
};

TEST_P(FilesystemTest, ReadsWritesAndManagesFilesInsideThePreopen) {
  auto outside = tree_.outside();
  EXPECT_EQ(run({"basic"}, sandbox()), R"(create hello.txt ok
read hello.txt [hello]
append ok
read hello.txt [hello world]
open rw ok
pwrite ok
pread 5 [World]
ftruncate ok
fstat ok
fstat file size=5
read hello.txt [hello]
stat hello.txt file size=5
stat sub dir
mkdir newdir ok
mkdir newdir/deeper/ ok
stat newdir/deeper dir
ls .: ../dir ./dir data.txt/file hello.txt/file link_abs/link link_in/link link_new/link link_rel/link newdir/dir sub/dir up/link
ls sub: ../dir ./dir inner.txt/file
rename hello.txt sub/moved.txt ok
stat hello.txt ENOENT
read sub/moved.txt [hello]
link sub/moved.txt hard.txt ok
read hard.txt [hello]
unlink hard.txt ok
unlink sub/moved.txt ok
unlink newdir EISDIR
rmdir newdir ENOTEMPTY
rmdir newdir/deeper ok
rmdir newdir/ ok
stat newdir ENOENT
symlink data.txt mylink ok
readlink mylink ok [data.txt]
lstat mylink link size=8
stat mylink file size=15
read mylink [data in sandbox]
read link_in [data in sandbox]
read sub/../data.txt [data in sandbox]
utimensat data.txt ok
fstatat data.txt ok
mtime 1000000000 500
futimens ok
fstat ok
times 1100000000 1200000000
)");
  // What the guest did is there on the host, and only that.
  EXPECT_EQ(fs::read_symlink(tree_.root / "mylink"), "data.txt");
  EXPECT_FALSE(fs::exists(tree_.root / "hello.txt"));
  EXPECT_FALSE(fs::exists(tree_.root / "newdir"));
  struct stat st {};
  ASSERT_EQ(::stat((tree_.root / "data.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1100000000);
  EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
  EXPECT_EQ(slurp(tree_.root / "data.txt"), "data in sandbox");  // after the stat: reading may set atime
  EXPECT_EQ(tree_.outside(), outside);
}

TEST_P(FilesystemTest, EveryWayOutOfThePreopenFails) {
  auto outside = tree_.outside();
  auto inside = snapshot(tree_.root);
  EXPECT_EQ(run({"escape", tree_.base.string()}, sandbox()), R"(raw open /etc/passwd EPERM
raw open <base>/outside.txt EPERM
raw stat <base>/outside.txt EPERM
raw create <base>/made EPERM
raw mkdir <base>/made EPERM
raw unlink <base>/outside.txt EPERM
raw symlink x <base>/made EPERM
raw open / EPERM
open ../outside.txt EPERM
open /etc/passwd ENOTCAPABLE
open sub/../../outside.txt EPERM
open .. EPERM
open sub/../.. EPERM
open link_abs EPERM
open link_rel EPERM
open up/outside.txt EPERM
open link_rel for writing EPERM
create through link_new EPERM
create up/created.txt EPERM
stat ../outside.txt EPERM
stat link_abs EPERM
stat link_rel EPERM
stat /etc/passwd ENOTCAPABLE
lstat link_abs ok
mkdir .. EPERM
mkdir ../newdir EPERM
mkdir up/newdir EPERM
rename data.txt ../stolen.txt EPERM
rename ../outside.txt got.txt EPERM
rename link_abs/ x ENOTDIR
link ../outside.txt got.txt EPERM
link data.txt ../linked.txt EPERM
link following link_rel EINVAL
unlink ../outside.txt EPERM
unlink up/outside.txt EPERM
rmdir .. EPERM
symlink /etc/passwd abs EPERM
symlink x ../made EPERM
utimes ../outside.txt EPERM
utimes link_rel EPERM
readlink link_abs EPERM
readlink link_rel ok [../outside.txt]
readlink ../x EPERM
)");
  // Nothing outside was read into the output, changed, or made; inside,
  // nothing moved either.
  EXPECT_EQ(tree_.outside(), outside);
  EXPECT_EQ(snapshot(tree_.root), inside);
}

TEST_P(FilesystemTest, ReadOnlyPreopenRefusesEveryChange) {
  auto before = snapshot(tree_.base);
  EXPECT_EQ(run({"readonly"}, sandbox(true)), R"(read data.txt [data in sandbox]
ls .: ../dir ./dir data.txt/file link_abs/link link_in/link link_new/link link_rel/link sub/dir up/link
stat data.txt file size=15
open data.txt O_WRONLY EROFS
open data.txt O_RDWR EROFS
open data.txt O_TRUNC EROFS
create new.txt EROFS
mkdir newdir EROFS
unlink data.txt EROFS
rmdir sub EROFS
rename data.txt renamed.txt EROFS
link data.txt hard.txt EROFS
symlink data.txt s EROFS
utimes data.txt EROFS
open data.txt O_RDONLY ok
write EBADF
pwrite EBADF
ftruncate EPERM
futimens EPERM
open sub ok
create sub/new.txt EROFS
unlink sub/inner.txt EROFS
read sub/inner.txt [inner]
read data.txt [data in sandbox]
)");
  EXPECT_EQ(snapshot(tree_.base), before);
}

TEST_P(FilesystemTest, WithoutPreopensNothingCanBeOpened) {
  EXPECT_EQ(run({"none"}, {}), R"(preopens 0
open /sandbox/data.txt ENOTCAPABLE
open data.txt ENOTCAPABLE
open / ENOTCAPABLE
open fd 3 EBADF
)");
}

TEST_P(FilesystemTest, APreopenThatCannotBeOpenedStopsTheRunWithItsName) {
  WasiConfig config;
  config.args = {"fs", "basic"};
  config.dirs = {Preopen{(tree_.base / "missing").string(), "/sandbox", false}};
  auto outcome = run_command(*engine_, guest_, std::move(config));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error().message.find((tree_.base / "missing").string()), std::string::npos)
      << outcome.error().message;
}

INSTANTIATE_TEST_SUITE_P(Backends, FilesystemTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::wasi::p2
