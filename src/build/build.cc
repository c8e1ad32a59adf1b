#include "build/build.h"

#include <algorithm>
#include <cstdlib>
#include <future>
#include <map>
#include <set>
#include <span>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "support/file.h"
#include "support/process.h"
#include "wit/guest_bindgen.h"
#include "wit/parser.h"

#ifndef STRATUS_SOURCE_DIR
#error "STRATUS_SOURCE_DIR must name the stratus checkout (set by src/build/CMakeLists.txt)"
#endif

namespace stratus::build {
namespace fs = std::filesystem;

namespace {

// The WASI 0.2 packages every world may use, as jco ships them.
constexpr const char* kWasiPackages[] = {"io", "clocks", "random", "cli", "filesystem", "sockets", "http"};
// WASI 0.3 (P3), beside 0.2: a world picks either by version.
constexpr const char* kWasiP3Version = "0.3.0";
constexpr const char* kWasiP3Packages[] = {"clocks", "random", "cli", "filesystem", "sockets", "http"};
constexpr const char* kWasiVersion = "0.2.12";

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string text_of(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

std::span<const uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Writes `text` unless the file already holds it, so that an unchanged
// output keeps its time and what depends on it is not rebuilt.
Result<void> write_if_changed(const fs::path& path, const std::string& text) {
  auto old = read_file(path);
  if (old && text_of(*old) == text) return {};
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return make_error("cannot make " + path.parent_path().string() + ": " + ec.message());
  return write_file_atomic(path, bytes_of(text));
}

std::optional<fs::file_time_type> mtime(const fs::path& path) {
  std::error_code ec;
  auto t = fs::last_write_time(path, ec);
  if (ec) return std::nullopt;
  return t;
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += a + '\n';
  return s;
}

// Whether `target` exists, was made by `command` (kept in TARGET.cmd) and is
// newer than each of `inputs`.
bool up_to_date(const fs::path& target, const std::vector<std::string>& command, const std::vector<fs::path>& inputs) {
  auto made = mtime(target);
  if (!made) return false;
  auto cmd = read_file(fs::path(target.string() + ".cmd"));
  if (!cmd || text_of(*cmd) != joined(command)) return false;
  return std::all_of(inputs.begin(), inputs.end(), [&](const fs::path& in) {
    auto t = mtime(in);
    return t && *t <= *made;
  });
}

Result<void> record_command(const fs::path& target, const std::vector<std::string>& command) {
  return write_file_atomic(fs::path(target.string() + ".cmd"), bytes_of(joined(command)));
}

// Runs one step; its output is kept for the caller to show.
Result<std::string> run_step(const std::vector<std::string>& command, const std::string& what) {
  auto r = run_process(command);
  if (!r) return std::move(r).error().context(what);
  if (!r->succeeded()) {
    std::string message = what + ": " + command[0] + " " + r->describe();
    if (!r->output.empty()) message += "\n" + r->output;
    return make_error(message);
  }
  return std::move(r->output);
}

// The .wit files directly in `dir` (not in sub-folders), sorted; a folder
// other than `allowed_folder` is an error.
Result<std::vector<fs::path>> wit_files(const fs::path& dir, const std::string& allowed_folder) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory()) {
      if (entry.path().filename() == allowed_folder) continue;
      return make_error(entry.path().string() +
                        ": a folder; stratus build takes one .wit file per dependency package in wit/deps");
    }
    if (entry.path().extension() == ".wit") files.push_back(entry.path());
  }
  if (ec) return make_error("cannot list " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

// BUILD/wit: the project's root package, its deps, and the WASI and host
// interface packages the project does not bring itself (a deps file of the
// same name wins).
// Returns the files written there.
Result<std::vector<fs::path>> assemble_wit(const Project& project, const Toolchain& tools, const fs::path& root) {
  std::map<fs::path, std::string> want;  // path under root -> text
  auto root_files = wit_files(project.dir / "wit", "deps");
  if (!root_files) return std::move(root_files).error();
  if (root_files->empty()) return make_error((project.dir / "wit").string() + ": no .wit file (the world goes here)");
  for (const auto& f : *root_files) {
    auto text = read_file(f);
    if (!text) return std::move(text).error();
    want[f.filename()] = text_of(*text);
  }
  if (fs::is_directory(project.dir / "wit" / "deps")) {
    auto deps = wit_files(project.dir / "wit" / "deps", "");
    if (!deps) return std::move(deps).error();
    for (const auto& f : *deps) {
      auto text = read_file(f);
      if (!text) return std::move(text).error();
      want[fs::path("deps") / f.filename()] = text_of(*text);
    }
  }
  auto add_wasi = [&](const fs::path& folder, const char* version, const char* pkg, const std::string& file) {
    fs::path name = fs::path("deps") / file;
    if (want.count(name) != 0) return Result<void>{};
    fs::path source = folder / (std::string("wasi-") + pkg) / "package.wit";
    auto text = read_file(source);
    if (!text) {
      return Result<void>(make_error("the WASI " + std::string(version) + " WIT is missing (" + source.string() +
                                     "): run ./x deps in the stratus checkout, or set STRATUS_JCO"));
    }
    want[name] = text_of(*text);
    return Result<void>{};
  };
  for (const char* pkg : kWasiPackages)
    STRATUS_TRY(add_wasi(tools.wasi_wit, kWasiVersion, pkg, std::string("wasi-") + pkg + ".wit"));
  for (const char* pkg : kWasiP3Packages)
    STRATUS_TRY(
        add_wasi(tools.wasi_p3_wit, kWasiP3Version, pkg, std::string("wasi-") + pkg + "-" + kWasiP3Version + ".wit"));
  // The host interfaces beyond WASI (wasi:keyvalue, wasi:config, ...), so a
  // world may import them as it imports WASI.
  auto host_files = wit_files(tools.host_wit, "");
  if (!host_files) return std::move(host_files).error().context("the host interfaces' WIT");
  for (const auto& f : *host_files) {
    fs::path name = fs::path("deps") / f.filename();
    if (want.count(name) != 0) continue;
    auto text = read_file(f);
    if (!text) return std::move(text).error();
    want[name] = text_of(*text);
  }
  // Drop what an earlier build put there and the project no longer has.
  std::error_code ec;
  for (const auto& sub : {fs::path(), fs::path("deps")}) {
    for (const auto& entry : fs::directory_iterator(root / sub, ec)) {
      if (entry.is_regular_file() && want.count(sub / entry.path().filename()) == 0) fs::remove(entry.path(), ec);
    }
  }
  std::vector<fs::path> written;
  for (const auto& [rel, text] : want) {
    STRATUS_TRY(write_if_changed(root / rel, text));
    written.push_back(root / rel);
  }
  return written;
}

// The object file of a source: BUILD/obj/<path in the project>.o.
fs::path object_of(const Project& project, const fs::path& source, const fs::path& obj_dir, size_t index) {
  fs::path rel = source.lexically_relative(project.dir);
  if (rel.empty() || *rel.begin() == "..") rel = std::to_string(index) + "-" + source.filename().string();
  return obj_dir / fs::path(rel.string() + ".o");
}

struct Compile {
  fs::path source, object;
  std::vector<std::string> command;
};

}  // namespace

std::vector<std::string> parse_depfile(const std::string& text) {
  std::vector<std::string> deps;
  // Skip the target: up to the first ':' followed by a space or the end.
  size_t at = 0;
  for (; at < text.size(); ++at) {
    if (text[at] == ':' && (at + 1 == text.size() || text[at + 1] == ' ' || text[at + 1] == '\n')) break;
  }
  if (at == text.size()) return deps;
  std::string word;
  for (size_t i = at + 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '\n' || text[i + 1] == '\r')) {
      ++i;  // a continued line
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      c = ' ';
    } else if (c == '\\' && i + 1 < text.size() && text[i + 1] == ' ') {
      word += ' ';
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!word.empty()) deps.push_back(std::move(word));
      word.clear();
      continue;
    }
    word += c;
  }
  if (!word.empty()) deps.push_back(std::move(word));
  return deps;
}

