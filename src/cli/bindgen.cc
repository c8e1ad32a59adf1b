// `stratus bindgen --host WIT --world NAME --out DIR [--name BASE]
// [--interface NAME]...`: writes
// C++ host bindings for the interfaces the world imports (wit/host_bindgen.h)
// as DIR/BASE.h and DIR/BASE.cc. WIT is a .wit file or a folder with deps/.
// Errors (file:line:column for WIT) exit 1.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cli/subcommand.h"
#include "support/file.h"
#include "wit/host_bindgen.h"
#include "wit/parser.h"

namespace stratus::cli {
namespace {

struct Options {
  std::string wit;
  std::string world;
  std::string out;
  std::string name;
  std::vector<std::string> only;
  bool host = false;
};

Result<void> write_text(const std::filesystem::path& path, const std::string& text) {
  return write_file_atomic(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

int bindgen(const Options& o) {
  if (!o.host) {
    std::fprintf(stderr, "stratus: bindgen: only --host is implemented\n");
    return 1;
  }
  auto packages = wit::parse_root(o.wit);
  if (!packages) {
    std::fprintf(stderr, "stratus: %s\n", packages.error().message.c_str());
    return 1;
  }
  std::string name = o.name.empty() ? "host_bindings" : o.name;
  auto generated = wit::generate_host(*packages, o.world, name, o.only);
  if (!generated) {
    std::fprintf(stderr, "stratus: %s\n", generated.error().message.c_str());
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  for (const auto& [file, text] : {std::pair{name + ".h", &generated->header}, {name + ".cc", &generated->source}}) {
    auto done = write_text(std::filesystem::path(o.out) / file, *text);
    if (!done) {
      std::fprintf(stderr, "stratus: %s\n", done.error().message.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

Subcommand add_bindgen(CLI::App& parent) {
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand("bindgen", "Generate C++ bindings from WIT");
  app->add_flag("--host", o->host, "bindings for a host implementing the world's imports");
  app->add_option("wit", o->wit, "a .wit file or a WIT folder (with deps/)")->required();
  app->add_option("--world", o->world, "the world (`name` in the root package, or `ns:pkg/name`)")->required();
  app->add_option("--out", o->out, "the output folder")->required();
  app->add_option("--name", o->name, "base name of the generated files (default host_bindings)");
  app->add_option("--interface", o->only, "generate only this imported interface (repeatable)");
  return {app, [o] { return bindgen(*o); }};
}

}  // namespace stratus::cli
