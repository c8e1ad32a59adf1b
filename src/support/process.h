// Running a tool (the C compiler behind the aot backend, clang and jco
// behind `stratus build`) and collecting what it printed.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "support/result.h"

namespace stratus {

struct ProcessResult {
  int status = -1;     // as waitpid reports it
  std::string output;  // stdout and stderr together
  bool succeeded() const;
  // "exited with status 1", "killed by signal 9".
  std::string describe() const;
};

// Runs args[0] (looked up on PATH) with the rest as its arguments and waits
// for it. An error only when it cannot be started; a tool that fails is a
// ProcessResult that did not succeed.
Result<ProcessResult> run_process(const std::vector<std::string>& args);

// The same, calling `on_slow` once if the process still runs `slow_after`
// after `started` (the aot backend says what it is compiling).
Result<ProcessResult> run_process(const std::vector<std::string>& args, std::chrono::steady_clock::time_point started,
                                  std::chrono::milliseconds slow_after, const std::function<void()>& on_slow);

}  // namespace stratus
