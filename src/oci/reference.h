// OCI image references as docker and wkg read them:
//   [registry/]repository[:tag][@sha256:HEX]
// The first path component is the registry when it has a `.` or a `:` or
// is `localhost`; otherwise the registry is docker.io, and a one-component
// repository there is under `library/`. No tag and no digest means
// `latest`. An `oci://` prefix is allowed and ignored.
#pragma once

#include <string>
#include <string_view>

#include "support/result.h"

namespace stratus::oci {

struct Reference {
  std::string registry;    // "docker.io", "localhost:5000", "ghcr.io"
  std::string repository;  // "library/hello", "org/app"
  std::string tag;         // empty when only a digest is given
  std::string digest;      // "sha256:<64 hex>", or empty

  // The host:port the Distribution API is spoken with (docker.io's is
  // registry-1.docker.io).
  std::string api_host() const;
  // registry/repository[:tag][@digest], as written back in messages.
  std::string text() const;
  // What the manifest is fetched by: the digest when given, else the tag.
  std::string manifest_ref() const { return digest.empty() ? tag : digest; }
};

// Errors say which part is wrong and why.
Result<Reference> parse_reference(std::string_view text);

// Whether a workload's `image:` names an OCI reference rather than a local
// file: `oci://...`, or (no other scheme, not ending in `.wasm`) a path
// whose first component names a registry (has `.` or `:`, or is
// `localhost`) or that carries `@sha256:`.
bool is_oci_reference(std::string_view image);

// "sha256:<64 lower-case hex>"
bool valid_digest(std::string_view digest);

}  // namespace stratus::oci
