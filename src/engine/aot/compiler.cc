#include "engine/aot/compiler.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/aot/split.h"
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
    : opt_level_(options.opt_level),
      jobs_(options.compile_jobs != 0 ? options.compile_jobs : std::max(1u, std::thread::hardware_concurrency())),
      split_bytes_(options.split_bytes),
      split_fallback_(options.split_fallback),
      progress_after_(options.progress_after) {
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

namespace {

// The compile flags (-c), and the link flags of the shared object.
std::vector<std::string> compile_flags(int opt_level) {
  std::vector<std::string> out;
  for (auto& f : flags(opt_level))
    if (f != "-shared") out.push_back(f);
  out.push_back("-c");
  return out;
}

bool failed(const ProcessResult& r) { return !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0; }

}  // namespace

Result<void> Compiler::run_all(const std::vector<std::vector<std::string>>& commands, const std::string& what,
                               uint64_t num_functions, std::chrono::steady_clock::time_point started) {
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0, finished = 0;
  std::optional<Error> error;
  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::lock_guard lock(mu);
        if (next == commands.size() || error) return;
        i = next++;
      }
      auto r = run_process(commands[i]);
      std::lock_guard lock(mu);
      if (!r) {
        if (!error) error = std::move(r).error();
      } else if (failed(*r) && !error) {
        error = make_error("aot: C compiler failed on " + what + ":\n" + r->output.substr(0, 4000));
      }
      ++finished;
      cv.notify_all();
    }
  };
  const size_t threads = std::min<size_t>(jobs_, commands.size());
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  // Progress: the line saying what is compiled once it takes long, then
  // the parts done every few seconds.
  bool told = false;
  auto last = std::chrono::steady_clock::now();
  {
    std::unique_lock lock(mu);
    while (finished < commands.size() && !(error && finished == next)) {
      cv.wait_for(lock, std::chrono::milliseconds(250));
      auto now = std::chrono::steady_clock::now();
      if (!told && now - started >= progress_after_) {
        told = true;
        last = now;
        std::fprintf(stderr, "stratus: compiling %s (%llu functions) with %s -O%d, %zu parts, %zu at once...\n",
                     what.c_str(), static_cast<unsigned long long>(num_functions), cc_.c_str(), opt_level_,
                     commands.size(), threads);
      } else if (told && now - last >= std::chrono::seconds(3)) {
        last = now;
        std::fprintf(stderr, "aot: compiling %s: %zu/%zu parts\n", what.c_str(), finished, commands.size());
      }
    }
  }
  for (auto& t : pool) t.join();
  if (error) return std::move(*error);
  return {};
}

Result<fs::path> Compiler::build(const std::string& key, std::span<const GeneratedC> units, const std::string& what,
                                 uint64_t num_functions, std::chrono::steady_clock::time_point started) {
  bool split_used = false;
  auto built = build_with(key, units, what, num_functions, started, true, &split_used);
  if (built || !split_used || !split_fallback_) return built;
  std::fprintf(stderr, "stratus: aot: the split build of %s failed, building it whole: %s\n", what.c_str(),
               built.error().message.substr(0, built.error().message.find('\n')).c_str());
  return build_with(key, units, what, num_functions, started, false, &split_used);
}

Result<fs::path> Compiler::build_with(const std::string& key, std::span<const GeneratedC> units,
                                      const std::string& what, uint64_t num_functions,
                                      std::chrono::steady_clock::time_point started, bool split, bool* split_used) {
  std::error_code ec;
  fs::create_directories(cache_dir_, ec);
  if (ec) return make_error("aot: cannot create cache directory " + cache_dir_.string() + ": " + ec.message());
  auto dir = TempDir::make(cache_dir_);
  if (!dir) return std::move(dir).error();
  const fs::path& tmp = dir->path();
  STRATUS_TRY(write_text(tmp / "wasm-rt.h", kWasmRtHeader));
  std::vector<std::string> base{cc_};
  for (const auto& f : compile_flags(opt_level_)) base.push_back(f);
  base.push_back("-I" + tmp.string());

  std::vector<std::vector<std::string>> compiles;
  auto compile = [&](const fs::path& c) {
    auto args = base;
    args.push_back("-o");
    args.push_back(fs::path(c).replace_extension(".o").string());
    args.push_back(c.string());
    compiles.push_back(std::move(args));
    return fs::path(c).replace_extension(".o").string();
  };
  std::vector<std::string> objects;  // the shared object's inputs
  // Split modules: their objects, linked into one relocatable object each.
  std::vector<std::pair<std::string, std::vector<std::string>>> merges;
  for (const auto& u : units) {
    STRATUS_TRY(write_text(tmp / (u.name + ".h"), u.header));
    std::vector<std::string> pieces = split && jobs_ > 1 && u.source.size() > split_bytes_
                                          ? split_source(u.source, jobs_)
                                          : std::vector<std::string>{};
    if (pieces.size() < 2) {
      STRATUS_TRY(write_text(tmp / (u.name + ".c"), u.source));
      STRATUS_TRY(write_text(tmp / (u.name + "_glue.c"), u.glue));
      objects.push_back(compile(tmp / (u.name + ".c")));
      objects.push_back(compile(tmp / (u.name + "_glue.c")));
      continue;
    }
    *split_used = true;
    std::vector<std::string> parts;
    for (size_t p = 0; p < pieces.size(); ++p) {
      fs::path c = tmp / (u.name + "_p" + std::to_string(p) + ".c");
      STRATUS_TRY(write_text(c, pieces[p]));
      parts.push_back(compile(c));
    }
    STRATUS_TRY(write_text(tmp / (u.name + "_glue.c"), u.glue));
    parts.push_back(compile(tmp / (u.name + "_glue.c")));
    std::string merged = (tmp / (u.name + "_all.o")).string();
    merges.emplace_back(merged, std::move(parts));
    objects.push_back(merged);
  }

  ++runs_;
  modules_ += units.size();
  auto began = std::chrono::steady_clock::now();
  auto count_time = [&] {
    compile_ns_ += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - began).count());
  };
  auto step = [&](const std::vector<std::string>& args) -> Result<void> {
    auto r = run_process(args);
    if (!r) return std::move(r).error();
    if (failed(*r)) return make_error("aot: " + args[0] + " failed on " + what + ":\n" + r->output.substr(0, 4000));
    return {};
  };
  auto compiled = run_all(compiles, what, num_functions, started);
  if (!compiled) {
    count_time();
    return std::move(compiled).error();
  }
  // The parts of a module call each other through hidden symbols: one
  // relocatable object, whose hidden symbols are then made local, so that
  // modules built into one shared object cannot clash.
  for (const auto& [merged, parts] : merges) {
    std::vector<std::string> ld{"ld", "-r", "-o", merged};
    ld.insert(ld.end(), parts.begin(), parts.end());
    auto linked = step(ld);
    if (linked) linked = step({"objcopy", "--localize-hidden", merged});
    if (!linked) {
      count_time();
      return std::move(linked).error();
    }
  }
  std::vector<std::string> link{cc_, "-shared", "-fPIC", "-o", (tmp / "out.so").string()};
  link.insert(link.end(), objects.begin(), objects.end());
  link.push_back("-lm");
  auto linked = step(link);
  count_time();
  if (!linked) return std::move(linked).error();
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
