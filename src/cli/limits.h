// The limits `run` and `run-core` put on a guest: `--timeout DURATION` (the
// command's call; a guest still running then traps with a deadline) and
// `--max-memory SIZE` (its memories together; memory.grow past it returns
// -1). A guest a limit stopped exits non-zero with a line naming the limit.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "engine/engine.h"
#include "support/result.h"
#include "wasi/preview1/preview1.h"

namespace stratus::cli {

// `--timeout`: a number with a unit, ms, s, m or h (`500ms`, `1s`, `1.5m`);
// the error names the flag and the value.
Result<std::chrono::nanoseconds> parse_duration(const std::string& text);

// `--max-memory`: bytes, or a number with a unit, K, M or G (powers of 1024;
// `KiB`, `MiB`, `GiB` and `KB`, `MB`, `GB` say the same); at least one
// 64 KiB Wasm page.
Result<uint64_t> parse_size(const std::string& text);

// A size as people read it: 16 MiB, 1.5 GiB, 1000 bytes.
std::string describe_size(uint64_t bytes);

// The two flags as given (empty: no limit).
struct LimitFlags {
  std::string timeout;
  std::string max_memory;
  // Parsed into an instance's limits; the error names the flag.
  Result<engine::InstanceLimits> parse() const;
  // What a failed run says of the limits: "stopped by --timeout 1s" for a
  // deadline trap, else (with --max-memory) "its memory is limited to
  // 16 MiB by --max-memory"; empty when no limit is in play.
  std::string note(const engine::Trap* trap) const;
};

// Adds --timeout and --max-memory to a subcommand.
void add_limit_flags(CLI::App& app, LimitFlags& flags);

// MESSAGE; NOTE, or MESSAGE alone when NOTE is empty.
std::string with_note(const std::string& message, const std::string& note);

// A guest from FILE that exited with `code`: the code, after a line naming
// the limit when it is not 0 and a limit is in play.
int exit_code_under_limits(const std::string& file, int code, const LimitFlags& flags);

// The exit of a preview 1 command run from FILE: its code, 134 on a trap, 1
// when it could not run. A line on stderr for the last two, and for a
// non-zero code under a limit, naming the limit.
int finish_preview1(const std::string& file, const wasi::preview1::CommandOutcome& outcome, const LimitFlags& flags);

}  // namespace stratus::cli