Toolchain default_toolchain() {
  fs::path checkout = STRATUS_SOURCE_DIR;
  Toolchain t;
  t.cc = env_or("STRATUS_CC", "clang-19");
  t.cxx = env_or("STRATUS_CXX", "clang++-19");
  t.sysroot = "/usr";
  t.node = "node";
  t.jco = env_or("STRATUS_JCO", (checkout / "node_modules" / ".bin" / "jco").string());
  // jco's package, from its command (node_modules/.bin/jco -> ../@bytecodealliance/jco/dist/jco.js).
  fs::path package = checkout / "node_modules" / "@bytecodealliance" / "jco";
  std::error_code ec;
  fs::path real = fs::canonical(t.jco, ec);
  if (!ec && real.parent_path().filename() == "dist") package = real.parent_path().parent_path();
  t.wasi_wit = package / "lib" / "wit" / "builtin" / kWasiVersion;
  t.wasi_p3_wit = package / "lib" / "wit" / "builtin" / kWasiP3Version;
  t.embed_script = checkout / "cmake" / "jco_embed_root.mjs";
  t.host_wit = checkout / "src" / "plugins" / "wit";
  return t;
}

Result<BuildOutcome> build_project(const Project& project, const Toolchain& tools, const BuildOptions& options) {
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  fs::path build_dir = (options.build_dir.empty() ? project.dir / "build" : options.build_dir).lexically_normal();
  BuildOutcome outcome;
  outcome.output = (options.output.empty() ? build_dir / (project.name + ".wasm") : options.output).lexically_normal();
  std::error_code ec;
  fs::create_directories(build_dir, ec);
  if (ec) return make_error("cannot make the build folder " + build_dir.string() + ": " + ec.message());
  if (!fs::exists(tools.jco)) {
    return make_error("jco not found at " + tools.jco.string() +
                      ": run ./x deps in the stratus checkout, or set STRATUS_JCO to jco's command");
  }
  bool did_something = false;

  // 1. The world's WIT and the guest bindings.
  std::vector<fs::path> wit_inputs;
  fs::path bindings_dir = build_dir / "bindings";
  std::vector<fs::path> sources = project.sources;
  if (project.world) {
    auto root = assemble_wit(project, tools, build_dir / "wit");
    if (!root) return std::move(root).error();
    wit_inputs = *root;
    auto packages = wit::parse_root(build_dir / "wit");
    if (!packages) {
      // Name the project's own files, not their copies.
      auto error = std::move(packages).error();
      std::string copy = (build_dir / "wit").string(), original = (project.dir / "wit").lexically_normal().string();
      for (size_t at = error.message.find(copy); at != std::string::npos;
           at = error.message.find(copy, at + original.size())) {
        error.message.replace(at, copy.size(), original);
      }
      return error;
    }
    auto generated = wit::generate_guest_cpp(*packages, *project.world, "bindings");
    if (!generated) return std::move(generated).error().context("bindings for world '" + *project.world + "'");
    STRATUS_TRY(write_if_changed(bindings_dir / "bindings.h", generated->header));
    STRATUS_TRY(write_if_changed(bindings_dir / "bindings.cc", generated->source));
    if (!generated->runtime.empty())
      STRATUS_TRY(write_if_changed(bindings_dir / "stratus_guest_async.h", generated->runtime));
    sources.push_back(bindings_dir / "bindings.cc");
  }

  // 2. Each source into an object, those out of date in parallel.
  bool any_cxx = project.world.has_value();
  std::vector<Compile> compiles;
  std::vector<fs::path> objects;
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto& source = sources[i];
    Language language = source_language(source).value_or(Language::Cxx);
    any_cxx = any_cxx || language == Language::Cxx;
    fs::path object = source == bindings_dir / "bindings.cc" ? build_dir / "obj" / "bindings.cc.o"
                                                             : object_of(project, source, build_dir / "obj", i);
    std::vector<std::string> cmd = {language == Language::Cxx ? tools.cxx : tools.cc, "--target=wasm32-wasi",
                                    "--sysroot=" + tools.sysroot};
    if (language == Language::Cxx) {
      cmd.insert(cmd.end(), {"-std=c++23", "-fno-exceptions"});
    } else {
      cmd.push_back("-std=c17");
    }
    if (options.debug) {
      cmd.insert(cmd.end(), {"-O0", "-g"});
    } else {
      cmd.push_back("-O2");
    }
    cmd.insert(cmd.end(), {"-Wall", "-Wextra"});
    if (project.world) cmd.insert(cmd.end(), {"-I", bindings_dir.string()});
    cmd.insert(cmd.end(), project.cflags.begin(), project.cflags.end());
    cmd.insert(cmd.end(), {"-MD", "-MF", object.string() + ".d", "-c", source.string(), "-o", object.string()});
    objects.push_back(object);
    std::vector<fs::path> inputs = {source};
    if (auto dep = read_file(fs::path(object.string() + ".d"))) {
      for (const auto& d : parse_depfile(text_of(*dep))) inputs.emplace_back(d);
    } else {
      inputs.emplace_back(object.string() + ".d");  // missing: rebuild
    }
    if (!up_to_date(object, cmd, inputs)) compiles.push_back({source, object, std::move(cmd)});
  }
  size_t jobs = std::max(1u, std::thread::hardware_concurrency());
  for (size_t first = 0; first < compiles.size(); first += jobs) {
    std::vector<std::future<Result<std::string>>> running;
    size_t end = std::min(compiles.size(), first + jobs);
    for (size_t i = first; i < end; ++i) {
      const auto& c = compiles[i];
      fs::create_directories(c.object.parent_path(), ec);
      fs::path shown = c.source.lexically_relative(project.dir);
      if (shown.empty() || *shown.begin() == "..") shown = c.source;
      log("compile " + shown.string());
      running.push_back(std::async(std::launch::async, [&c] { return run_step(c.command, c.source.string()); }));
    }
    std::optional<Error> failed;
    for (size_t i = first; i < end; ++i) {
      auto r = running[i - first].get();
      if (!r) {
        if (!failed) failed = std::move(r).error();
        continue;
      }
      outcome.diagnostics += *r;
      STRATUS_TRY(record_command(compiles[i].object, compiles[i].command));
    }
    if (failed) return std::move(*failed);
    did_something = true;
  }

  // 3. The objects into a core module.
  fs::path core = build_dir / (project.name + ".core.wasm");
  std::vector<std::string> link = {any_cxx ? tools.cxx : tools.cc, "--target=wasm32-wasi",
                                   "--sysroot=" + tools.sysroot};
  if (project.world) link.push_back("-mexec-model=reactor");
  // A release component carries no debug info and no name section (C++'s
  // mangled names: 907 KB of the http-hello template's 979 KB, against 41 KB
  // of code); --debug keeps both, for backtraces with names.
  if (!options.debug) link.push_back("-Wl,--strip-all");
  for (const auto& o : objects) link.push_back(o.string());
  link.insert(link.end(), {"-o", core.string()});
  if (!up_to_date(core, link, objects)) {
    log("link " + core.filename().string());
    auto r = run_step(link, "linking " + core.string());
    if (!r) return std::move(r).error();
    outcome.diagnostics += *r;
    STRATUS_TRY(record_command(core, link));
    did_something = true;
  }

  // 4. The component: the world embedded and `jco new`, or a command adapted.
  std::vector<fs::path> inputs = wit_inputs;
  inputs.push_back(core);
  fs::path partial = outcome.output.string() + ".partial";
  std::vector<std::vector<std::string>> steps;
  if (project.world) {
    fs::path embedded = build_dir / (project.name + ".embedded.wasm");
    steps.push_back({tools.node, tools.embed_script.string(), (build_dir / "wit").string(), *project.world,
                     core.string(), embedded.string()});
    steps.push_back({tools.jco.string(), "new", embedded.string(), "--wasi-reactor", "-o", partial.string()});
  } else {
    steps.push_back({tools.jco.string(), "new", core.string(), "--wasi-command", "-o", partial.string()});
  }
  std::vector<std::string> all;
  for (const auto& s : steps) all.insert(all.end(), s.begin(), s.end());
  if (!up_to_date(outcome.output, all, inputs)) {
    log("component " + outcome.output.string());
    fs::create_directories(outcome.output.parent_path(), ec);
    for (const auto& s : steps) {
      auto r = run_step(s, "making the component " + outcome.output.string());
      if (!r) return std::move(r).error();
    }
    fs::rename(partial, outcome.output, ec);
    if (ec) return make_error("cannot write " + outcome.output.string() + ": " + ec.message());
    STRATUS_TRY(record_command(outcome.output, all));
    did_something = true;
  }
  outcome.up_to_date = !did_something;
  return outcome;
}

}  // namespace stratus::build
