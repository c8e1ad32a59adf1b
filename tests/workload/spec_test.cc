// The workload spec (workload/spec.h): wasmCloud v2's Workload in YAML or
// JSON, every problem reported with its field path, and the merge rules.
#include "workload/spec.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace stratus::workload {
namespace {

namespace fs = std::filesystem;

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& problems) {
  std::string s;
  for (const auto& p : problems) s += p + "\n";
  return s;
}

const char* kFull = R"(
namespace: shop
name: counter
annotations: {team: payments}
service:
  image: svc.wasm
  max_restarts: 3
  local_resources: {memory_limit_mb: 64}
wit_world:
  components:
    - name: http
      image: http.wasm
      pool_size: 4
      max_invocations: 1000
      max_concurrency: 16
      local_resources:
        memory_limit_mb: 32
        cpu_limit: 1
        config: {greeting: hi}
        environment: {LOG: debug}
        volume_mounts: [{name: data, mount_path: /data, read_only: true}]
        allowed_hosts: ["*.example.com"]
        allowed_ip_name_lookups: [example.com]
        allowed_host_loopback_ports: [5432, 6379]
  host_interfaces:
    - namespace: wasi
      package: keyvalue
      version: 0.2.0-draft
      interfaces: [store, atomics]
      config: {backend: sqlite}
      name: cache
volumes:
  - name: data
    host_path: {local_path: /tmp}
  - name: scratch
    empty_dir: {}
)";

TEST(WorkloadSpecTest, ReadsEveryField) {
  auto w = parse_workload(kFull, "counter.yaml");
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->ns, "shop");
  EXPECT_EQ(w->name, "counter");
  EXPECT_EQ(w->annotations.at("team"), "payments");
  ASSERT_TRUE(w->service.has_value());
  EXPECT_EQ(w->service->image, "svc.wasm");
  EXPECT_EQ(w->service->max_restarts, 3u);
  EXPECT_EQ(w->service->local_resources.memory_limit_mb, 64);
  ASSERT_EQ(w->components.size(), 1u);
  const auto& c = w->components[0];
  EXPECT_EQ(c.name, "http");
  EXPECT_EQ(c.pool_size, 4);
  EXPECT_EQ(c.max_invocations, 1000);
  EXPECT_EQ(c.max_concurrency, 16);
  EXPECT_EQ(c.local_resources.cpu_limit, 1);
  EXPECT_EQ(c.local_resources.config.at("greeting"), "hi");
  EXPECT_EQ(c.local_resources.environment.at("LOG"), "debug");
  ASSERT_EQ(c.local_resources.volume_mounts.size(), 1u);
  EXPECT_TRUE(c.local_resources.volume_mounts[0].read_only);
  EXPECT_EQ(c.local_resources.allowed_hosts, std::vector<std::string>{"*.example.com"});
  EXPECT_EQ(c.local_resources.allowed_ip_name_lookups, std::vector<std::string>{"example.com"});
  EXPECT_EQ(c.local_resources.allowed_host_loopback_ports, (std::vector<uint16_t>{5432, 6379}));
  ASSERT_EQ(w->host_interfaces.size(), 1u);
  EXPECT_EQ(w->host_interfaces[0].ns, "wasi");
  EXPECT_EQ(w->host_interfaces[0].interfaces, (std::vector<std::string>{"store", "atomics"}));
  EXPECT_EQ(w->host_interfaces[0].name, "cache");
  ASSERT_EQ(w->volumes.size(), 2u);
  EXPECT_EQ(w->volumes[0].kind, Volume::Kind::HostPath);
  EXPECT_EQ(w->volumes[0].local_path, "/tmp");
  EXPECT_EQ(w->volumes[1].kind, Volume::Kind::EmptyDir);
}

TEST(WorkloadSpecTest, ReadsImagePullPolicyAndSecret) {
  auto w = parse_workload(R"(
name: pulled
service: {image: "ghcr.io/acme/svc:1.0", image_pull_policy: IMAGE_PULL_POLICY_NEVER}
wit_world:
  components:
    - name: a
      image: localhost:5000/a@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
      image_pull_policy: Always
      image_pull_secret: {username: me, password: pw}
    - {name: b, image: b.wasm}
)",
                          "pulled.yaml");
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->service->image_pull_policy, ImagePullPolicy::Never);
  EXPECT_FALSE(w->service->image_pull_secret);
  EXPECT_EQ(w->components[0].image_pull_policy, ImagePullPolicy::Always);
  ASSERT_TRUE(w->components[0].image_pull_secret);
  EXPECT_EQ(w->components[0].image_pull_secret->username, "me");
  EXPECT_EQ(w->components[0].image_pull_secret->password, "pw");
  EXPECT_EQ(w->components[1].image_pull_policy, ImagePullPolicy::Unspecified);

  auto bad = parse_workload(R"(
name: x
wit_world:
  components: [{name: a, image: a.wasm, image_pull_policy: Sometimes, image_pull_secret: {user: me}}]
)",
                            "bad.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("wit_world.components[0].image_pull_policy: 'Sometimes' is not Always, "
                                     "IfNotPresent or Never"),
            std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("wit_world.components[0].image_pull_secret.user"), std::string::npos)
      << bad.error().message;
}

