// The fixture of the engine tests: one engine of the backend named by the
// test parameter ("aot", "interp", or "aot_split": aot building each
// module's C in several parts), with a private compile cache.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "tests/support/wat.h"

namespace stratus::engine {

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    cache_ = std::filesystem::temp_directory_path() / ("stratus-engine-test-" + std::to_string(::getpid()));
    EngineOptions options;
    options.cache_dir = cache_.string();
    // aot_split: aot with every module's C split in 3 parts (aot/split.h),
    // no fallback to a whole build: the same results as aot's.
    if (GetParam() == "aot_split") {
      options.compile_jobs = 3;
      options.split_bytes = 0;
      options.split_fallback = false;
      options.cache_dir = cache_.string() + "-split";  // not aot's whole builds
    }
    auto made = make_engine(GetParam() == "aot_split" ? "aot" : GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
  }

  std::shared_ptr<Module> compile(std::string_view wat, const CompileOptions& options = {.name = "test"},
                                  testing::WatFeatures features = testing::WatFeatures::WebAssembly2) {
    auto bytes = testing::wat_to_wasm(wat, features);
    EXPECT_TRUE(bytes.ok()) << bytes.error().message;
    if (!bytes.ok()) return nullptr;
    auto module = engine_->compile(*bytes, options);
    EXPECT_TRUE(module.ok()) << module.error().message;
    return module.ok() ? *module : nullptr;
  }

  std::shared_ptr<Instance> instantiate(const std::shared_ptr<Module>& module,
                                        std::span<const ImportValue> imports = {}, const InstanceLimits& limits = {}) {
    if (!module) return nullptr;
    auto result = engine_->instantiate(module, imports, limits);
    if (auto* trap = std::get_if<Trap>(&result)) ADD_FAILURE() << "trap: " << trap->message;
    if (auto* error = std::get_if<Error>(&result)) ADD_FAILURE() << "error: " << error->message;
    auto* instance = std::get_if<std::shared_ptr<Instance>>(&result);
    return instance ? *instance : nullptr;
  }

  std::shared_ptr<Instance> instance_of(std::string_view wat, std::span<const ImportValue> imports = {},
                                        const InstanceLimits& limits = {}) {
    return instantiate(compile(wat), imports, limits);
  }

  std::filesystem::path cache_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace stratus::engine
