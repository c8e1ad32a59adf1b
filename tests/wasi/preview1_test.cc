// WASI preview 1 end to end: real C guests (built with wasi-libc) run through
// run_command on each engine backend.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "support/file.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wat.h"
#include "tests/wasi/capture.h"
#include "wasi/preview1/preview1.h"

namespace stratus::wasi::preview1 {
namespace {

namespace fs = std::filesystem;

class Preview1Test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    // Shared by every test process, so the aot backend compiles each guest once.
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
  }

  Preview1Config config(std::vector<std::string> args, std::vector<std::string> env = {}) {
    Preview1Config c;
    c.args = std::move(args);
    c.env = std::move(env);
    c.stdin_fd = in_.fd();
    c.stdout_fd = out_.fd();
    c.stderr_fd = err_.fd();
    c.dirs = dirs_;
    return c;
  }

  CommandOutcome run(const char* path, std::vector<std::string> args, std::vector<std::string> env = {}) {
    auto bytes = read_file(path);
    if (!bytes) return bytes.error();
    CommandOptions options;
    options.name = path;
    return execute_command(*engine_, *bytes, config(std::move(args), std::move(env)), options);
  }

  // Runs and expects an exit code; returns the output for checks.
  std::string run_ok(const char* path, std::vector<std::string> args, std::vector<std::string> env = {},
                     int expected_code = 0) {
    auto outcome = run(path, std::move(args), std::move(env));
    if (auto* error = std::get_if<Error>(&outcome)) ADD_FAILURE() << "error: " << error->message;
    if (auto* trap = std::get_if<engine::Trap>(&outcome)) ADD_FAILURE() << describe(*trap);
    if (auto* code = std::get_if<int>(&outcome)) {
      EXPECT_EQ(*code, expected_code) << "stderr: " << err_.text();
    }
    return out_.text();
  }

  testing::CapturedFd in_{"stdin", "line one\nline two"};
  testing::CapturedFd out_{"stdout"};
  testing::CapturedFd err_{"stderr"};
  std::vector<Preopen> dirs_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_P(Preview1Test, HelloPrintsGreetingAndArgs) {
  EXPECT_EQ(run_ok(STRATUS_HELLO_WASM, {"hello.wasm", "a", "b c"}),
            "Hello from stratus!\nargv[0] = hello.wasm\nargv[1] = a\nargv[2] = b c\n");
}

TEST_P(Preview1Test, ArgsAndEnvironReachTheGuest) {
  EXPECT_EQ(run_ok(STRATUS_PROBE_WASM, {"probe", "env", "x"}, {"GREETING=hi", "EMPTY="}),
            "arg probe\narg env\narg x\nenv GREETING=hi\nenv EMPTY=\n");
}

TEST_P(Preview1Test, ProcExitCodeIsTheResult) {
  auto outcome = run(STRATUS_PROBE_WASM, {"probe", "exit", "3"});
  ASSERT_TRUE(std::holds_alternative<int>(outcome))
      << (std::holds_alternative<Error>(outcome) ? std::get<Error>(outcome).message : "trap");
  EXPECT_EQ(std::get<int>(outcome), 3);
  auto bytes = read_file(STRATUS_PROBE_WASM);
  ASSERT_TRUE(bytes.ok());
  auto code = run_command(*engine_, *bytes, config({"probe", "exit", "42"}));
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(*code, 42);
}

TEST_P(Preview1Test, BadGuestPointersAreEfaultAndTheHostSurvives) {
  EXPECT_EQ(run_ok(STRATUS_PROBE_WASM, {"probe", "efault"}), "efault 21 21 21 21 21 21\n");
}

TEST_P(Preview1Test, ClocksAndSleepWork) {
  EXPECT_EQ(run_ok(STRATUS_PROBE_WASM, {"probe", "clock"}), "clock realtime_ok=1 slept_ok=1 cpu_ok=1 res_ok=1\n");
}

TEST_P(Preview1Test, RandomWorks) {
  EXPECT_EQ(run_ok(STRATUS_PROBE_WASM, {"probe", "random"}), "random nonzero=1 differ=1\n");
}

TEST_P(Preview1Test, StdinAndStderr) {
  EXPECT_EQ(run_ok(STRATUS_PROBE_WASM, {"probe", "stdin"}), "stdin 17 [line one\nline two]\n");
  run_ok(STRATUS_PROBE_WASM, {"probe", "stderr"});
  EXPECT_EQ(err_.text(), "to stderr\n");
}

// Files beneath preopens with wasi-libc's own calls, and every way out of
// the sandbox refused: `..`, an absolute path, symbolic links up and out.
TEST_P(Preview1Test, FilesStayBeneathTheirPreopens) {
  test_support::TempDir root;
  ASSERT_FALSE(root.path().empty());
  root.write("secret", "do not read");
  root.write("ro/r.txt", "read only");
  fs::create_directories(root.path() / "sandbox");
  fs::create_directory_symlink("..", root.path() / "sandbox" / "up");
  fs::create_symlink(root.path() / "secret", root.path() / "sandbox" / "abs");
  dirs_ = {{(root.path() / "sandbox").string(), "/sandbox", false}, {(root.path() / "ro").string(), "/ro", true}};

  EXPECT_EQ(run_ok(STRATUS_PROBE_WASM, {"probe", "files"}),
            "read [world]\n"
            "size 11 regular 1\n"
            "entries 102\n"
            "up Operation not permitted\n"
            "abs Operation not permitted\n"
            "raw dotdot 63\n"  // EPERM
            "raw absolute 63\n"
            "raw up 63\n"
            "ro read ok\n"
            "ro create Read-only file system\n"
            "ro unlink Read-only file system\n");
  EXPECT_EQ(test_support::read_text(root.path() / "sandbox" / "d" / "b.txt"), "hello world");
  EXPECT_FALSE(fs::exists(root.path() / "sandbox" / "a.txt"));
  EXPECT_EQ(test_support::read_text(root.path() / "ro" / "r.txt"), "read only");
  EXPECT_FALSE(fs::exists(root.path() / "ro" / "new.txt"));
}

TEST_P(Preview1Test, AMissingPreopenIsAnErrorNamingIt) {
  dirs_ = {{"/nonexistent/stratus-preopen", "/data", false}};
  auto outcome = run(STRATUS_PROBE_WASM, {"probe", "files"});
  ASSERT_TRUE(std::holds_alternative<Error>(outcome));
  EXPECT_NE(std::get<Error>(outcome).message.find("/nonexistent/stratus-preopen"), std::string::npos)
      << std::get<Error>(outcome).message;
}

TEST_P(Preview1Test, TrapIsReportedWithItsKind) {
  auto outcome = run(STRATUS_PROBE_WASM, {"probe", "trap"});
  ASSERT_TRUE(std::holds_alternative<engine::Trap>(outcome));
  EXPECT_EQ(std::get<engine::Trap>(outcome).kind, engine::TrapKind::Unreachable);
  auto bytes = read_file(STRATUS_PROBE_WASM);
  ASSERT_TRUE(bytes.ok());
  auto code = run_command(*engine_, *bytes, config({"probe", "trap"}));
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().message.rfind("trap: unreachable", 0), 0u) << code.error().message;
}

