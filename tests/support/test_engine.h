// Test helper: the engine backend a parameterised test names ("interp",
// "aot"), with its aot cache in `cache_dir` (the tests' STRATUS_TEST_CACHE_DIR).
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"

namespace stratus::testing {

inline Result<std::unique_ptr<engine::Engine>> make_test_engine(const std::string& backend,
                                                                const std::string& cache_dir) {
  engine::EngineOptions options;
  options.cache_dir = cache_dir;
  return engine::make_engine(backend, options);
}

}  // namespace stratus::testing
