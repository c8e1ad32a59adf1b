// wasmCloud's Kubernetes kinds (workload/manifest.h): Workload,
// WorkloadReplicaSet and WorkloadDeployment read into the spec's Workload,
// placement fields noted, errors and validation problems in the
// manifest's own (camelCase) spelling, and the snake_case spec unchanged.
#include "workload/manifest.h"

#include <gtest/gtest.h>

#include <string>

namespace stratus::workload {
namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  return joined(lines).find(text) != std::string::npos;
}

// Shaped like the operator's config/samples (a deployment with a host
// selector and a Kubernetes Service), with every field the reader maps.
const char* kDeployment = R"(
apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: WorkloadDeployment
metadata:
  name: shop
  namespace: retail
  labels: {app: shop}
  annotations: {team: payments}
spec:
  replicas: 3
  deployPolicy: Recreate
  kubernetes:
    service: {name: shop-svc}
  template:
    annotations: {build: "42"}
    spec:
      hostSelector:
        hostgroup: default
      hostInterfaces:
        - namespace: wasi
          package: http
          interfaces: [incoming-handler]
          config: {host: shop.test}
        - namespace: wasi
          package: keyvalue
          version: 0.2.0-draft
          interfaces: [store, atomics]
          name: cache
      components:
        - name: http
          image: http.wasm
          imagePullPolicy: IfNotPresent
          poolSize: 4
          maxInvocations: 1000
          maxConcurrency: 16
          localResources:
            config: {greeting: hi}
            environment: {config: {LOG: debug}}
            volumeMounts: [{name: data, mountPath: /data, readOnly: true}]
            allowedHosts: ["*.example.com"]
            allowedIpNameLookups: [example.com]
            allowedHostLoopbackPorts: ["5432", "6379/tcp"]
      service:
        image: svc.wasm
        maxRestarts: 2
      volumes:
        - name: data
          hostPath: {path: /tmp}
        - name: scratch
          ephemeral: {}
)";

TEST(ManifestTest, ReadsAWorkloadDeploymentAsTheSpecsWorkload) {
  ASSERT_TRUE(is_manifest(kDeployment));
  auto read = parse_manifests(kDeployment, "shop.yaml");
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 1u);
  const Manifest& m = read->front();
  EXPECT_EQ(m.kind, "WorkloadDeployment");
  EXPECT_EQ(m.spec_path, "spec.template.spec");
  const Workload& w = m.workload;
  EXPECT_EQ(w.name, "shop");
  EXPECT_EQ(w.ns, "retail");
  EXPECT_EQ(w.annotations.at("team"), "payments");
  EXPECT_EQ(w.annotations.at("build"), "42");
  ASSERT_EQ(w.components.size(), 1u);
  const Component& c = w.components[0];
  EXPECT_EQ(c.name, "http");
  EXPECT_EQ(c.image, "http.wasm");
  EXPECT_EQ(c.pool_size, 4);
  EXPECT_EQ(c.max_invocations, 1000);
  EXPECT_EQ(c.max_concurrency, 16);
  EXPECT_EQ(c.local_resources.config.at("greeting"), "hi");
  EXPECT_EQ(c.local_resources.environment.at("LOG"), "debug");
  ASSERT_EQ(c.local_resources.volume_mounts.size(), 1u);
  EXPECT_EQ(c.local_resources.volume_mounts[0].mount_path, "/data");
  EXPECT_TRUE(c.local_resources.volume_mounts[0].read_only);
  EXPECT_EQ(c.local_resources.allowed_hosts, std::vector<std::string>{"*.example.com"});
  EXPECT_EQ(c.local_resources.allowed_ip_name_lookups, std::vector<std::string>{"example.com"});
  EXPECT_EQ(c.local_resources.allowed_host_loopback_ports, (std::vector<uint16_t>{5432, 6379}));
  ASSERT_EQ(w.host_interfaces.size(), 2u);
  EXPECT_EQ(w.host_interfaces[0].config.at("host"), "shop.test");
  // As the operator does for a workload behind a Kubernetes Service.
  EXPECT_EQ(w.host_interfaces[0].config.at("host-aliases"), "shop-svc.retail,shop-svc.retail.svc");
  EXPECT_EQ(w.host_interfaces[1].name, "cache");
  EXPECT_EQ(w.host_interfaces[1].interfaces, (std::vector<std::string>{"store", "atomics"}));
  ASSERT_TRUE(w.service.has_value());
  EXPECT_EQ(w.service->image, "svc.wasm");
  EXPECT_EQ(w.service->max_restarts, 2u);
  ASSERT_EQ(w.volumes.size(), 2u);
  EXPECT_EQ(w.volumes[0].kind, Volume::Kind::HostPath);
  EXPECT_EQ(w.volumes[0].local_path, "/tmp");
  EXPECT_EQ(w.volumes[1].kind, Volume::Kind::EmptyDir);

  std::string notes = joined(m.notes);
  EXPECT_TRUE(mentions(m.notes, "WorkloadDeployment shop: spec.replicas: 3 noted, ignored on one host")) << notes;
  EXPECT_TRUE(mentions(m.notes, "spec.template.spec.hostSelector: {hostgroup=default} noted, ignored on one host"))
      << notes;
  EXPECT_TRUE(mentions(m.notes, "spec.deployPolicy: Recreate noted")) << notes;
  EXPECT_TRUE(mentions(m.notes, "metadata.labels: {app=shop} noted, not used")) << notes;
  EXPECT_FALSE(mentions(m.notes, "imagePullPolicy")) << notes;
  EXPECT_EQ(m.workload.components[0].image_pull_policy, ImagePullPolicy::IfNotPresent)
      << "the policy applies to an OCI image as the spec's image_pull_policy does";
}

