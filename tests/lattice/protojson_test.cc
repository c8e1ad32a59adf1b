// protojson as the runtime-operator writes and reads it (lattice/protojson.h),
// checked against what libprotobuf 3.21 does with each rule, and the proto
// Workload mapped onto the workload spec (lattice/workload_proto.h).
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>

#include "lattice/protojson.h"
#include "lattice/workload_proto.h"
#include "tests/support/temp_dir.h"

namespace stratus::lattice {
namespace {

namespace v2 = wasmcloud::runtime::v2;

TEST(ProtojsonTest, ReadsLowerCamelCaseAndSnakeCase) {
  v2::WorkloadStartRequest camel, snake;
  ASSERT_TRUE(from_json(R"({"workloadId":"u1","workload":{"witWorld":{"components":[{"name":"a","poolSize":3,
      "maxConcurrency":4,"localResources":{"memoryLimitMb":64,"allowedHostLoopbackPorts":["5432"]}}],
      "hostInterfaces":[{"namespace":"wasi","package":"http","interfaces":["incoming-handler"]}]}}})",
                        camel));
  ASSERT_TRUE(from_json(R"({"workload_id":"u1","workload":{"wit_world":{"components":[{"name":"a","pool_size":3,
      "max_concurrency":4,"local_resources":{"memory_limit_mb":64,"allowed_host_loopback_ports":["5432"]}}],
      "host_interfaces":[{"namespace":"wasi","package":"http","interfaces":["incoming-handler"]}]}}})",
                        snake));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(camel, snake));
  EXPECT_EQ(camel.workload_id(), "u1");
  EXPECT_EQ(camel.workload().wit_world().components(0).pool_size(), 3);
  EXPECT_EQ(camel.workload().wit_world().components(0).local_resources().allowed_host_loopback_ports(0), "5432");
}

TEST(ProtojsonTest, WritesLowerCamelCaseEnumsByNameInt64AsStringsTimestampsAsRfc3339) {
  v2::HostHeartbeat hb;
  hb.set_friendly_name("h");
  hb.set_system_memory_total(123456789012ULL);
  hb.set_component_count(2);
  hb.mutable_started_at()->set_seconds(1700000000);
  hb.mutable_started_at()->set_nanos(5000);
  std::string json = to_json(hb);
  EXPECT_NE(json.find(R"("friendlyName":"h")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("systemMemoryTotal":"123456789012")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("componentCount":"2")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("startedAt":"2023-11-14T22:13:20.000005Z")"), std::string::npos) << json;

  v2::WorkloadStatusResponse r;
  r.mutable_workload_status()->set_workload_state(v2::WORKLOAD_STATE_NOT_FOUND);
  EXPECT_EQ(to_json(r), R"({"workloadStatus":{"workloadState":"WORKLOAD_STATE_NOT_FOUND"}})");

  v2::HostHeartbeat back;
  ASSERT_TRUE(from_json(json, back));
  EXPECT_EQ(back.started_at().nanos(), 5000);
  EXPECT_EQ(back.system_memory_total(), 123456789012ULL);
}

TEST(ProtojsonTest, ReadsEnumsByNameAndNumber) {
  v2::WorkloadStartRequest r;
  ASSERT_TRUE(from_json(R"({"workload":{"service":{"imagePullPolicy":"IMAGE_PULL_POLICY_NEVER"},
      "witWorld":{"components":[{"imagePullPolicy":2}]}}})",
                        r));
  EXPECT_EQ(r.workload().service().image_pull_policy(), v2::IMAGE_PULL_POLICY_NEVER);
  EXPECT_EQ(r.workload().wit_world().components(0).image_pull_policy(), v2::IMAGE_PULL_POLICY_IF_NOT_PRESENT);
}

TEST(ProtojsonTest, IgnoresUnknownFields) {
  v2::WorkloadStatusRequest r;
  ASSERT_TRUE(from_json(R"({"workloadId":"w","fromANewerOperator":{"x":[1,2]},"another":true})", r));
  EXPECT_EQ(r.workload_id(), "w");
}

