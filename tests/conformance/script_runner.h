// Runs the commands of one wast2json script on an engine, through the
// engine-neutral interface only, so every backend is judged the same way.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"

namespace stratus::conformance {

struct ScriptOutcome {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<std::string> failures;        // "line N: what went wrong"
  std::map<std::string, int> skip_reasons;  // reason -> commands skipped for it
};

class ScriptRunner {
 public:
  // `json_dir` holds the script's JSON and the .wasm files it names.
  ScriptRunner(engine::Engine& engine, std::string script_name, std::filesystem::path json_dir);
  ScriptOutcome run(const nlohmann::json& script);

 private:
  // Where a module or instance stands: usable, skipped for a reason, or failed.
  struct Slot {
    std::shared_ptr<engine::Instance> instance;
    std::optional<std::string> skip_reason;
  };
  using Exports = std::map<std::string, engine::Extern>;

  void compile_all(const nlohmann::json& commands);
  void add_spectest();
  void run_command(const nlohmann::json& command);
  void on_module(const nlohmann::json& command);
  void on_register(const nlohmann::json& command);
  void on_action(const nlohmann::json& command, const std::string& type);
  void on_bad_module(const nlohmann::json& command, const std::string& type);

  // The compiled module for a file, or why not (an error or a skip reason).
  struct Compiled {
    std::shared_ptr<engine::Module> module;
    std::string error;
    std::optional<std::string> skip_reason;
  };
  const Compiled& compiled(const std::string& filename);
  std::string skip_reason_for(const std::string& message) const;
  // Imports from the registry; sets `skip` if one comes from a skipped module.
  std::vector<engine::ImportValue> imports_for(const engine::Module& module, std::optional<std::string>& skip);
  const Slot* instance_for(const nlohmann::json& action);

  void pass() { ++outcome_.passed; }
  void fail(const nlohmann::json& command, const std::string& what);
  void skip(const std::string& reason) {
    ++outcome_.skipped;
    ++outcome_.skip_reasons[reason];
  }

  engine::Engine& engine_;
  std::string script_name_;
  std::filesystem::path json_dir_;
  std::map<std::string, Compiled> compiled_;
  std::map<std::string, Exports> registry_;
  std::map<std::string, std::string> skipped_registrations_;  // name -> reason
  std::map<std::string, Slot> named_;
  std::optional<Slot> current_;
  ScriptOutcome outcome_;
};

// "simd" for the SIMD scripts, else "core": the proposal a skip is charged to.
std::string proposal_of(const std::string& script_name);

}  // namespace stratus::conformance
