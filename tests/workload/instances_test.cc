// stratus:workload/instances: a workload's service (guests/instances-service)
// makes instances of the other members at run time, calls them with WAVE
// text and drops them; the errors it gets; the grants a made instance has
// (its member's, not the service's); the cap on live instances; who may
// import the interface. On both engine backends.
#include "tests/workload/runtime_fixture.h"

namespace stratus::workload {
namespace {

using test_host::WorkloadRuntimeTest;

class InstancesTest : public WorkloadRuntimeTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string engine_name() const override { return GetParam(); }

  // The workload: greeter and probe as members, the instances service
  // running `scenario`; `declare`: whether it asks for stratus:workload.
  static std::string yaml(const std::string& name, const std::string& scenario, bool declare = true,
                          const std::string& extra_member = "") {
    std::string y = "namespace: test\nname: " + name + "\nwit_world:\n  components:\n";
    y += "    - name: greeter\n      image: " + test_host::example("greeter") + "\n";
    y += "    - name: probe\n      image: " + std::string(STRATUS_PROBE_COMPONENT) +
         "\n      max_concurrency: 3\n      local_resources:\n        memory_limit_mb: 32\n        config: {mine: "
         "\"yes\"}\n";
    y += extra_member;
    y += "  host_interfaces:\n";
    y += "    - {namespace: wasi, package: config, interfaces: [store]}\n";
    y += "    - {namespace: wasi, package: logging, interfaces: [logging]}\n";
    if (declare) y += "    - {namespace: stratus, package: workload, interfaces: [instances]}\n";
    y += "service:\n  image: " + std::string(STRATUS_INSTANCES_SERVICE_COMPONENT) +
         "\n  local_resources:\n    config: {scenario: " + scenario + ", secret: s3cret}\n";
    return y;
  }

  // Runs `scenario` to its end; the service's "KEY: TEXT" lines by key.
  std::map<std::string, std::string> run(const std::string& scenario) {
    auto id = start(yaml(scenario, scenario));
    EXPECT_TRUE(id) << id.error().message;
    if (!id) return {};
    auto s = wait_for(*id, WorkloadState::kCompleted);
    EXPECT_TRUE(s && s->state == WorkloadState::kCompleted) << (s ? s->message : "gone");
    made_ = s ? s->instances_made : std::map<std::string, uint64_t>{};
    std::map<std::string, std::string> lines;
    std::string prefix = *id + " service ";
    std::lock_guard lock(log_mu_);
    for (const auto& l : logs_) {
      if (l.rfind(prefix, 0) != 0) continue;
      std::string rest = l.substr(prefix.size());
      auto colon = rest.find(": ");
      if (colon != std::string::npos) lines[rest.substr(0, colon)] = rest.substr(colon + 2);
    }
    EXPECT_EQ(lines["done"], scenario);
    return lines;
  }

  std::map<std::string, uint64_t> made_;
};

TEST_P(InstancesTest, TheServiceMakesCallsAndDropsInstancesOfOtherMembers) {
  auto out = run("greet");
  EXPECT_EQ(out["member"], "greeter");
  EXPECT_EQ(out["greet"], "\"Hello, Ada!\"");
  EXPECT_EQ(out["add1"], "(5, 1)");
  EXPECT_EQ(out["add2"], "(7, 2)") << "the same instance: its state lives between calls";
  EXPECT_EQ(out["add3"], "(2, 1)") << "dropped, then a new instance";
  EXPECT_EQ(made_["greeter"], 1u);
  EXPECT_EQ(made_["probe"], 2u) << "instances_made counts what create made";
  EXPECT_EQ(made_["service"], 1u);
}

TEST_P(InstancesTest, AMadeInstanceHasItsMembersMemoryLimitAndItsAsyncExportsAnswer) {
  auto out = run("memory");
  EXPECT_EQ(out["grow-1mib"], "true");
  EXPECT_EQ(out["grow-64mib"], "false") << "the probe's memory_limit_mb is 32; the service has no limit";
  EXPECT_EQ(out["add-async"], "42");
}

TEST_P(InstancesTest, ErrorsSayWhatWentWrongAndTheServiceGoesOn) {
  auto out = run("errors");
  EXPECT_EQ(out["unknown"], "err: no component named `nope` in test/errors (it has greeter, probe)");
  EXPECT_EQ(out["itself"], "err: the service cannot make an instance of itself");
  EXPECT_NE(out["bad-args"].find("err: test:probe/probe#add: arguments: "), std::string::npos) << out["bad-args"];
  EXPECT_NE(out["bad-args"].find("at byte 3"), std::string::npos) << out["bad-args"];
  EXPECT_NE(out["few-args"].find("err: test:probe/probe#add: arguments: "), std::string::npos) << out["few-args"];
  EXPECT_EQ(out["no-function"],
            "err: no exported function `test:probe/probe#nope` (name it \"iface#name\" or a world-level function)");
  EXPECT_NE(out["boom"].find("err: test:probe/probe#boom: trap: "), std::string::npos) << out["boom"];
  EXPECT_NE(out["after-trap"].find("err: this instance of probe trapped before"), std::string::npos)
      << out["after-trap"];
}

TEST_P(InstancesTest, AMadeInstanceHasItsMembersGrantsNotTheServices) {
  auto out = run("grants");
  EXPECT_EQ(out["service-secret"], "s3cret");
  EXPECT_EQ(out["probe-secret"], "none") << "the service's config is not the probe's";
  EXPECT_EQ(out["probe-mine"], "some(\"yes\")");
}

TEST_P(InstancesTest, LiveInstancesAreCappedAtTheMembersMaxConcurrency) {
  auto out = run("cap");
  EXPECT_EQ(out["cap"],
            "3 made, then err: already 3 instances of probe alive, at most 3 at once (its max_concurrency): drop "
            "one first");
  EXPECT_EQ(made_["probe"], 3u);
}

TEST_P(InstancesTest, OnlyTheServiceMayImportItAndOnlyWhenTheWorkloadDeclaresIt) {
  auto undeclared = start(yaml("undeclared", "greet", /*declare=*/false));
  ASSERT_FALSE(undeclared);
  EXPECT_NE(undeclared.error().message.find("service: imports stratus:workload/instances@0.1.0 but "
                                            "wit_world.host_interfaces does not declare {namespace: stratus, "
                                            "package: workload, interfaces: [instances]}"),
            std::string::npos)
      << undeclared.error().message;
  auto member =
      start(yaml("member", "greet", true,
                 "    - name: spawner\n      image: " + std::string(STRATUS_INSTANCES_SERVICE_COMPONENT) + "\n"));
  ASSERT_FALSE(member);
  EXPECT_NE(member.error().message.find("wit_world.components[2] (spawner): imports "
                                        "stratus:workload/instances@0.1.0, which only the workload's service may use"),
            std::string::npos)
      << member.error().message;
}

TEST_P(InstancesTest, StoppingTheWorkloadInterruptsACallIntoAMadeInstance) {
  auto id = start(yaml("spin", "spin"));
  ASSERT_TRUE(id) << id.error().message;
  for (int i = 0; i < 2000 && host_->status(*id)->instances_made["probe"] == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(host_->status(*id)->instances_made["probe"], 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // well inside spin
  auto began = std::chrono::steady_clock::now();
  ASSERT_TRUE(host_->stop(*id));
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5))
      << "not the 30 s call timeout: the made instance's call is interrupted";
}

INSTANTIATE_TEST_SUITE_P(Backends, InstancesTest, ::testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::workload