TEST(ProtojsonTest, UnknownFieldsAreIgnoredAtEveryDepthAndUnknownEnumNamesAreNot) {
  v2::WorkloadStartRequest r;
  ASSERT_TRUE(from_json(R"({"zzz":1,"workload":{"new":{"a":[1]},"witWorld":{"components":[{"later":true,"name":"c",
      "localResources":{"config":{"k":"v","deep":"x"},"gpu":"1"}}]}}})",
                        r));
  EXPECT_EQ(r.workload().wit_world().components(0).name(), "c");
  EXPECT_EQ(r.workload().wit_world().components(0).local_resources().config().at("deep"), "x")
      << "a map's keys are data, not fields";
  // libprotobuf's own lenient read would drop this enum name with the
  // unknown field before it.
  auto bad =
      from_json(R"({"aNewerField":{"x":1},"workload":{"later":1,"service":{"imagePullPolicy":"SOMETIMES"}}})", r);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("image_pull_policy"), std::string::npos) << bad.error().message;
}

TEST(ProtojsonTest, RefusesBodiesNestedTooDeep) {
  v2::WorkloadStatusRequest r;
  std::string deep = R"({"workloadId":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto read = from_json(deep, r);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find("nested"), std::string::npos) << read.error().message;
  EXPECT_TRUE(
      from_json(R"({"workloadId":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})", r))
      << "brackets in a string are text";
}

TEST(ProtojsonTest, ErrorsNameTheField) {
  v2::WorkloadStartRequest r;
  auto bad_int = from_json(R"({"workload":{"witWorld":{"components":[{"name":"a"},{"poolSize":"many"}]}}})", r);
  ASSERT_FALSE(bad_int);
  EXPECT_NE(bad_int.error().message.find("workload.wit_world.components[1].pool_size"), std::string::npos)
      << bad_int.error().message;

  auto bad_enum = from_json(R"({"workload":{"service":{"imagePullPolicy":"SOMETIMES"}}})", r);
  ASSERT_FALSE(bad_enum) << "an unknown enum name is not an unknown field";
  EXPECT_NE(bad_enum.error().message.find("image_pull_policy"), std::string::npos) << bad_enum.error().message;

  auto negative = from_json(R"({"workload":{"service":{"maxRestarts":"-1"}}})", r);
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message.find("workload.service.max_restarts"), std::string::npos);

  auto two_kinds = from_json(R"({"workload":{"volumes":[{"name":"v","hostPath":{},"emptyDir":{}}]}})", r);
  ASSERT_FALSE(two_kinds);
  EXPECT_NE(two_kinds.error().message.find("workload.volumes[0]"), std::string::npos) << two_kinds.error().message;

  EXPECT_FALSE(from_json("not json", r));
  EXPECT_FALSE(from_json(R"({"workloadId":"\ud800"})", r));
  EXPECT_FALSE(from_json(R"([1,2])", r));
  EXPECT_FALSE(from_json(std::string(kMaxRequestBytes + 1, ' '), r));
}

