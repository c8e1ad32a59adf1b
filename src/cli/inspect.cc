// `stratus inspect FILE.wasm`: prints a component's imports and exports as
// WIT. An unreadable or invalid file exits 1 with the decoder's error, which
// names the section, the offset and the rule broken.
#include <cstdio>
#include <string>

#include "cli/subcommand.h"
#include "component/binary/decoder.h"
#include "component/wit_print.h"
#include "support/file.h"

namespace stratus::cli {
namespace {

int inspect(const std::string& file) {
  auto bytes = read_file(file);
  if (!bytes) {
    std::fprintf(stderr, "stratus: %s\n", bytes.error().message.c_str());
    return 1;
  }
  if (!component::is_component(*bytes)) {
    std::fprintf(stderr, "stratus: %s: not a component (a core module has no WIT world)\n", file.c_str());
    return 1;
  }
  auto decoded = component::decode_component(*bytes);
  if (!decoded) {
    std::fprintf(stderr, "stratus: %s: %s\n", file.c_str(), decoded.error().message.c_str());
    return 1;
  }
  std::fputs(component::print_wit(*(*decoded)->type).c_str(), stdout);
  return 0;
}

}  // namespace

Subcommand add_inspect(CLI::App& parent) {
  auto file = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand("inspect", "Print a component's imports and exports as WIT");
  app->add_option("file", *file, "the component (.wasm)")->required();
  return {app, [file] { return inspect(*file); }};
}

}  // namespace stratus::cli
