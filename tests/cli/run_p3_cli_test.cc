// `stratus run` of WASI 0.3 commands (fixtures/jco/p3: Wasmtime's p3_cli*,
// p3_clocks_sleep and p3_random_imports test programs), on both backends,
// with the arguments and environment their harness gives them: stdio as
// streams (output written after `run` returned too), async clock waits,
// random.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/cli/run_stratus.h"

namespace stratus::cli {
namespace {

class RunP3CliTest : public ::testing::TestWithParam<std::string> {
 protected:
  Ran run(const std::string& program, std::vector<std::string> before = {}, std::vector<std::string> after = {}) {
    std::vector<std::string> args = {"run", "--engine", GetParam(), "--cache-dir", STRATUS_TEST_CACHE_DIR};
    args.insert(args.end(), before.begin(), before.end());
    args.push_back(std::string(STRATUS_JCO_P3_FIXTURES) + "/" + program + ".wasm");
    args.insert(args.end(), after.begin(), after.end());
    return run_stratus(args);
  }
};

TEST_P(RunP3CliTest, WritesStdoutThroughAStream) {
  Ran r = run("cli/p3-cli-hello-stdout");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello, world\n");
}

TEST_P(RunP3CliTest, OutputWrittenAfterRunReturnedStillComesOut) {
  Ran r = run("cli/p3-cli-hello-stdout-post-return");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello, world\nhello again, after return\n");
}

TEST_P(RunP3CliTest, ManyWritesComeOutWhole) {
  Ran r = run("cli/p3-cli-much-stdout", {}, {"abc", "500"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string want;
  for (int i = 0; i < 500; ++i) want += "abc";
  EXPECT_EQ(r.out, want);
}

TEST_P(RunP3CliTest, ArgumentsEnvironmentTerminalsAndStdio) {
  Ran r = run("cli/p3-cli", {"--env", "A=B", "--argv0", "p3_cli.component"}, {"."});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello stdout\n");
  // (aot may say first that it compiles the component)
  EXPECT_NE(r.err.find("hello stderr\n"), std::string::npos) << r.err;
}

TEST_P(RunP3CliTest, ClockWaitsAndRandomImports) {
  Ran sleep = run("clocks/p3-clocks-sleep");
  EXPECT_EQ(sleep.code, 0) << sleep.err;
  Ran random = run("random/p3-random-imports");
  EXPECT_EQ(random.code, 0) << random.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, RunP3CliTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::cli