TEST(WorkloadProtoTest, MapsEveryFieldOntoTheSpec) {
  v2::Workload w;
  ASSERT_TRUE(from_json(R"({"namespace":"ns","name":"app","annotations":{"a":"b"},
      "service":{"image":"/s.wasm","maxRestarts":"3","localResources":{"environment":{"E":"1"}},
                 "imagePullSecret":{"username":"u","password":"p"},"imagePullPolicy":"IMAGE_PULL_POLICY_ALWAYS"},
      "witWorld":{"components":[{"name":"c","image":"/c.wasm","poolSize":2,"maxInvocations":0,"maxConcurrency":-1,
          "localResources":{"memoryLimitMb":32,"cpuLimit":0,"config":{"k":"v"},"allowedHosts":["a.example"],
            "allowedIpNameLookups":["*"],"allowedHostLoopbackPorts":["5432","6379/tcp"],
            "volumeMounts":[{"name":"data","mountPath":"/data","readOnly":true}]}}],
        "hostInterfaces":[{"namespace":"wasi","package":"keyvalue","version":"0.2.0-draft","interfaces":["store"],
          "config":{"backend":"sqlite"},"name":"cache"}]},
      "volumes":[{"name":"data","emptyDir":{}},{"name":"h","hostPath":{"localPath":"/tmp"}}]})",
                        w));
  auto spec = to_workload(w);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->ns, "ns");
  EXPECT_EQ(spec->annotations.at("a"), "b");
  ASSERT_TRUE(spec->service);
  EXPECT_EQ(spec->service->max_restarts, 3U);
  EXPECT_EQ(spec->service->local_resources.environment.at("E"), "1");
  EXPECT_EQ(spec->service->image_pull_policy, workload::ImagePullPolicy::Always);
  ASSERT_TRUE(spec->service->image_pull_secret);
  EXPECT_EQ(spec->service->image_pull_secret->username, "u");
  EXPECT_EQ(spec->service->image_pull_secret->password, "p");
  ASSERT_EQ(spec->components.size(), 1U);
  const auto& c = spec->components[0];
  EXPECT_EQ(c.image_pull_policy, workload::ImagePullPolicy::Unspecified);
  EXPECT_FALSE(c.image_pull_secret);
  EXPECT_EQ(c.pool_size, 2);
  EXPECT_FALSE(c.max_invocations) << "0 is unset on the wire";
  EXPECT_FALSE(c.max_concurrency) << "below 1 is unset on the wire";
  EXPECT_EQ(c.local_resources.memory_limit_mb, 32);
  EXPECT_FALSE(c.local_resources.cpu_limit);
  EXPECT_EQ(c.local_resources.allowed_host_loopback_ports, (std::vector<uint16_t>{5432, 6379}));
  ASSERT_EQ(c.local_resources.volume_mounts.size(), 1U);
  EXPECT_TRUE(c.local_resources.volume_mounts[0].read_only);
  ASSERT_EQ(spec->host_interfaces.size(), 1U);
  EXPECT_EQ(spec->host_interfaces[0].name, "cache");
  EXPECT_EQ(spec->host_interfaces[0].config.at("backend"), "sqlite");
  ASSERT_EQ(spec->volumes.size(), 2U);
  EXPECT_EQ(spec->volumes[0].kind, workload::Volume::Kind::EmptyDir);
  EXPECT_EQ(spec->volumes[1].kind, workload::Volume::Kind::HostPath);
  EXPECT_EQ(spec->volumes[1].local_path, "/tmp");
}

TEST(WorkloadProtoTest, ReportsEveryProblemWithItsFieldPath) {
  v2::Workload w;
  ASSERT_TRUE(from_json(R"({"name":"Bad Name","witWorld":{"components":[{"name":"c","image":"/nonexistent/c.wasm",
      "localResources":{"allowedHostLoopbackPorts":["53/udp","http","70000"]}}]},
      "volumes":[{"name":"v"}]})",
                        w));
  auto problems = check_workload(w, "/");
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  for (const char* want :
       {"name: 'Bad Name' must be lowercase", "wit_world.components[0].image: '/nonexistent/c.wasm' is not a file",
        "wit_world.components[0].local_resources.allowed_host_loopback_ports[0]: '53/udp': only tcp",
        "wit_world.components[0].local_resources.allowed_host_loopback_ports[1]: 'http' is not a port",
        "wit_world.components[0].local_resources.allowed_host_loopback_ports[2]: '70000' is not a port",
        "volumes[0]: give exactly one of host_path and empty_dir"}) {
    EXPECT_NE(all.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << all;
  }
  EXPECT_FALSE(to_workload(w));
}

TEST(WorkloadProtoTest, ValidationMatchesTheYamlSpecReader) {
  // The same workload as YAML and as protojson: the same problems.
  test_support::TempDir dir("stratus-lattice");
  auto yaml = workload::parse_workload(
      "name: x\nwit_world:\n  components:\n    - {name: a, image: missing.wasm, pool_size: 1}\n"
      "    - {name: a, image: missing.wasm}\n  host_interfaces:\n    - {namespace: wasi, package: ''}\n",
      "x.yaml");
  ASSERT_TRUE(yaml) << yaml.error().message;
  v2::Workload w;
  ASSERT_TRUE(from_json(R"({"name":"x","witWorld":{"components":[{"name":"a","image":"missing.wasm","poolSize":1},
      {"name":"a","image":"missing.wasm"}],"hostInterfaces":[{"namespace":"wasi","package":""}]}})",
                        w));
  EXPECT_EQ(check_workload(w, dir.path().string()), workload::validate_workload(*yaml, dir.path().string()));
  EXPECT_FALSE(check_workload(w, dir.path().string()).empty());
}

}  // namespace
}  // namespace stratus::lattice
