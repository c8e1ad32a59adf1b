// The WASI 0.2 host running a real command: tests/wasi/guests/probe.c, built
// for preview 1 and adapted into a component by jco's adapter, on both
// backends. The probe's first argument picks what it exercises.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/engine.h"
#include "tests/support/component_file.h"
#include "wasi/p2/wasi.h"

namespace stratus::wasi::p2 {
namespace {

class CommandTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
    auto component = testing::read_component(STRATUS_PROBE_COMPONENT);
    ASSERT_TRUE(component.ok()) << component.error().message;
    probe_ = *component;
  }

  // Runs the probe with `args` after the program name; stdout and stderr
  // are captured.
  CommandOutcome run(std::vector<std::string> args, WasiConfig config = {}) {
    config.args = {"probe"};
    for (auto& a : args) config.args.push_back(a);
    config.stdout_stream = out_;
    config.stderr_stream = err_;
    auto outcome = run_command(*engine_, probe_, std::move(config));
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    return outcome.ok() ? *outcome : CommandOutcome{-1, std::nullopt};
  }

  std::unique_ptr<engine::Engine> engine_;
  component::ComponentPtr probe_;
  std::shared_ptr<CapturedOutput> out_ = std::make_shared<CapturedOutput>();
  std::shared_ptr<CapturedOutput> err_ = std::make_shared<CapturedOutput>();
};

TEST_P(CommandTest, SeesItsArgumentsAndOnlyTheGrantedEnvironment) {
  WasiConfig config;
  config.env = {{"GREETING", "hello"}, {"EMPTY", ""}};
  auto r = run({"env", "two words"}, std::move(config));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.trap);
  EXPECT_EQ(out_->contents(), "arg probe\narg env\narg two words\nenv GREETING=hello\nenv EMPTY=\n");
}

TEST_P(CommandTest, ExitStatusComesBackFromExitAndFromMain) {
  // wasi:cli/exit@0.2 carries a result, not a code: the preview 1 adapter
  // turns any non-zero code into err, which is exit code 1 (as on Wasmtime).
  EXPECT_EQ(run({"exit", "7"}).exit_code, 1);
  EXPECT_EQ(run({"exit", "0"}).exit_code, 0);
  // main returning 2 (an unknown mode) is exit(2) in wasi-libc: err again.
  auto unknown = run({"no-such-mode"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_FALSE(unknown.trap);
  EXPECT_NE(err_->contents().find("unknown mode"), std::string::npos) << err_->contents();
}

TEST_P(CommandTest, ReadsStdinToTheEnd) {
  WasiConfig config;
  std::string text = "line one\nline two";
  config.stdin_stream = memory_input(std::vector<uint8_t>(text.begin(), text.end()));
  auto r = run({"stdin"}, std::move(config));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(out_->contents(), "stdin 17 [line one\nline two]\n");
}

TEST_P(CommandTest, ClocksSleepAndRandomness) {
  auto clock = run({"clock"});
  EXPECT_EQ(clock.exit_code, 0);
  EXPECT_NE(out_->contents().find("realtime_ok=1 slept_ok=1"), std::string::npos) << out_->contents();
  auto random = run({"random"});
  EXPECT_EQ(random.exit_code, 0);
  EXPECT_NE(out_->contents().find("random nonzero=1 differ=1"), std::string::npos) << out_->contents();
}

TEST_P(CommandTest, StderrIsItsOwnStreamAndATrapIsReported) {
  EXPECT_EQ(run({"stderr"}).exit_code, 0);
  EXPECT_EQ(err_->contents(), "to stderr\n");
  auto trapped = run({"trap"});
  EXPECT_EQ(trapped.exit_code, 1);
  ASSERT_TRUE(trapped.trap.has_value());
  EXPECT_EQ(trapped.trap->kind, engine::TrapKind::Unreachable) << trapped.trap->message;
}

INSTANTIATE_TEST_SUITE_P(Backends, CommandTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::wasi::p2