TEST(ManifestTest, ReadsWorkloadAndReplicaSetInOneFile) {
  auto read = parse_manifests(R"(
apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: Workload
metadata: {name: one}
spec:
  hostId: host-7
  components: [{name: a, image: a.wasm}]
  hostInterfaces: [{namespace: wasi, package: http, interfaces: [incoming-handler]}]
---
apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: WorkloadReplicaSet
metadata: {name: two}
spec:
  replicas: 2
  template:
    labels: {tier: web}
    spec:
      components: [{name: b, image: b.wasm}]
---
apiVersion: v1
kind: Service
metadata: {name: two-svc}
spec: {type: ClusterIP}
)",
                              "two.yaml");
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].kind, "Workload");
  EXPECT_EQ((*read)[0].spec_path, "spec");
  EXPECT_EQ((*read)[0].workload.name, "one");
  EXPECT_EQ((*read)[0].workload.components[0].image, "a.wasm");
  EXPECT_EQ((*read)[1].kind, "WorkloadReplicaSet");
  EXPECT_EQ((*read)[1].workload.components[0].name, "b");
  EXPECT_TRUE(mentions((*read)[0].notes, "document 1: Workload one: spec.hostId: 'host-7' noted"))
      << joined((*read)[0].notes);
  EXPECT_TRUE(mentions((*read)[0].notes, "document 3: v1 Service 'two-svc': not a wasmCloud workload, skipped"))
      << joined((*read)[0].notes);
  EXPECT_TRUE(mentions((*read)[1].notes, "document 2: WorkloadReplicaSet two: spec.replicas: 2 noted"))
      << joined((*read)[1].notes);
  EXPECT_TRUE(mentions((*read)[1].notes, "spec.template.labels: {tier=web} noted")) << joined((*read)[1].notes);
}

TEST(ManifestTest, ErrorsNameTheFieldInTheManifestsSpelling) {
  auto read = parse_manifests(R"(
apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: WorkloadDeployment
metadata: {name: bad, color: blue}
spec:
  replicas: many
  artifacts: [{name: a, artifactFrom: {name: x}}]
  template:
    spec:
      components:
        - {name: a, image: a.wasm}
        - name: b
          image: b.wasm
          poolSize: lots
          pool_size: 2
          imagePullPolicy: Sometimes
          imagePullSecret: {name: regcred}
          localResources:
            environment: {configFrom: [{name: env}]}
            allowedHostLoopbackPorts: ["53/udp", "0"]
      hostInterfaces:
        - {namespace: wasi, package: config, interfaces: [store], secretFrom: [{name: s}]}
      volumes: [{name: v, hostPath: {path: /tmp}, ephemeral: {}}]
)",
                              "bad.yaml");
  ASSERT_FALSE(read.ok());
  const std::string& e = read.error().message;
  auto has = [&](const std::string& text) { return e.find(text) != std::string::npos; };
  EXPECT_TRUE(has("bad.yaml:")) << e;
  EXPECT_TRUE(has("metadata.color: unknown field")) << e;
  EXPECT_TRUE(has("spec.replicas: expected an integer, found 'many'")) << e;
  EXPECT_TRUE(has("spec.artifacts: names Artifact objects, which only the operator can read")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[1].poolSize: expected an integer, found 'lots'")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[1].pool_size: unknown field (expected one of: name, image")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[1].imagePullPolicy: 'Sometimes' is not one of")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[1].imagePullSecret: names a Secret")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[1].localResources.environment.configFrom: names ConfigMaps")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[1].localResources.allowedHostLoopbackPorts[0]: '53/udp': only tcp"))
      << e;
  EXPECT_TRUE(has("spec.template.spec.components[1].localResources.allowedHostLoopbackPorts[1]: '0' is not a port"))
      << e;
  EXPECT_TRUE(has("spec.template.spec.hostInterfaces[0].secretFrom: names Secrets")) << e;
  EXPECT_TRUE(has("spec.template.spec.volumes[0]: give exactly one of hostPath and ephemeral")) << e;
}

