// `stratus compose MAIN.wasm --plug DEP.wasm... -o OUT.wasm`: fuses
// components into one (component/compose). Unreadable inputs and every
// composition error exit 1 with a message naming the files and interfaces;
// nothing is written then.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/subcommand.h"
#include "component/compose/compose.h"
#include "support/file.h"

namespace stratus::cli {
namespace {

struct ComposeArgs {
  std::string main;
  std::vector<std::string> plugs;
  std::string output;
};

int compose(const ComposeArgs& args) {
  auto load = [](const std::string& file) -> Result<component::compose::ComposeInput> {
    auto bytes = read_file(file);
    if (!bytes) return std::move(bytes).error();
    return component::compose::ComposeInput{file, std::move(*bytes)};
  };
  auto main = load(args.main);
  if (!main) {
    std::fprintf(stderr, "stratus: compose: %s\n", main.error().message.c_str());
    return 1;
  }
  std::vector<component::compose::ComposeInput> plugs;
  for (const auto& p : args.plugs) {
    auto plug = load(p);
    if (!plug) {
      std::fprintf(stderr, "stratus: compose: %s\n", plug.error().message.c_str());
      return 1;
    }
    plugs.push_back(std::move(*plug));
  }
  auto composed = component::compose::compose(*main, plugs);
  if (!composed) {
    std::fprintf(stderr, "stratus: compose: %s\n", composed.error().message.c_str());
    return 1;
  }
  auto written = write_file_atomic(args.output, *composed);
  if (!written) {
    std::fprintf(stderr, "stratus: compose: %s\n", written.error().message.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

Subcommand add_compose(CLI::App& parent) {
  auto args = std::make_shared<ComposeArgs>();
  CLI::App* app = parent.add_subcommand(
      "compose", "Fuse components into one: the imports of MAIN that a plug exports are satisfied inside it");
  app->add_option("main", args->main, "the main component (.wasm)")->required();
  app->add_option("--plug", args->plugs, "a component whose exports satisfy imports (repeatable)")->required();
  app->add_option("-o,--output", args->output, "the composed component to write")->required();
  return {app, [args] { return compose(*args); }};
}

}  // namespace stratus::cli
