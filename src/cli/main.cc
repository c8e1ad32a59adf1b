// The `stratus` command: parses the command line and runs one subcommand.
#include <csignal>
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/subcommand.h"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"stratus: a WebAssembly component host", "stratus"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stratus " STRATUS_VERSION_STRING);

  std::vector<stratus::cli::Subcommand> subcommands = {
      stratus::cli::add_run(app),     stratus::cli::add_serve(app),   stratus::cli::add_run_core(app),
      stratus::cli::add_inspect(app), stratus::cli::add_bindgen(app), stratus::cli::add_build(app),
      stratus::cli::add_new(app),     stratus::cli::add_up(app),      stratus::cli::add_compose(app),
      stratus::cli::add_host(app),    stratus::cli::add_push(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    // Usage errors exit 2, as most Unix tools do; --help and --version exit 0.
    return code == 0 ? 0 : 2;
  }
  for (auto& sub : subcommands) {
    if (sub.app->parsed()) return sub.run();
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // A guest writing to a closed pipe must get EPIPE back, not kill the host.
  std::signal(SIGPIPE, SIG_IGN);
  // Errors are values below this point; this only catches allocation
  // failures and CLI11's own setup errors, so the host still exits cleanly.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stratus: %s\n", e.what());
    return 1;
  }
}
