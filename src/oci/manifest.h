// OCI manifests of Wasm components: reading what a registry returns (an
// image manifest, or an index whose entry for wasm is followed) and writing
// what `stratus push` sends. The shape is the one wasmCloud and wkg push: a
// config of type application/vnd.wasm.config.v0+json and the component as
// one layer of type application/wasm (wasmCloud v1's
// application/vnd.module.wasm.content.layer.v1+wasm is read too).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace stratus::oci {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kWasmLayer = "application/wasm";
inline constexpr std::string_view kWasmLayerV1 = "application/vnd.module.wasm.content.layer.v1+wasm";
inline constexpr std::string_view kWasmConfig = "application/vnd.wasm.config.v0+json";

// Manifests past this are refused unread; layers past kMaxLayerBytes too.
inline constexpr uint64_t kMaxManifestBytes = 4 << 20;
inline constexpr uint64_t kMaxLayerBytes = 512ull << 20;

struct Descriptor {
  std::string media_type;
  std::string digest;  // sha256:HEX (checked)
  uint64_t size = 0;
};

struct Manifest {
  bool is_index = false;
  Descriptor config;               // image manifests
  std::vector<Descriptor> layers;  // image manifests
  // Index entries: each with its platform's os and architecture.
  struct Entry {
    Descriptor descriptor;
    std::string os, architecture;
  };
  std::vector<Entry> manifests;
};

// Reads a manifest or index. `content_type` is the response's Content-Type
// (may be empty: then the body's own mediaType decides). Errors name the
// field.
Result<Manifest> parse_manifest(std::string_view body, std::string_view content_type);

// The component's layer of an image manifest: its first layer of a wasm
// media type; an error naming what it found otherwise.
Result<Descriptor> wasm_layer(const Manifest& manifest);

// The entry of an index to follow: the one for wasm (architecture `wasm`,
// or os `wasip1`/`wasip2`/`wasi`), else the only one.
Result<Descriptor> index_entry(const Manifest& index);

// What `stratus push` sends for one component.
std::string wasm_config_json(const std::string& layer_digest);
std::string image_manifest_json(const Descriptor& config, const Descriptor& layer);

}  // namespace stratus::oci