TEST(WorkloadSpecTest, JsonIsReadToo) {
  auto w = parse_workload(R"({"name": "j", "wit_world": {"components": [{"name": "a", "image": "a.wasm",
                             "pool_size": 2}]}})",
                          "j.json");
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->components.at(0).pool_size, 2);
}

TEST(WorkloadSpecTest, ReportsEveryProblemWithItsFieldPath) {
  auto w = parse_workload(R"(
name: [not, a, string]
colour: blue
wit_world:
  components:
    - name: a
      pool_size: lots
      local_resources:
        allowed_host_loopback_ports: [70000]
        volume_mounts: [{name: d, mount_path: /d, read_only: maybe}]
        cpus: 2
volumes:
  - name: both
    host_path: {local_path: /tmp}
    empty_dir: {}
)",
                          "bad.yaml");
  ASSERT_FALSE(w.ok());
  const auto& m = w.error().message;
  EXPECT_NE(m.find("bad.yaml:"), std::string::npos) << m;
  EXPECT_NE(m.find("name: expected a string, found a list"), std::string::npos) << m;
  EXPECT_NE(m.find("colour: unknown field"), std::string::npos) << m;
  EXPECT_NE(m.find("wit_world.components[0].pool_size: expected an integer, found 'lots'"), std::string::npos) << m;
  EXPECT_NE(m.find("wit_world.components[0].local_resources.allowed_host_loopback_ports[0]: '70000' is out of range"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("volume_mounts[0].read_only: expected true or false, found 'maybe'"), std::string::npos) << m;
  EXPECT_NE(m.find("wit_world.components[0].local_resources.cpus: unknown field"), std::string::npos) << m;
  EXPECT_NE(m.find("volumes[0]: give exactly one of host_path and empty_dir"), std::string::npos) << m;
}

TEST(WorkloadSpecTest, SyntaxErrorsGiveLineAndColumn) {
  auto w = parse_workload("name: a\nwit_world: {components: [\n", "broken.yaml");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("broken.yaml:3:"), std::string::npos) << w.error().message;
}

TEST(WorkloadSpecTest, DeepNestingIsRefusedBeforeParsing) {
  auto flow = parse_workload("name: " + std::string(100000, '['), "deep.yaml");
  ASSERT_FALSE(flow.ok());
  EXPECT_NE(flow.error().message.find("nests [ and { too deeply"), std::string::npos) << flow.error().message;
  std::string block = "name: x\n";
  for (int i = 0; i < 300; ++i) block += std::string(static_cast<size_t>(i), ' ') + "a" + std::to_string(i) + ":\n";
  auto indented = parse_workload(block, "deep.yaml");
  ASSERT_FALSE(indented.ok());
  EXPECT_NE(indented.error().message.find("nested too deeply"), std::string::npos) << indented.error().message;
  // Brackets inside quoted text are text, and "don't" starts no quote.
  auto quoted = parse_workload("name: \"" + std::string(100, '[') + "\"\nannotations: {a: don't}\n", "q.yaml");
  EXPECT_TRUE(quoted.ok()) << quoted.error().message;
}

class ValidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stratus-workload-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "a.wasm") << "\0asm";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ValidateTest, AValidWorkloadHasNoProblems) {
  auto w = parse_workload(R"(
name: ok
wit_world:
  components: [{name: a, image: a.wasm, local_resources: {volume_mounts: [{name: v, mount_path: /v}]}}]
  host_interfaces: [{namespace: wasi, package: config, interfaces: [store]}]
volumes: [{name: v, empty_dir: {}}]
)",
                          "ok.yaml");
  ASSERT_TRUE(w.ok()) << w.error().message;
  auto problems = validate_workload(*w, dir_.string());
  EXPECT_TRUE(problems.empty()) << joined(problems);
}

