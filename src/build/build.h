// `stratus build`: compiles a project (build/project.h) into a component.
//
// With a world: the project's WIT plus the WASI 0.2 packages go into
// BUILD/wit, `stratus bindgen --guest cpp` writes BUILD/bindings/bindings.{h,cc},
// each source compiles with clang-19 for wasm32-wasi (wasi-libc and libc++
// from Debian) into BUILD/obj, the objects link into a reactor module, the
// world is embedded and `jco new --wasi-reactor` makes the component. Without
// a world the module is a command and `jco new --wasi-command` adapts it.
//
// Steps whose inputs did not change are skipped: an object is rebuilt when
// its command, its source or a header its depfile names changed.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "build/project.h"
#include "support/result.h"

namespace stratus::build {

// The tools a build runs. By default those of the checkout stratus was built
// from (its node_modules: jco and the WASI WIT); STRATUS_CC, STRATUS_CXX and
// STRATUS_JCO override them.
struct Toolchain {
  std::string cc, cxx;  // clang-19, clang++-19
  std::string sysroot;  // holds wasi-libc and libc++ for wasm32-wasi
  std::string node;
  std::filesystem::path jco;           // the jco command
  std::filesystem::path embed_script;  // cmake/jco_embed_root.mjs
  std::filesystem::path wasi_wit;      // the WASI 0.2 packages, one folder each
  std::filesystem::path wasi_p3_wit;   // the WASI 0.3 packages, likewise
  std::filesystem::path host_wit;      // the host interfaces' packages (src/plugins/wit), a file each
};
Toolchain default_toolchain();

struct BuildOptions {
  std::filesystem::path build_dir;              // default: PROJECT/build
  std::filesystem::path output;                 // default: BUILD/NAME.wasm
  bool debug = false;                           // -O0 -g, debug info and names kept, instead of -O2 and stripped
  std::function<void(const std::string&)> log;  // one line per step run
};

struct BuildOutcome {
  std::filesystem::path output;
  bool up_to_date = false;  // nothing needed doing
  std::string diagnostics;  // what the compiler printed (warnings)
};

Result<BuildOutcome> build_project(const Project& project, const Toolchain& tools, const BuildOptions& options);

// The files a make-style depfile (clang -MD) says its target depends on.
std::vector<std::string> parse_depfile(const std::string& text);

}  // namespace stratus::build
