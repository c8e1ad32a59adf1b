// `stratus bindgen --host WIT --world NAME --out DIR [--name BASE]
// [--interface NAME]... [--deferred NAME]...`: writes
// C++ host bindings for the interfaces the world imports (wit/host_bindgen.h)
// as DIR/BASE.h and DIR/BASE.cc.
// `stratus bindgen --guest cpp WIT --world NAME --out DIR [--name BASE]`:
// writes C++ bindings for a guest targeting the world
// (wit/guest_bindgen.h) likewise. WIT is a .wit file or a folder with deps/.
// Errors (file:line:column for WIT) exit 1.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cli/subcommand.h"
#include "support/file.h"
#include "wit/guest_bindgen.h"
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
  std::string ns;
  std::vector<std::string> deferred;
  bool host = false;
  std::string guest;  // the guest's language
};

Result<void> write_text(const std::filesystem::path& path, const std::string& text) {
  return write_file_atomic(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

int bindgen(const Options& o) {
  if (o.host == !o.guest.empty()) {
    std::fprintf(stderr, "stratus: bindgen: give one of --host and --guest cpp\n");
    return 1;
  }
  if (!o.host && o.guest != "cpp") {
    std::fprintf(stderr, "stratus: bindgen: --guest %s: only cpp is implemented\n", o.guest.c_str());
    return 1;
  }
  if (!o.host && (!o.only.empty() || !o.deferred.empty())) {
    std::fprintf(stderr, "stratus: bindgen: --interface and --deferred apply to --host only\n");
    return 1;
  }
  auto packages = wit::parse_root(o.wit);
  if (!packages) {
    std::fprintf(stderr, "stratus: %s\n", packages.error().message.c_str());
    return 1;
  }
  std::string name = !o.name.empty() ? o.name : o.host ? "host_bindings" : "guest_bindings";
  // Either generator's output as files: the header, the source, and for a
  // guest whose world is async the coroutine runtime the header includes.
  auto files = [&name](auto r) -> Result<std::vector<std::pair<std::string, std::string>>> {
    if (!r) return std::move(r).error();
    std::vector<std::pair<std::string, std::string>> out = {{name + ".h", std::move(r->header)},
                                                            {name + ".cc", std::move(r->source)}};
    if constexpr (requires { r->runtime; }) {
      if (!r->runtime.empty()) out.emplace_back("stratus_guest_async.h", std::move(r->runtime));
    }
    return out;
  };
  auto generated = o.host ? files(wit::generate_host(*packages, o.world, name, o.only, o.ns, o.deferred))
                          : files(wit::generate_guest_cpp(*packages, o.world, name));
  if (!generated) {
    std::fprintf(stderr, "stratus: %s\n", generated.error().message.c_str());
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  for (const auto& [file, text] : *generated) {
    auto done = write_text(std::filesystem::path(o.out) / file, text);
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
  app->add_option("--guest", o->guest, "bindings for a guest targeting the world, in LANG (cpp)")->option_text("LANG");
  app->add_option("wit", o->wit, "a .wit file or a WIT folder (with deps/)")->required();
  app->add_option("--world", o->world, "the world (`name` in the root package, or `ns:pkg/name`)")->required();
  app->add_option("--out", o->out, "the output folder")->required();
  app->add_option("--name", o->name, "base name of the generated files (default host_bindings or guest_bindings)");
  app->add_option("--interface", o->only, "--host: generate only this imported interface (repeatable)");
  app->add_option("--namespace", o->ns, "--host: a namespace around every generated one (two versions of a package)");
  app->add_option("--deferred", o->deferred,
                  "--host: this interface's functions are answered later, through a Reply, as async ones are "
                  "(repeatable)");
  return {app, [o] { return bindgen(*o); }};
}

}  // namespace stratus::cli
