// `stratus push REF FILE.wasm`: pushes a component to an OCI registry as
// wasmCloud and wkg do (one layer of type application/wasm, a config of
// type application/vnd.wasm.config.v0+json) and prints the manifest's
// digest. Credentials come from the docker config.json.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/images.h"
#include "cli/subcommand.h"
#include "component/binary/decoder.h"
#include "support/file.h"

namespace stratus::cli {
namespace {

struct PushOptions {
  std::string reference;
  std::string file;
  std::vector<std::string> insecure_registries;
};

int push(const PushOptions& o) {
  auto bytes = read_file(o.file);
  if (!bytes) {
    std::fprintf(stderr, "stratus push: %s\n", bytes.error().message.c_str());
    return 1;
  }
  // A registry's consumers run what they pull: refuse what is not a component.
  if (auto decoded = component::decode_component(*bytes, {.validate_core_code = false}); !decoded) {
    std::fprintf(stderr, "stratus push: %s: %s\n", o.file.c_str(), decoded.error().message.c_str());
    return 1;
  }
  oci::ImageStore store({}, o.insecure_registries);
  auto digest = store.push(o.reference, *bytes, std::nullopt);
  if (!digest) {
    std::fprintf(stderr, "stratus push: %s\n", digest.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", digest->c_str());
  return 0;
}

}  // namespace

Subcommand add_push(CLI::App& parent) {
  auto opts = std::make_shared<PushOptions>();
  CLI::App* app = parent.add_subcommand("push", "Push a component to an OCI registry (application/wasm layer)");
  app->add_option("reference", opts->reference, "registry/repository:tag")->required();
  app->add_option("file", opts->file, "The component (.wasm)")->required();
  add_image_options(*app, opts->insecure_registries);
  return Subcommand{app, [opts] { return push(*opts); }};
}

}  // namespace stratus::cli
