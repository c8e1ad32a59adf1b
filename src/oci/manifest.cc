#include "oci/manifest.h"

#include <nlohmann/json.hpp>

#include "oci/reference.h"

namespace stratus::oci {
namespace {

using nlohmann::json;

Result<Descriptor> read_descriptor(const json& j, const std::string& where) {
  if (!j.is_object()) return make_error(where + ": not an object");
  Descriptor d;
  auto media = j.find("mediaType");
  if (media == j.end() || !media->is_string()) return make_error(where + ".mediaType: missing or not a string");
  d.media_type = media->get<std::string>();
  auto digest = j.find("digest");
  if (digest == j.end() || !digest->is_string()) return make_error(where + ".digest: missing or not a string");
  d.digest = digest->get<std::string>();
  if (!valid_digest(d.digest))
    return make_error(where + ".digest: '" + d.digest.substr(0, 100) + "' is not sha256:HEX");
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_unsigned()) return make_error(where + ".size: missing or not a size");
  d.size = size->get<uint64_t>();
  return d;
}

bool is_wasm(std::string_view media_type) { return media_type == kWasmLayer || media_type == kWasmLayerV1; }

}  // namespace

Result<Manifest> parse_manifest(std::string_view body, std::string_view content_type) {
  if (body.size() > kMaxManifestBytes) return make_error("manifest: larger than 4 MiB");
  // nlohmann's parser recurses per level: bound the nesting first.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > 32) return make_error("manifest: nested more than 32 deep");
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return make_error("manifest: not JSON");
  if (!doc.is_object()) return make_error("manifest: not a JSON object");
  auto version = doc.find("schemaVersion");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != 2)
    return make_error("manifest.schemaVersion: must be 2");
  std::string media(content_type.substr(0, content_type.find(';')));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  if (auto m = doc.find("mediaType"); m != doc.end()) {
    if (!m->is_string()) return make_error("manifest.mediaType: not a string");
    if (media.empty() || media == "application/json" || media == "application/octet-stream")
      media = m->get<std::string>();
  }
  Manifest out;
  if (media.empty()) media = doc.contains("manifests") ? std::string(kOciIndex) : std::string(kOciManifest);
  if (media == kOciIndex || media == kDockerManifestList) {
    out.is_index = true;
    auto list = doc.find("manifests");
    if (list == doc.end() || !list->is_array()) return make_error("index.manifests: missing or not a list");
    for (size_t i = 0; i < list->size(); ++i) {
      std::string where = "index.manifests[" + std::to_string(i) + "]";
      auto d = read_descriptor((*list)[i], where);
      if (!d) return std::move(d).error();
      Manifest::Entry e{std::move(*d), {}, {}};
      if (auto p = (*list)[i].find("platform"); p != (*list)[i].end() && p->is_object()) {
        if (auto os = p->find("os"); os != p->end() && os->is_string()) e.os = os->get<std::string>();
        if (auto a = p->find("architecture"); a != p->end() && a->is_string()) e.architecture = a->get<std::string>();
      }
      out.manifests.push_back(std::move(e));
    }
    return out;
  }
  if (media != kOciManifest && media != kDockerManifest)
    return make_error("manifest: media type '" + media.substr(0, 200) +
                      "' is neither an OCI image manifest nor an index");
  auto config = doc.find("config");
  if (config == doc.end()) return make_error("manifest.config: missing");
  auto c = read_descriptor(*config, "manifest.config");
  if (!c) return std::move(c).error();
  out.config = std::move(*c);
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array()) return make_error("manifest.layers: missing or not a list");
  for (size_t i = 0; i < layers->size(); ++i) {
    auto d = read_descriptor((*layers)[i], "manifest.layers[" + std::to_string(i) + "]");
    if (!d) return std::move(d).error();
    out.layers.push_back(std::move(*d));
  }
  return out;
}

Result<Descriptor> wasm_layer(const Manifest& manifest) {
  for (const auto& l : manifest.layers) {
    if (!is_wasm(l.media_type)) continue;
    if (l.size > kMaxLayerBytes)
      return make_error("its wasm layer is " + std::to_string(l.size) + " bytes, past the limit of " +
                        std::to_string(kMaxLayerBytes));
    return l;
  }
  std::string found;
  for (const auto& l : manifest.layers) found += (found.empty() ? "" : ", ") + l.media_type;
  return make_error("no layer of type application/wasm (config " + manifest.config.media_type +
                    ", layers: " + (found.empty() ? "none" : found) + ")");
}

Result<Descriptor> index_entry(const Manifest& index) {
  for (const auto& e : index.manifests) {
    if (e.architecture == "wasm" || e.os == "wasip1" || e.os == "wasip2" || e.os == "wasi") return e.descriptor;
  }
  if (index.manifests.size() == 1) return index.manifests[0].descriptor;
  std::string found;
  for (const auto& e : index.manifests) found += (found.empty() ? "" : ", ") + e.os + "/" + e.architecture;
  return make_error("an index with no manifest for wasm (platforms: " + (found.empty() ? "none" : found) + ")");
}

std::string wasm_config_json(const std::string& layer_digest) {
  json j = {{"architecture", "wasm"}, {"os", "wasip2"}, {"layerDigests", json::array({layer_digest})}};
  return j.dump();
}

std::string image_manifest_json(const Descriptor& config, const Descriptor& layer) {
  json j = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifest},
      {"config", {{"mediaType", config.media_type}, {"digest", config.digest}, {"size", config.size}}},
      {"layers", json::array({{{"mediaType", layer.media_type}, {"digest", layer.digest}, {"size", layer.size}}})},
  };
  return j.dump();
}

}  // namespace stratus::oci
