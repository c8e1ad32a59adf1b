// Environment variables for the processes a test starts (OTEL_*, ...).
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace stratus::test_support {

// Sets environment variables for the processes the test starts, and
// takes them away again.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::string>> vars) : vars_(std::move(vars)) {
    for (const auto& [k, v] : vars_) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : vars_) ::unsetenv(k.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
};

}  // namespace stratus::test_support