TEST(ManifestTest, KindAndApiVersionErrors) {
  auto kind =
      parse_manifests("apiVersion: runtime.wasmcloud.dev/v1alpha1\nkind: Host\nmetadata: {name: h}\n", "h.yaml");
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.error().message.find(
                "kind: 'Host' is not a workload (expected Workload, WorkloadReplicaSet or WorkloadDeployment)"),
            std::string::npos)
      << kind.error().message;

  auto version = parse_manifests("apiVersion: runtime.wasmcloud.dev/v1beta1\nkind: Workload\n", "v.yaml");
  ASSERT_FALSE(version.ok());
  EXPECT_NE(
      version.error().message.find(
          "apiVersion: 'runtime.wasmcloud.dev/v1beta1' is not supported (expected runtime.wasmcloud.dev/v1alpha1)"),
      std::string::npos)
      << version.error().message;

  auto other = parse_manifests("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n", "d.yaml");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("no runtime.wasmcloud.dev/v1alpha1 Workload, WorkloadReplicaSet or "
                                       "WorkloadDeployment here (only apps/v1 Deployment 'web')"),
            std::string::npos)
      << other.error().message;

  // Found by fuzz/workload_manifest: a skipped document whose metadata is a scalar.
  auto scalar = parse_manifests("apiVersion: v1\nkind: Service\nmetadata: just text\n", "s.yaml");
  ASSERT_FALSE(scalar.ok());
  EXPECT_NE(scalar.error().message.find("(only v1 Service '')"), std::string::npos) << scalar.error().message;
  auto no_metadata = parse_manifests("apiVersion: v1\nkind: Service\n", "s.yaml");
  ASSERT_FALSE(no_metadata.ok());
  EXPECT_NE(no_metadata.error().message.find("(only v1 Service '')"), std::string::npos) << no_metadata.error().message;

  auto no_template = parse_manifests(
      "apiVersion: runtime.wasmcloud.dev/v1alpha1\nkind: WorkloadReplicaSet\nmetadata: {name: r}\nspec: {replicas: "
      "1}\n",
      "r.yaml");
  ASSERT_FALSE(no_template.ok());
  EXPECT_NE(no_template.error().message.find("spec.template: missing"), std::string::npos)
      << no_template.error().message;

  auto second = parse_manifests(
      "apiVersion: runtime.wasmcloud.dev/v1alpha1\nkind: Workload\nmetadata: {name: a}\nspec: {components: []}\n"
      "---\napiVersion: runtime.wasmcloud.dev/v1alpha1\nkind: Workload\nmetadata: {name: b}\nspec: {hostId: [1]}\n",
      "two.yaml");
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("document 2: spec.hostId: expected a string, found a list"), std::string::npos)
      << second.error().message;

  // Found by fuzz/workload_manifest: aliases standing for billions of nodes.
  std::string bomb = "apiVersion: runtime.wasmcloud.dev/v1alpha1\nkind: Workload\na0: &a0 [x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev + ", " + prev + ", " + prev + ", " +
            prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev + "]\n";
  }
  auto laughs = parse_manifests(bomb, "bomb.yaml");
  ASSERT_FALSE(laughs.ok());
  EXPECT_NE(laughs.error().message.find("bomb.yaml: not read: more than 20000 nodes once its aliases are expanded"),
            std::string::npos)
      << laughs.error().message;
  auto spec_laughs = parse_workload(bomb.substr(bomb.find("a0:")), "bomb.yaml");
  ASSERT_FALSE(spec_laughs.ok());
  EXPECT_NE(spec_laughs.error().message.find("more than 20000 nodes"), std::string::npos)
      << spec_laughs.error().message;

  std::string many = "apiVersion: runtime.wasmcloud.dev/v1alpha1\nkind: Workload\nmetadata: {name: m}\nspec:\n";
  for (int i = 0; i < 150; ++i) many += "  unknown" + std::to_string(i) + ": x\n";
  auto capped = parse_manifests(many, "many.yaml");
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.error().message.find("spec.unknown99: unknown field"), std::string::npos) << capped.error().message;
  EXPECT_NE(capped.error().message.find("(more problems, not listed)"), std::string::npos) << capped.error().message;
  EXPECT_EQ(capped.error().message.find("unknown100:"), std::string::npos) << capped.error().message;

  auto broken = parse_manifests("apiVersion: runtime.wasmcloud.dev/v1alpha1\nkind: [\n", "broken.yaml");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message.rfind("broken.yaml:", 0), 0u) << broken.error().message;
}