TEST_P(Preview1Test, InvalidModuleIsAnError) {
  std::vector<uint8_t> garbage = {0x00, 'a', 's', 'm', 1, 0, 0, 0, 0xff, 0xff};
  auto code = run_command(*engine_, garbage, config({"garbage"}));
  EXPECT_FALSE(code.ok());
}

TEST_P(Preview1Test, ModuleWithoutMemoryGetsEfault) {
  auto wasm = testing::wat_to_wasm(R"((module
    (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (func (export "_start") (call $exit (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0))))))");
  ASSERT_TRUE(wasm.ok()) << wasm.error().message;
  auto code = run_command(*engine_, *wasm, config({"nomem"}));
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(*code, 21);
}

TEST_P(Preview1Test, UnknownPreview1ImportsLinkToEnosys) {
  auto wasm = testing::wat_to_wasm(R"((module
    (import "wasi_snapshot_preview1" "proc_raise" (func $raise (param i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start") (call $exit (call $raise (i32.const 6))))))");
  ASSERT_TRUE(wasm.ok()) << wasm.error().message;
  auto code = run_command(*engine_, *wasm, config({"raise"}));
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(*code, 52);
}

TEST_P(Preview1Test, WrongImportTypesAreErrorsThatNameTheImport) {
  auto wasm = testing::wat_to_wasm(R"((module
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
    (func (export "_start"))))");
  ASSERT_TRUE(wasm.ok()) << wasm.error().message;
  auto code = run_command(*engine_, *wasm, config({"bad"}));
  ASSERT_FALSE(code.ok());
  EXPECT_NE(code.error().message.find("wasi_snapshot_preview1.fd_write"), std::string::npos) << code.error().message;

  auto memory_import = testing::wat_to_wasm(R"((module
    (import "wasi_snapshot_preview1" "memory" (memory 1))
    (func (export "_start"))))");
  ASSERT_TRUE(memory_import.ok());
  EXPECT_FALSE(run_command(*engine_, *memory_import, config({"bad"})).ok());
}

TEST_P(Preview1Test, ExitFromStartFunctionAndMissingStart) {
  auto start_exit = testing::wat_to_wasm(R"((module
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (func $s (call $exit (i32.const 7)))
    (start $s)))");
  ASSERT_TRUE(start_exit.ok());
  auto code = run_command(*engine_, *start_exit, config({"s"}));
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(*code, 7);

  auto reactor = testing::wat_to_wasm("(module (func (export \"_initialize\")))");
  ASSERT_TRUE(reactor.ok());
  auto missing = run_command(*engine_, *reactor, config({"r"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("_start"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, Preview1Test, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::wasi::preview1
