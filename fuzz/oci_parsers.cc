// Fuzzes the parsers of what an OCI registry and a workload spec give the
// image puller (oci/): the first byte picks one, the rest is its input. A
// manifest, challenge, docker config, URL or reference either reads or is
// an error; one that reads is consistent (a reference's text reads back to
// itself), and nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/auth.h"
#include "oci/http.h"
#include "oci/manifest.h"
#include "oci/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stratus::oci;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0: {
      auto m = parse_manifest(text, "");
      if (m && m->is_index) (void)index_entry(*m);
      if (m && !m->is_index) (void)wasm_layer(*m);
      break;
    }
    case 1: {
      auto m = parse_manifest(text, kOciManifest);
      if (m && !m->is_index) (void)wasm_layer(*m);
      break;
    }
    case 2: (void)parse_www_authenticate(text); break;
    case 3: {
      auto ref = parse_reference(text);
      if (ref) {
        auto again = parse_reference(ref->text());
        if (!again || again->text() != ref->text()) std::abort();
      }
      (void)is_oci_reference(text);
      break;
    }
    case 4:
      (void)credentials_from_docker_config(text, "localhost:5000");
      if (auto decoded = base64_decode(text)) {
        if (base64_decode(base64_encode(*decoded)) != decoded) std::abort();
      }
      break;
    default: (void)parse_url(text); break;
  }
  return 0;
}
