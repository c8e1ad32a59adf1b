// `stratus push` and `stratus up` with an OCI image, end to end against
// Debian's docker-registry started on loopback: the pushed component
// answers HTTP from the image reference; a digest reference; policy Never
// with an empty cache; a registry that wants credentials the host lacks.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "oci/auth.h"
#include "oci/reference.h"
#include "tests/cli/run_stratus.h"
#include "tests/oci/registry_fixture.h"
#include "tests/support/http_get.h"

namespace stratus::oci {
namespace {

using namespace std::chrono_literals;

std::string spec(const std::string& image, const std::string& extra = "") {
  return "name: hello\nwit_world:\n  components:\n    - name: hello\n      image: " + image + "\n" + extra +
         "  host_interfaces:\n    - namespace: wasi\n      package: http\n      version: 0.2.12\n"
         "      interfaces: [incoming-handler]\n";
}

// GET / until it answers 200 (the workload is started after the listener).
bool answers(uint16_t port) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (stratus::testing::http_get(port, "/").result_int() == 200) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

class OciCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("docker/config.json", "{}");
    ::setenv("DOCKER_CONFIG", (dir_.path() / "docker").c_str(), 1);
  }
  void TearDown() override { ::unsetenv("DOCKER_CONFIG"); }

  std::string push(const testing::TestRegistry& registry, const std::string& ref) {
    auto ran = cli::run_stratus(
        {"push", ref, STRATUS_EXAMPLES_DIR "/http-hello.wasm", "--insecure-registry", registry.host()});
    EXPECT_EQ(ran.code, 0) << ran.err;
    std::string digest = ran.out.substr(0, ran.out.find('\n'));
    EXPECT_TRUE(valid_digest(digest)) << ran.out;
    return digest;
  }

  test_support::TempDir dir_{"stratus-oci-cli"};
};

TEST_F(OciCli, PushThenUpServesTheImage) {
  testing::TestRegistry registry;
  ASSERT_TRUE(registry.running()) << registry.log();
  std::string image = registry.host() + "/apps/http-hello:v1";
  std::string digest = push(registry, image);
  dir_.write("tag.yaml", spec(image));
  dir_.write("digest.yaml", spec(registry.host() + "/apps/http-hello@" + digest));
  for (const char* file : {"tag.yaml", "digest.yaml"}) {
    uint16_t port = test_support::free_loopback_port();
    test_support::ServerProcess up({STRATUS_BINARY, "up", (dir_.path() / file).string(), "--engine", "interp", "--addr",
                                    "127.0.0.1:" + std::to_string(port), "--data-dir", (dir_.path() / "data").string(),
                                    "--insecure-registry", registry.host()},
                                   port, (dir_.path() / "up.log").string());
    ASSERT_TRUE(up.running()) << test_support::read_text(dir_.path() / "up.log");
    EXPECT_TRUE(answers(port)) << file << "\n" << test_support::read_text(dir_.path() / "up.log");
  }
}

TEST_F(OciCli, PushRefusesWhatIsNotAComponent) {
  dir_.write("not.wasm", "not a component");
  auto ran = cli::run_stratus({"push", "127.0.0.1:1/x:v1", (dir_.path() / "not.wasm").string()});
  EXPECT_EQ(ran.code, 1);
  EXPECT_NE(ran.err.find("not.wasm"), std::string::npos) << ran.err;
}

TEST_F(OciCli, UpFailsClearly) {
  testing::TestRegistry registry;
  ASSERT_TRUE(registry.running()) << registry.log();
  std::string image = registry.host() + "/apps/http-hello:v1";
  push(registry, image);

  dir_.write("never.yaml", spec(image, "      image_pull_policy: Never\n"));
  auto never = cli::run_stratus({"up", (dir_.path() / "never.yaml").string(), "--addr", "127.0.0.1:0", "--data-dir",
                                 (dir_.path() / "empty").string(), "--insecure-registry", registry.host()});
  EXPECT_EQ(never.code, 1);
  EXPECT_NE(never.err.find("wit_world.components[0].image: image " + image + ": not in the cache"), std::string::npos)
      << never.err;

  // Without --insecure-registry the registry is spoken to in TLS, which it
  // does not speak.
  dir_.write("tls.yaml", spec(image));
  auto tls = cli::run_stratus({"up", (dir_.path() / "tls.yaml").string(), "--addr", "127.0.0.1:0", "--data-dir",
                               (dir_.path() / "empty").string()});
  EXPECT_EQ(tls.code, 1);
  EXPECT_NE(tls.err.find("--insecure-registry " + registry.host()), std::string::npos) << tls.err;

  dir_.write("bad.yaml", spec(registry.host() + "/Apps/x:v1"));
  auto bad = cli::run_stratus({"up", (dir_.path() / "bad.yaml").string(), "--addr", "127.0.0.1:0"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("wit_world.components[0].image: image reference"), std::string::npos) << bad.err;
}

TEST_F(OciCli, PullSecretFromTheSpec) {
  testing::TestRegistry registry({testing::RegistryAuth::Kind::Htpasswd, "alice", "pw", "", "", "", ""});
  ASSERT_TRUE(registry.running()) << registry.log();
  dir_.write("docker/config.json",
             R"({"auths":{")" + registry.host() + R"(":{"auth":")" + base64_encode("alice:pw") + R"("}}})");
  std::string image = registry.host() + "/apps/http-hello:v1";
  push(registry, image);
  dir_.write("docker/config.json", "{}");

  dir_.write("wrong.yaml", spec(image, "      image_pull_secret: {username: alice, password: nope}\n"));
  auto wrong = cli::run_stratus({"up", (dir_.path() / "wrong.yaml").string(), "--addr", "127.0.0.1:0", "--data-dir",
                                 (dir_.path() / "data").string(), "--insecure-registry", registry.host()});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("refused the credentials"), std::string::npos) << wrong.err;

  dir_.write("right.yaml", spec(image, "      image_pull_secret: {username: alice, password: pw}\n"));
  uint16_t port = test_support::free_loopback_port();
  test_support::ServerProcess up({STRATUS_BINARY, "up", (dir_.path() / "right.yaml").string(), "--engine", "interp",
                                  "--addr", "127.0.0.1:" + std::to_string(port), "--data-dir",
                                  (dir_.path() / "data").string(), "--insecure-registry", registry.host()},
                                 port, (dir_.path() / "up.log").string());
  ASSERT_TRUE(up.running());
  EXPECT_TRUE(answers(port)) << test_support::read_text(dir_.path() / "up.log");
}

}  // namespace
}  // namespace stratus::oci
