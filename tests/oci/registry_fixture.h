// Debian's docker-registry (distribution 2.8), started by a test on a free
// loopback port with its storage and config in a temporary folder, stopped
// with the object. Auth: none, htpasswd (bcrypt, made with `htpasswd -B`),
// or token (a realm the test serves itself, its certificate the registry's
// rootcertbundle).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace stratus::oci::testing {

struct RegistryAuth {
  enum class Kind { None, Htpasswd, Token } kind = Kind::None;
  std::string username, password;                                         // Htpasswd
  std::string token_realm, token_service, token_issuer, token_cert_file;  // Token
};

class TestRegistry {
 public:
  explicit TestRegistry(RegistryAuth auth = {})
      : dir_("stratus-oci-registry"), port_(test_support::free_loopback_port()) {
    std::string config = "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " +
                         (dir_.path() / "data").string() + "\nhttp:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n";
    if (auth.kind == RegistryAuth::Kind::Htpasswd) {
      auto file = dir_.path() / "htpasswd";
      std::string cmd = "htpasswd -Bbn '" + auth.username + "' '" + auth.password + "' > " + file.string();
      if (std::system(cmd.c_str()) != 0) return;
      config += "auth:\n  htpasswd:\n    realm: stratus-test\n    path: " + file.string() + "\n";
    } else if (auth.kind == RegistryAuth::Kind::Token) {
      config += "auth:\n  token:\n    realm: " + auth.token_realm + "\n    service: " + auth.token_service +
                "\n    issuer: " + auth.token_issuer + "\n    rootcertbundle: " + auth.token_cert_file + "\n";
    }
    std::ofstream(dir_.path() / "config.yml") << config;
    start();
  }

  void start() {
    process_ = std::make_unique<test_support::ServerProcess>(
        std::vector<std::string>{"docker-registry", "serve", (dir_.path() / "config.yml").string()}, port_,
        (dir_.path() / "registry.log").string());
  }
  void stop() { process_.reset(); }

  bool running() const { return process_ && process_->running(); }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // Where the registry keeps a blob's bytes.
  std::filesystem::path blob_file(const std::string& digest) const {
    std::string hex = digest.substr(7);
    return dir_.path() / "data/docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
  }
  std::string log() const { return test_support::read_text(dir_.path() / "registry.log"); }

 private:
  test_support::TempDir dir_;
  uint16_t port_;
  std::unique_ptr<test_support::ServerProcess> process_;
};

}  // namespace stratus::oci::testing
