// The content-addressed cache of pulled images and the pull policy.
//
//   DIR/blobs/sha256/HEX          manifests and layers, by digest (written
//                                 only after their digest is checked)
//   DIR/tags/REGISTRY/REPO/TAG    the manifest digest a tag had when pulled
//
// Policies as Kubernetes': Always asks the registry for the tag's manifest
// each time (blobs already cached by digest are not fetched again);
// IfNotPresent (the default) uses the cache when it has the image; Never
// uses the cache only.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oci/auth.h"
#include "oci/registry.h"

namespace stratus::oci {

enum class PullPolicy { IfNotPresent, Always, Never };

struct PullRequest {
  PullPolicy policy = PullPolicy::IfNotPresent;
  std::optional<Credentials> credentials;  // a workload's image_pull_secret
};

class ImageStore {
 public:
  ImageStore(std::filesystem::path dir, std::vector<std::string> insecure_registries);

  // The cached file of the component that `image` (an OCI reference)
  // names, pulled first as the policy says. Errors name the reference and
  // the reason.
  Result<std::filesystem::path> pull(const std::string& image, const PullRequest& request);

  // Pushes `wasm` as `image` (a layer of type application/wasm, config
  // application/vnd.wasm.config.v0+json); the manifest's digest.
  Result<std::string> push(const std::string& image, std::span<const uint8_t> wasm,
                           const std::optional<Credentials>& credentials);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path blob_path(const std::string& digest) const;
  std::filesystem::path tag_path(const Reference& ref) const;
  // The cached component of a manifest digest, if all of it is cached.
  std::optional<std::filesystem::path> cached(const std::string& manifest_digest) const;
  Result<std::filesystem::path> fetch(const Reference& ref, const PullRequest& request);
  Result<void> store(const std::string& digest, std::string_view bytes);

  std::filesystem::path dir_;
  std::vector<std::string> insecure_;
};

}  // namespace stratus::oci
