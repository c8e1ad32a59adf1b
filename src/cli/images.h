// The OCI image options `up`, `host` and `push` share: `--insecure-registry
// HOST:PORT` (repeatable), the registries spoken to in plain HTTP.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "oci/image_store.h"

namespace stratus::cli {

inline void add_image_options(CLI::App& app, std::vector<std::string>& insecure_registries) {
  app.add_option("--insecure-registry", insecure_registries,
                 "HOST:PORT of an OCI registry spoken to in plain HTTP (repeatable); every other is HTTPS");
}

// The image cache of a host whose data lives in `data_dir`.
inline std::shared_ptr<oci::ImageStore> make_image_store(const std::string& data_dir,
                                                         const std::vector<std::string>& insecure_registries) {
  return std::make_shared<oci::ImageStore>(std::filesystem::path(data_dir) / "oci", insecure_registries);
}

}  // namespace stratus::cli
