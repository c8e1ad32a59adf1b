// A client of one repository on an OCI registry (the Distribution API):
// manifests and blobs down, blobs (monolithic upload) and manifests up.
// A 401 is answered once per challenge: Basic with the credentials, or
// Bearer with a token fetched from the challenge's realm (service and
// scope as it asks, the credentials as Basic when there are some), and the
// authorization is kept for the next requests. Redirects (a blob on a CDN)
// are followed, without the authorization when they leave the registry.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/auth.h"
#include "oci/http.h"
#include "oci/manifest.h"
#include "oci/reference.h"

namespace stratus::oci {

struct RegistryOptions {
  // HOST:PORT of registries spoken to in plain HTTP; every other is HTTPS.
  std::vector<std::string> insecure_registries;
  // Used when given; otherwise the docker config.json's for the registry.
  std::optional<Credentials> credentials;
  std::chrono::seconds timeout{60};
};

class Registry {
 public:
  // `push`: ask tokens for pull and push.
  Registry(Reference ref, RegistryOptions options, bool push = false);

  struct FetchedManifest {
    std::string body;
    std::string content_type;
    std::string digest;  // sha256 of body, checked against the one asked for
  };
  Result<FetchedManifest> get_manifest(const std::string& tag_or_digest);
  // The blob's bytes, their size and sha256 checked against `d`.
  Result<std::string> get_blob(const Descriptor& d);
  // Uploads `bytes` (digest `digest`) unless the registry has it already.
  Result<void> push_blob(std::string_view bytes, const std::string& digest);
  // Puts an image manifest under `tag`; the registry's digest for it.
  Result<std::string> put_manifest(const std::string& tag, const std::string& body);

 private:
  Result<HttpResponse> send(HttpRequest request);
  Result<void> authenticate(const HttpResponse& unauthorized);
  Result<std::optional<Credentials>> credentials();
  Url url(const std::string& target) const;
  // Names the reference and the registry in an error.
  Error fail(const std::string& what) const;

  Reference ref_;
  RegistryOptions options_;
  bool push_;
  bool tls_;
  std::string authorization_;
  std::optional<std::optional<Credentials>> credentials_;  // looked up once
};

}  // namespace stratus::oci
