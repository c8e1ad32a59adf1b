// Registry authentication: the `WWW-Authenticate` challenge a registry
// answers 401 with (Bearer with realm/service/scope, or Basic), and the
// credentials to answer it with: a workload's image_pull_secret, else a
// docker-style config.json ($DOCKER_CONFIG/config.json, else
// ~/.docker/config.json; `auths.<registry>.auth`, base64 of user:password,
// or `username` and `password`).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "support/result.h"

namespace stratus::oci {

struct Credentials {
  std::string username;
  std::string password;
};

struct Challenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lower case: realm, service, scope, error
};

// The first challenge of a WWW-Authenticate value (RFC 7235: a scheme,
// then comma-separated key=value or key="quoted value" parameters).
Result<Challenge> parse_www_authenticate(std::string_view header);

// Credentials for `registry` (host[:port]) from the docker config.json
// text; nothing when it has none for it. docker.io is also looked up as
// https://index.docker.io/v1/ as docker writes it. Errors: the file does
// not read as JSON, or its entry's `auth` is not base64 of user:password.
Result<std::optional<Credentials>> credentials_from_docker_config(std::string_view config_json,
                                                                  const std::string& registry);

// The docker config.json in use: $DOCKER_CONFIG/config.json, else
// $HOME/.docker/config.json; empty when neither variable is set.
std::filesystem::path docker_config_path();

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace stratus::oci