// The spec's validation problems (and a start's) come back in the
// manifest's spelling.
TEST(ManifestTest, ValidationProblemsInTheManifestsSpelling) {
  auto read = parse_manifests(R"(
apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: WorkloadDeployment
metadata: {name: Bad}
spec:
  template:
    spec:
      components:
        - {name: a, image: missing.wasm, poolSize: -1,
           localResources: {volumeMounts: [{name: nope, mountPath: relative}], environment: {config: {"A=B": x}}}}
      hostInterfaces: [{namespace: wasi, package: config}]
      service: {image: gone.wasm, localResources: {allowedHosts: [x]}}
      volumes: [{name: h, hostPath: {path: /no/such/dir}}]
)",
                              "bad.yaml");
  ASSERT_TRUE(read.ok()) << read.error().message;
  const Manifest& m = read->front();
  std::string spec_problems;
  for (const auto& p : validate_workload(m.workload, "/nonexistent-stratus-test")) spec_problems += p + "\n";
  std::string e = manifest_message(m, spec_problems);
  auto has = [&](const std::string& text) { return e.find(text) != std::string::npos; };
  EXPECT_TRUE(has("metadata.name: 'Bad' must be")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[0].poolSize: must not be negative")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[0].image: '/nonexistent-stratus-test/missing.wasm' is not a file"))
      << e;
  EXPECT_TRUE(has("spec.template.spec.components[0].localResources.volumeMounts[0].name: no volume named 'nope'")) << e;
  EXPECT_TRUE(has("spec.template.spec.components[0].localResources.volumeMounts[0].mountPath: must be an absolute"))
      << e;
  EXPECT_TRUE(has("spec.template.spec.components[0].localResources.environment.config: 'A=B' cannot name")) << e;
  EXPECT_TRUE(has("spec.template.spec.hostInterfaces[0].interfaces: name at least one interface")) << e;
  EXPECT_TRUE(has("spec.template.spec.service.image: '/nonexistent-stratus-test/gone.wasm' is not a file")) << e;
  EXPECT_TRUE(has("spec.template.spec.volumes[0].hostPath.path: '/no/such/dir' is not a directory")) << e;
  EXPECT_EQ(e.find("wit_world"), std::string::npos) << e;
  EXPECT_EQ(e.find("local_resources"), std::string::npos) << e;

  // A start's problems, one per line, with paths inside the text too.
  EXPECT_EQ(manifest_message(m,
                             "wit_world.host_interfaces[2]: no host offers wasi:foo\nservice: imports x but "
                             "wit_world.host_interfaces does not declare it"),
            "spec.template.spec.hostInterfaces[2]: no host offers wasi:foo\nspec.template.spec.service: imports x but "
            "spec.template.spec.hostInterfaces does not declare it");
  EXPECT_EQ(manifest_path("spec", "wit_world.components[3].local_resources.allowed_ip_name_lookups[0]"),
            "spec.components[3].localResources.allowedIpNameLookups[0]");
  EXPECT_EQ(manifest_path("spec", "wit_world"), "spec");
}

// A file without apiVersion is the snake_case spec, read as before.
TEST(ManifestTest, TheSnakeCaseSpecIsUnchanged) {
  const char* spec = "name: plain\nwit_world: {components: [{name: a, image: a.wasm, pool_size: 2}]}\n";
  EXPECT_FALSE(is_manifest(spec));
  auto read = read_workload_file(spec, "plain.yaml");
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 1u);
  EXPECT_TRUE(read->front().kind.empty());
  EXPECT_EQ(read->front().workload.components[0].pool_size, 2);
  EXPECT_TRUE(read->front().notes.empty());
  EXPECT_EQ(manifest_message(read->front(), "wit_world.components[0].pool_size: x"),
            "wit_world.components[0].pool_size: x");

  auto bad = read_workload_file("name: plain\npoolSize: 2\n", "plain.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("poolSize: unknown field"), std::string::npos) << bad.error().message;

  auto manifest = read_workload_file(kDeployment, "shop.yaml");
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ(manifest->front().kind, "WorkloadDeployment");
}

// Ten bytes the fuzzer found: yaml-cpp 0.7 reads empty documents from them
// without end, so YAML::LoadAll filled memory. They are counted first now.
TEST(ManifestTest, DocumentsWithoutEndAreRefusedNotLoaded) {
  const char bytes[] = {0x2c, '\xff', 0x4f, 0x25, 0x00, 0x46, '\xd8', 0x59, 0x35, 0x00};
  std::string_view text(bytes, sizeof bytes);
  EXPECT_FALSE(is_manifest(text));
  auto read = parse_manifests(text, "endless.yaml");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find("endless.yaml: not read: more than 1000 YAML documents"), std::string::npos)
      << read.error().message;
  EXPECT_FALSE(read_workload_file(text, "endless.yaml").ok());
}

}  // namespace
}  // namespace stratus::workload
