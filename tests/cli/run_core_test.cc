// `stratus run-core`, `stratus run` of a core module and `stratus bindgen`
// as a user runs them: the built
// binary in a child process, checked by exit code and output.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/cli/run_stratus.h"
#include "tests/support/temp_dir.h"

namespace stratus::cli {
namespace {

class RunCoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  Ran run(std::vector<std::string> rest) {
    std::vector<std::string> args = {"run-core", "--engine", GetParam(), "--cache-dir", STRATUS_TEST_CACHE_DIR};
    args.insert(args.end(), rest.begin(), rest.end());
    return run_stratus(args);
  }
};

TEST_P(RunCoreTest, HelloExitsZero) {
  Ran r = run({STRATUS_HELLO_WASM, "world"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello from stratus!\nargv[0] = " STRATUS_HELLO_WASM "\nargv[1] = world\n");
}

TEST_P(RunCoreTest, ExitCodeIsPassedThrough) {
  Ran r = run({STRATUS_PROBE_WASM, "exit", "3"});
  EXPECT_EQ(r.code, 3) << r.err;
}

TEST_P(RunCoreTest, TrapExits134WithKind) {
  Ran r = run({STRATUS_PROBE_WASM, "trap"});
  EXPECT_EQ(r.code, 134);
  // Anywhere in stderr: a first aot compile prints a progress line before it.
  EXPECT_NE(r.err.find("stratus: " STRATUS_PROBE_WASM ": trap: unreachable"), std::string::npos) << r.err;
}

TEST_P(RunCoreTest, GarbageFileExits1NamingTheFile) {
  std::string path = std::string(STRATUS_TEST_CACHE_DIR) + "-garbage-" + GetParam() + ".wasm";
  std::ofstream(path, std::ios::binary) << std::string("\0asm\x01\0\0\0\x05\xff\xff\xff", 12);
  Ran r = run({path});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  Ran missing = run({path + ".missing"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find(path + ".missing"), std::string::npos) << missing.err;
}

TEST_P(RunCoreTest, EnvAndGuestArgsThatLookLikeOptions) {
  Ran r = run({"--env", "A=1", "--env", "B=two", STRATUS_PROBE_WASM, "env", "--engine", "--", "-x"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "arg " STRATUS_PROBE_WASM "\narg env\narg --engine\narg --\narg -x\nenv A=1\nenv B=two\n");
}

// `stratus run` on a core module: the preview 1 layer, with the same
// grants as for a component, and proc_exit's code as the exit code.
TEST_P(RunCoreTest, RunGrantsDirectoriesToAPreview1ModuleAndKeepsItsExitCode) {
  test_support::TempDir root;
  ASSERT_FALSE(root.path().empty());
  root.write("ro/r.txt", "read only");
  std::filesystem::create_directories(root.path() / "sandbox");
  std::vector<std::string> common = {"run", "--engine", GetParam(), "--cache-dir", STRATUS_TEST_CACHE_DIR};
  auto with = [&](std::vector<std::string> rest) {
    std::vector<std::string> args = common;
    args.insert(args.end(), rest.begin(), rest.end());
    return run_stratus(args);
  };
  Ran r = with({"--dir", (root.path() / "sandbox").string() + "::/sandbox", "--dir-ro",
                (root.path() / "ro").string() + "::/ro", STRATUS_PROBE_WASM, "files"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("read [world]\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ro create Read-only file system\n"), std::string::npos) << r.out;
  EXPECT_EQ(test_support::read_text(root.path() / "sandbox" / "d" / "b.txt"), "hello world");

  EXPECT_EQ(with({STRATUS_PROBE_WASM, "exit", "33"}).code, 33);
  Ran sockets = with({"--allow-connect", "127.0.0.1:5432", STRATUS_PROBE_WASM, "exit", "0"});
  EXPECT_EQ(sockets.code, 2);
  EXPECT_NE(sockets.err.find("need a component"), std::string::npos) << sockets.err;
}

// --timeout stops a guest that never returns, in `run-core` and in `run`.
TEST_P(RunCoreTest, TimeoutStopsASpinningGuestNamingTheLimit) {
  Ran r = run({"--timeout", "300ms", STRATUS_PROBE_WASM, "spin"});
  EXPECT_EQ(r.code, 134);
  EXPECT_NE(r.err.find("stratus: " STRATUS_PROBE_WASM ": trap: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("; stopped by --timeout 300ms"), std::string::npos) << r.err;
  Ran through_run = run_stratus({"run", "--engine", GetParam(), "--cache-dir", STRATUS_TEST_CACHE_DIR, "--timeout",
                                 "0.3s", STRATUS_PROBE_WASM, "spin"});
  EXPECT_EQ(through_run.code, 134);
  EXPECT_NE(through_run.err.find("; stopped by --timeout 0.3s"), std::string::npos) << through_run.err;
  // A guest that finishes in time is not touched.
  EXPECT_EQ(run({"--timeout", "1m", STRATUS_PROBE_WASM, "exit", "0"}).code, 0);
}

// --max-memory: memory.grow past it fails, the guest sees its allocation
// fail, and the exit names the limit.
TEST_P(RunCoreTest, MaxMemoryRefusesGrowthPastItNamingTheLimit) {
  Ran r = run({"--max-memory", "4MiB", STRATUS_PROBE_WASM, "grow", "16"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("probe: out of memory after "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stratus: " STRATUS_PROBE_WASM ": exited with code 3; its memory is limited to 4 MiB by "
                       "--max-memory"),
            std::string::npos)
      << r.err;
  Ran roomy = run_stratus({"run", "--engine", GetParam(), "--cache-dir", STRATUS_TEST_CACHE_DIR, "--max-memory", "64M",
                           STRATUS_PROBE_WASM, "grow", "16"});
  EXPECT_EQ(roomy.code, 0) << roomy.err;
  EXPECT_EQ(roomy.out, "grew 16 MiB (136)\n");
  // Less than the module's own initial memory: it cannot start.
  Ran tiny = run({"--max-memory", "64K", STRATUS_PROBE_WASM, "exit", "0"});
  EXPECT_EQ(tiny.code, 1) << tiny.err;
  EXPECT_NE(tiny.err.find("its memory is limited to 64 KiB by --max-memory"), std::string::npos) << tiny.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, RunCoreTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

TEST(RunCoreUsage, UsageErrorsExit2) {
  EXPECT_EQ(run_stratus({"run-core"}).code, 2);  // no FILE
  EXPECT_EQ(run_stratus({"run-core", "--engine", "jit", STRATUS_HELLO_WASM}).code, 2);
  EXPECT_EQ(run_stratus({"run-core", "--env", "NOEQUALS", STRATUS_HELLO_WASM}).code, 2);
  EXPECT_EQ(run_stratus({}).code, 2);  // no subcommand
  EXPECT_EQ(run_stratus({"run-core", "--help"}).code, 0);
  // Limits that do not parse, named with the flag.
  for (const auto& [flag, value, says] :
       std::vector<std::array<std::string, 3>>{{"--timeout", "5", "the unit is missing"},
                                               {"--timeout", "5 parsecs", "unknown unit"},
                                               {"--timeout", "-1s", "expected a number"},
                                               {"--max-memory", "12X", "unknown unit 'X'"},
                                               {"--max-memory", "100", "less than one 64 KiB Wasm page"}}) {
    for (const char* sub : {"run-core", "run"}) {
      Ran r = run_stratus({sub, flag, value, STRATUS_HELLO_WASM});
      EXPECT_EQ(r.code, 2) << sub << " " << flag << " " << value;
      EXPECT_NE(r.err.find(flag + " '" + value + "': " + says), std::string::npos) << r.err;
    }
  }
}

// `stratus bindgen --host`: files on success, file:line:column on bad WIT.
TEST(Bindgen, WritesBindingsOrSaysWhereTheWitIsWrong) {
  std::string dir = std::string(STRATUS_TEST_CACHE_DIR) + "-bindgen";
  std::string good = dir + "-good.wit", bad = dir + "-bad.wit";
  std::ofstream(good) << "package a:b;\ninterface i { f: func(x: u32) -> string; }\nworld w { import i; }\n";
  std::ofstream(bad) << "package a:b;\ninterface i {\n  f: func(x: u32) -> ;\n}\nworld w { import i; }\n";
  auto ok = run_stratus({"bindgen", "--host", good, "--world", "w", "--out", dir, "--name", "gen"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  std::ifstream header(dir + "/gen.h");
  std::string text((std::istreambuf_iterator<char>(header)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("virtual ::stratus::wit::HostResult<std::string> f(const uint32_t& x) = 0;"), std::string::npos)
      << text;
  EXPECT_TRUE(std::ifstream(dir + "/gen.cc").good());

  auto wrong = run_stratus({"bindgen", "--host", bad, "--world", "w", "--out", dir});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find(bad + ":3:22: expected a type"), std::string::npos) << wrong.err;
  auto no_world = run_stratus({"bindgen", "--host", good, "--world", "v", "--out", dir});
  EXPECT_EQ(no_world.code, 1);
  EXPECT_NE(no_world.err.find("world `v` not found"), std::string::npos) << no_world.err;
  EXPECT_EQ(run_stratus({"bindgen", "--host", good, "--out", dir}).code, 2);  // no --world
}

}  // namespace
}  // namespace stratus::cli
