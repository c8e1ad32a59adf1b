#include "oci/image_store.h"

#include "support/file.h"
#include "support/hash.h"

namespace stratus::oci {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxIndexDepth = 2;

std::string_view as_text(const std::vector<uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

ImageStore::ImageStore(fs::path dir, std::vector<std::string> insecure_registries)
    : dir_(std::move(dir)), insecure_(std::move(insecure_registries)) {}

fs::path ImageStore::blob_path(const std::string& digest) const { return dir_ / "blobs" / "sha256" / digest.substr(7); }

fs::path ImageStore::tag_path(const Reference& ref) const {
  return dir_ / "tags" / ref.registry / ref.repository / ref.tag;
}

Result<void> ImageStore::store(const std::string& digest, std::string_view bytes) {
  auto path = blob_path(digest);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return make_error(path.parent_path().string() + ": " + ec.message());
  return write_file_atomic(path, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

std::optional<fs::path> ImageStore::cached(const std::string& manifest_digest) const {
  std::string digest = manifest_digest;
  for (int depth = 0; depth <= kMaxIndexDepth; ++depth) {
    auto text = read_file(blob_path(digest));
    if (!text) return std::nullopt;
    auto m = parse_manifest(as_text(*text), "");
    if (!m) return std::nullopt;
    if (m->is_index) {
      auto e = index_entry(*m);
      if (!e) return std::nullopt;
      digest = e->digest;
      continue;
    }
    auto layer = wasm_layer(*m);
    if (!layer) return std::nullopt;
    std::error_code ec;
    auto path = blob_path(layer->digest);
    if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) == layer->size) return path;
    return std::nullopt;
  }
  return std::nullopt;
}

Result<fs::path> ImageStore::fetch(const Reference& ref, const PullRequest& request) {
  Registry registry(ref, RegistryOptions{insecure_, request.credentials, std::chrono::seconds(60)});
  std::string want = ref.manifest_ref();
  for (int depth = 0; depth <= kMaxIndexDepth; ++depth) {
    auto fetched = registry.get_manifest(want);
    if (!fetched) return std::move(fetched).error();
    auto m = parse_manifest(fetched->body, fetched->content_type);
    if (!m) return make_error("image " + ref.text() + ": " + m.error().message);
    STRATUS_TRY(store(fetched->digest, fetched->body));
    if (depth == 0 && ref.digest.empty()) {
      // The tag's digest is remembered once the manifest is stored.
      auto tag = tag_path(ref);
      std::error_code ec;
      fs::create_directories(tag.parent_path(), ec);
      STRATUS_TRY(
          write_file_atomic(tag, {reinterpret_cast<const uint8_t*>(fetched->digest.data()), fetched->digest.size()}));
    }
    if (m->is_index) {
      auto e = index_entry(*m);
      if (!e) return make_error("image " + ref.text() + ": " + e.error().message);
      want = e->digest;
      continue;
    }
    auto layer = wasm_layer(*m);
    if (!layer) return make_error("image " + ref.text() + ": " + layer.error().message);
    auto path = blob_path(layer->digest);
    std::error_code ec;
    if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) == layer->size) return path;
    auto blob = registry.get_blob(*layer);
    if (!blob) return std::move(blob).error();
    STRATUS_TRY(store(layer->digest, *blob));
    return path;
  }
  return make_error("image " + ref.text() + ": indexes nested more than " + std::to_string(kMaxIndexDepth) + " deep");
}

Result<fs::path> ImageStore::pull(const std::string& image, const PullRequest& request) {
  auto ref = parse_reference(image);
  if (!ref) return std::move(ref).error();
  std::string manifest_digest = ref->digest;
  if (manifest_digest.empty()) {
    if (auto tag = read_file(tag_path(*ref))) manifest_digest = std::string(as_text(*tag));
    if (!valid_digest(manifest_digest)) manifest_digest.clear();
  }
  bool use_cache = request.policy == PullPolicy::Never || (request.policy == PullPolicy::IfNotPresent) ||
                   (request.policy == PullPolicy::Always && !ref->digest.empty());
  if (use_cache && !manifest_digest.empty())
    if (auto path = cached(manifest_digest)) return *path;
  if (request.policy == PullPolicy::Never)
    return make_error("image " + ref->text() + ": not in the cache (" + dir_.string() +
                      ") and image_pull_policy is Never");
  return fetch(*ref, request);
}

Result<std::string> ImageStore::push(const std::string& image, std::span<const uint8_t> wasm,
                                     const std::optional<Credentials>& credentials) {
  auto ref = parse_reference(image);
  if (!ref) return std::move(ref).error();
  if (!ref->digest.empty()) return make_error("image " + ref->text() + ": push to a tag, not a digest");
  if (wasm.size() > kMaxLayerBytes) return make_error("the component is larger than the 512 MiB a layer may be");
  Registry registry(*ref, RegistryOptions{insecure_, credentials, std::chrono::seconds(300)}, true);
  Descriptor layer{std::string(kWasmLayer), "sha256:" + sha256_hex(wasm), wasm.size()};
  std::string config = wasm_config_json(layer.digest);
  Descriptor config_d{std::string(kWasmConfig),
                      "sha256:" + sha256_hex({reinterpret_cast<const uint8_t*>(config.data()), config.size()}),
                      config.size()};
  STRATUS_TRY(registry.push_blob({reinterpret_cast<const char*>(wasm.data()), wasm.size()}, layer.digest));
  STRATUS_TRY(registry.push_blob(config, config_d.digest));
  return registry.put_manifest(ref->tag, image_manifest_json(config_d, layer));
}

}  // namespace stratus::oci
