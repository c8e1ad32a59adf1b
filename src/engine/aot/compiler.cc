#include "engine/aot/compiler.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "support/file.h"
#include "support/hash.h"
#include "support/process.h"

namespace stratus::engine::aot {
namespace {

namespace fs = std::filesystem;

std::string compiler_identity(const std::string& cc) {
  static std::mutex mu;
  static std::map<std::string, std::string> known;
  std::lock_guard lock(mu);
  auto it = known.find(cc);
  if (it != known.end()) return it->second;
  std::string id = cc + " (unknown version)";
  auto r = run_process({cc, "--version"});
  if (r && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0) id = r->output.substr(0, r->output.find('\n'));
  known[cc] = id;
  return id;
}

fs::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "stratus";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "stratus";
  return fs::temp_directory_path() / "stratus-cache";
}

std::vector<std::string> flags(int opt_level) {
  return {"-O" + std::to_string(opt_level), "-fPIC", "-shared", "-fvisibility=hidden", "-DNDEBUG", "-w",
          // Wasm keeps signalling NaNs observable (x*1 must quiet them).
          "-fsignaling-nans",
          // errno is not observable from wasm: sqrt() is then one instruction.
          "-fno-math-errno"};
}

// A temporary directory removed when the scope ends.
class TempDir {
 public:
  static Result<TempDir> make(const fs::path& parent) {
    std::string tmpl = (parent / "tmp-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return make_error("cannot create a temporary directory in " + parent.string());
    return TempDir(tmpl);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit TempDir(fs::path p) : path_(std::move(p)) {}
  fs::path path_;
};

Result<void> write_text(const fs::path& path, const std::string& text) {
  return write_file_atomic(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace

// ------------------------------------------------------------- Library

Result<std::shared_ptr<Library>> Library::open(const fs::path& path) {
  static std::mutex mu;
  static auto* loaded = new std::map<std::string, std::shared_ptr<Library>>;  // NOLINT: see class comment
  std::lock_guard lock(mu);
  auto it = loaded->find(path.string());
  if (it != loaded->end()) return it->second;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    return make_error(std::string("aot: cannot load ") + path.string() + ": " + (err ? err : "?"));
  }
  std::shared_ptr<Library> lib(new Library(handle));
  (*loaded)[path.string()] = lib;
  return lib;
}

Library::~Library() { dlclose(handle_); }

void* Library::symbol(const std::string& name) const { return dlsym(handle_, name.c_str()); }

// ------------------------------------------------------------- Compiler

Compiler::Compiler(const EngineOptions& options)
    : opt_level_(options.opt_level), progress_after_(options.progress_after) {
  cc_ = options.c_compiler;
  if (cc_.empty()) {
    const char* env = std::getenv("STRATUS_CC");
    cc_ = env && *env ? env : "cc";
  }
  cache_dir_ = options.cache_dir.empty() ? default_cache_dir() : fs::path(options.cache_dir);
  identity_ = compiler_identity(cc_);
}

std::string Compiler::cache_key(std::span<const std::string> module_hashes) const {
  Sha256 h;
  for (const auto& m : module_hashes) h.update(m).update("\n");
  h.update(kGlueVersion).update("\n").update(kWasmRtHeader).update("\n").update(identity_).update("\n");
  for (const auto& f : flags(opt_level_)) h.update(f).update(" ");
  h.update("\n").update(STRATUS_VERSION);
  return h.hex();
}

fs::path Compiler::cached_path(const std::string& key) const { return cache_dir_ / (key + ".so"); }

Result<fs::path> Compiler::build(const std::string& key, std::span<const GeneratedC> units, const std::string& what,
                                 uint64_t num_functions, std::chrono::steady_clock::time_point started) {
  std::error_code ec;
  fs::create_directories(cache_dir_, ec);
  if (ec) return make_error("aot: cannot create cache directory " + cache_dir_.string() + ": " + ec.message());
  auto dir = TempDir::make(cache_dir_);
  if (!dir) return std::move(dir).error();
  const fs::path& tmp = dir->path();
  STRATUS_TRY(write_text(tmp / "wasm-rt.h", kWasmRtHeader));
  std::vector<std::string> args{cc_};
  for (const auto& f : flags(opt_level_)) args.push_back(f);
  args.push_back("-I" + tmp.string());
  args.push_back("-o");
  args.push_back((tmp / "out.so").string());
  for (const auto& u : units) {
    STRATUS_TRY(write_text(tmp / (u.name + ".h"), u.header));
    STRATUS_TRY(write_text(tmp / (u.name + ".c"), u.source));
    STRATUS_TRY(write_text(tmp / (u.name + "_glue.c"), u.glue));
    args.push_back((tmp / (u.name + ".c")).string());
    args.push_back((tmp / (u.name + "_glue.c")).string());
  }
  args.push_back("-lm");

  ++runs_;
  modules_ += units.size();
  std::string line = "stratus: compiling " + what + " (" + std::to_string(num_functions) + " functions) with " + cc_ +
                     " -O" + std::to_string(opt_level_) + "...\n";
  auto began = std::chrono::steady_clock::now();
  auto result = run_process(args, started, progress_after_, [&] { std::fputs(line.c_str(), stderr); });
  compile_ns_ += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - began).count());
  if (!result) return std::move(result).error();
  if (!WIFEXITED(result->status) || WEXITSTATUS(result->status) != 0) {
    std::string out = result->output.substr(0, 4000);
    return make_error("aot: C compiler failed on " + what + ":\n" + out);
  }
  fs::path dest = cached_path(key);
  // rename() is atomic: concurrent builders of the same key both succeed and
  // readers never see a partial object.
  fs::rename(tmp / "out.so", dest, ec);
  if (ec) return make_error("aot: cannot store " + dest.string() + ": " + ec.message());
  return dest;
}

AotStats Compiler::stats() const {
  return AotStats{runs_.load(), cache_hits_.load(), modules_.load(), static_cast<double>(compile_ns_.load()) / 1e9};
}

}  // namespace stratus::engine::aot
