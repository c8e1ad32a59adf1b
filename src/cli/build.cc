// `stratus build [DIR] [--out FILE] [--build-dir DIR] [--debug]`: compiles
// the guest project in DIR (default: the current folder) into a component
// (build/build.h). Errors, the compiler's included, exit 1.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "build/build.h"
#include "cli/subcommand.h"

namespace stratus::cli {
namespace {

struct Options {
  std::string dir = ".";
  std::string out;
  std::string build_dir;
  bool debug = false;
  bool quiet = false;
};

int build_command(const Options& o) {
  auto started = std::chrono::steady_clock::now();
  auto project = build::load_project(o.dir);
  if (!project) {
    std::fprintf(stderr, "stratus: build: %s\n", project.error().message.c_str());
    return 1;
  }
  build::BuildOptions options;
  options.build_dir = o.build_dir;
  options.output = o.out;
  options.debug = o.debug;
  if (!o.quiet)
    options.log = [](const std::string& line) { std::fprintf(stderr, "stratus build: %s\n", line.c_str()); };
  auto outcome = build::build_project(*project, build::default_toolchain(), options);
  if (!outcome) {
    std::fprintf(stderr, "stratus: build: %s\n", outcome.error().message.c_str());
    return 1;
  }
  if (!outcome->diagnostics.empty()) std::fputs(outcome->diagnostics.c_str(), stderr);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (outcome->up_to_date) {
    std::printf("stratus build: %s is up to date\n", outcome->output.c_str());
  } else {
    std::printf("stratus build: built %s in %.1f s\n", outcome->output.c_str(), seconds);
  }
  return 0;
}

}  // namespace

Subcommand add_build(CLI::App& parent) {
  auto opts = std::make_shared<Options>();
  auto* app = parent.add_subcommand("build", "Compile a C/C++ guest project (stratus.json) into a component");
  app->add_option("dir", opts->dir, "The project folder (default: the current folder)");
  app->add_option("-o,--out", opts->out, "Where to write the component (default: BUILD/NAME.wasm)");
  app->add_option("--build-dir", opts->build_dir, "Where intermediate files go (default: DIR/build)");
  app->add_flag("--debug", opts->debug, "Build with -O0 -g and keep debug info and the name section");
  app->add_flag("-q,--quiet", opts->quiet, "Do not print each step");
  return {app, [opts] { return build_command(*opts); }};
}

}  // namespace stratus::cli
