// `stratus-bindgen`: the build's own copy of `stratus bindgen`. The build
// generates the WASI host's bindings with it, and `stratus` links the WASI
// host, so `stratus` itself cannot be the generator.
#include <cstdio>
#include <exception>

#include "cli/subcommand.h"

int main(int argc, char** argv) {
  try {
    CLI::App app{"stratus-bindgen: WIT bindings for the stratus build", "stratus-bindgen"};
    app.require_subcommand(1);
    auto sub = stratus::cli::add_bindgen(app);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      int code = app.exit(e);
      return code == 0 ? 0 : 2;
    }
    return sub.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stratus-bindgen: %s\n", e.what());
    return 1;
  }
}
