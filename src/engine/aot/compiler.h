// Drives the system C compiler over generated C and keeps the resulting
// shared objects in an on-disk cache keyed by content.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "engine/aot/aot_stats.h"
#include "engine/aot/codegen.h"
#include "engine/engine.h"

namespace stratus::engine::aot {

// A dlopen()ed shared object (RTLD_LOCAL). Loaded objects are also kept in a
// process-wide table and never closed: funcrefs and the per-signature code
// registry may point into them for as long as the process runs.
class Library {
 public:
  static Result<std::shared_ptr<Library>> open(const std::filesystem::path& path);
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  void* symbol(const std::string& name) const;

 private:
  explicit Library(void* handle) : handle_(handle) {}
  void* handle_;
};

class Compiler {
 public:
  explicit Compiler(const EngineOptions& options);

  // The cache key of a shared object holding the modules with these content
  // hashes (the compiler, flags, runtime header and versions are mixed in).
  std::string cache_key(std::span<const std::string> module_hashes) const;
  std::filesystem::path cached_path(const std::string& key) const;

  // Compiles `units` into one shared object stored at cached_path(key):
  // every C file (a big module's split in parts, split.h) compiled on its
  // own, `jobs_` at a time, then linked. `what` and `num_functions` only
  // feed the progress lines.
  Result<std::filesystem::path> build(const std::string& key, std::span<const GeneratedC> units,
                                      const std::string& what, uint64_t num_functions,
                                      std::chrono::steady_clock::time_point started);

  AotStats stats() const;
  void count_cache_hit() { ++cache_hits_; }

 private:
  // build() with big modules split in parts (`split`) or whole; *split_used
  // says whether any was.
  Result<std::filesystem::path> build_with(const std::string& key, std::span<const GeneratedC> units,
                                           const std::string& what, uint64_t num_functions,
                                           std::chrono::steady_clock::time_point started, bool split, bool* split_used);
  // Runs `commands` (C compiler runs) `jobs_` at a time; the first failure.
  Result<void> run_all(const std::vector<std::vector<std::string>>& commands, const std::string& what,
                       uint64_t num_functions, std::chrono::steady_clock::time_point started);

  std::string cc_;
  int opt_level_;
  unsigned jobs_;
  size_t split_bytes_;
  bool split_fallback_;
  std::filesystem::path cache_dir_;
  std::chrono::milliseconds progress_after_;
  std::string identity_;  // first line of `cc --version`
  std::atomic<uint64_t> runs_{0}, cache_hits_{0}, modules_{0};
  std::atomic<uint64_t> compile_ns_{0};
};

// The runtime header compiled into every shared object (embedded at build time).
extern const char kWasmRtHeader[];

}  // namespace stratus::engine::aot
