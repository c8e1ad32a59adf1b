// The one machine-readable line every benchmark prints per figure, beside
// its own table, for tools/bench-report (./x bench's summary and HTML):
//
//   BENCH name=<bench>/<row> value=<number> unit=<unit> ratio=<number>
//         baseline=<what> base_value=<number> goal=<op><number>|none
//
// `ratio` is the figure the goal is about, against `baseline` measured in
// the same run (a peer such as wasmtime is a baseline too); `base_value` is
// the baseline's own figure in `unit` (0 when it has none, as a goal). Names,
// units and baselines carry no spaces.
#pragma once

#include <cstdio>
#include <string>

namespace stratus::bench {

// The line, without its newline. `goal`: "<=1.3", ">=0.5", or "" for a
// figure without a goal.
inline std::string bench_line_text(const std::string& name, double value, const std::string& unit, double ratio,
                                   const std::string& baseline, double base_value, const std::string& goal) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "BENCH name=%s value=%.6g unit=%s ratio=%.4g baseline=%s base_value=%.6g goal=%s",
                name.c_str(), value, unit.c_str(), ratio, baseline.c_str(), base_value,
                goal.empty() ? "none" : goal.c_str());
  return buf;
}

// Prints the line on stdout.
inline void bench_line(const std::string& name, double value, const std::string& unit, double ratio,
                       const std::string& baseline, double base_value, const std::string& goal) {
  std::printf("%s\n", bench_line_text(name, value, unit, ratio, baseline, base_value, goal).c_str());
}

}  // namespace stratus::bench