TEST_F(ValidateTest, ReportsEveryProblemAtOnce) {
  auto w = parse_workload(R"(
name: Bad Name
service: {image: ghcr.io/Acme/svc:1.0}
wit_world:
  components:
    - {name: a, image: a.wasm, pool_size: -1,
       local_resources: {memory_limit_mb: 0, volume_mounts: [{name: nope, mount_path: relative}]}}
    - {name: a, image: missing.wasm}
    - {image: a.wasm}
  host_interfaces:
    - {namespace: wasi, package: keyvalue, interfaces: [store]}
    - {namespace: wasi, package: keyvalue, interfaces: [store]}
    - {namespace: wasi, interfaces: []}
volumes: [{name: host, host_path: {local_path: /no/such/dir}}]
)",
                          "bad.yaml");
  ASSERT_TRUE(w.ok()) << w.error().message;
  auto p = validate_workload(*w, dir_.string());
  std::string all = joined(p);
  EXPECT_TRUE(mentions(p, "name: 'Bad Name' must be")) << all;
  EXPECT_TRUE(mentions(p,
                       "service.image: image reference 'ghcr.io/Acme/svc:1.0': repository component 'Acme' must be "
                       "lower-case"))
      << all;
  EXPECT_TRUE(mentions(p, "wit_world.components[0].pool_size: must not be negative")) << all;
  EXPECT_TRUE(mentions(p, "wit_world.components[0].local_resources.memory_limit_mb: must be positive")) << all;
  EXPECT_TRUE(mentions(p, "wit_world.components[0].local_resources.volume_mounts[0].name: no volume named 'nope'"))
      << all;
  EXPECT_TRUE(mentions(p, "volume_mounts[0].mount_path: must be an absolute guest path")) << all;
  EXPECT_TRUE(mentions(p, "wit_world.components[1].name: 'a' is used by another component")) << all;
  EXPECT_TRUE(mentions(p, "wit_world.components[1].image: '" + (dir_ / "missing.wasm").string() + "' is not a file"))
      << all;
  EXPECT_TRUE(mentions(p, "wit_world.components[2].name: missing")) << all;
  EXPECT_TRUE(mentions(p, "wit_world.host_interfaces[1]: wasi:keyvalue is listed twice")) << all;
  EXPECT_TRUE(mentions(p, "wit_world.host_interfaces[2].package: missing")) << all;
  EXPECT_TRUE(mentions(p, "wit_world.host_interfaces[2].interfaces: name at least one interface")) << all;
  EXPECT_TRUE(mentions(p, "volumes[0].host_path.local_path: '/no/such/dir' is not a directory")) << all;
  EXPECT_EQ(p.size(), 13u) << all;
}

TEST(MergeTest, ScalarsOverrideMapsMergeByKeyGrantsUniteMountsByPath) {
  LocalResources host;
  host.memory_limit_mb = 128;
  host.cpu_limit = 2;
  host.config = {{"region", "eu"}, {"greeting", "hello"}};
  host.allowed_hosts = {"api.example.com"};
  host.volume_mounts = {{"cache", "/cache", false}};
  LocalResources component;
  component.memory_limit_mb = 32;
  component.config = {{"greeting", "hi"}};
  component.allowed_hosts = {"db.example.com", "api.example.com"};
  component.volume_mounts = {{"ro-cache", "/cache", true}, {"data", "/data", false}};
  component.allowed_host_loopback_ports = {5432};
  Workload w;
  w.host_interfaces.push_back(
      {"wasi", "config", "0.2.0-draft", {"store"}, {{"greeting", "hey"}, {"mode", "prod"}}, ""});
  auto e = effective_resources(host, w, component);
  EXPECT_EQ(e.memory_limit_mb, 32);  // the component's
  EXPECT_EQ(e.cpu_limit, 2);         // unset below: the host's
  EXPECT_EQ(e.config, (std::map<std::string, std::string>{{"greeting", "hi"}, {"mode", "prod"}, {"region", "eu"}}));
  EXPECT_EQ(e.allowed_hosts, (std::vector<std::string>{"api.example.com", "db.example.com"}));
  ASSERT_EQ(e.volume_mounts.size(), 2u);
  EXPECT_EQ(e.volume_mounts[0].name, "ro-cache");
  EXPECT_TRUE(e.volume_mounts[0].read_only);
  EXPECT_EQ(e.volume_mounts[1].mount_path, "/data");
  EXPECT_EQ(e.allowed_host_loopback_ports, std::vector<uint16_t>{5432});
  // Without the component's layer, the workload's config beats the host's.
  auto only = effective_resources(host, w, {});
  EXPECT_EQ(only.config.at("greeting"), "hey");
  EXPECT_EQ(only.memory_limit_mb, 128);
}

}  // namespace
}  // namespace stratus::workload
