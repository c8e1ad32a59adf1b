// The workload runtime end to end: the example workload (examples/counter
// linked to examples/greeter, keyvalue on SQLite) behind the router, routing
// by host and path, start errors, stop, and a service with volumes that is
// restarted until it succeeds.
#include <atomic>
#include <fstream>
#include <sstream>

#include "engine/aot/aot_stats.h"
#include "plugins/message_broker.h"
#include "tests/workload/runtime_fixture.h"

namespace stratus::workload {
namespace {

using test_host::counter_yaml;
using test_host::example;
using test_host::get;
using test_host::WorkloadRuntimeTest;
namespace fs = std::filesystem;

TEST_F(WorkloadRuntimeTest, TheExampleWorkloadCountsThroughItsLinkAndLogs) {
  auto began = std::chrono::steady_clock::now();
  auto id = start(counter_yaml("counter"));
  ASSERT_TRUE(id) << id.error().message;
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  std::printf("workload start: %.0f ms (aot)\n", ms);
  EXPECT_EQ(*id, "test/counter");
  auto status = host_->status(*id);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, WorkloadState::kRunning);
  EXPECT_EQ(status->routes, (std::vector<std::string>{"*/"}));

  auto one = get(port_, "/");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body, "Hello, tester! This page has had 1 visit.\n") << "greeting from the linked greeter";
  EXPECT_EQ(get(port_, "/").body, "Hello, tester! This page has had 2 visits.\n");
  EXPECT_EQ(get(port_, "/count").body, "2\n");
  EXPECT_EQ(get(port_, "/other").status, 404);
  EXPECT_TRUE(logged("test/counter counter visit 2"));
}

TEST_F(WorkloadRuntimeTest, ProvidersAreMadeOnTheirFirstCallAndIdleMembersNever) {
  // Eight more members nobody links or routes to (copies of a command);
  // one counter instance, which every request reuses.
  std::string y = counter_yaml("lazy");
  y.replace(y.find("      local_resources:"), 0, "      max_concurrency: 1\n");
  std::string idle;
  for (int i = 0; i < 8; ++i)
    idle += "    - name: idle" + std::to_string(i) + "\n      image: " + std::string(STRATUS_SERVICE_COMPONENT) + "\n";
  y.replace(y.find("  host_interfaces:"), 0, idle);
  auto id = start(y);
  ASSERT_TRUE(id) << id.error().message;
  auto made = [&](const std::string& member) { return host_->status(*id)->instances_made.at(member); };
  EXPECT_EQ(made("counter"), 1u) << "the router's warm instance";
  EXPECT_EQ(made("greeter"), 0u) << "a provider is made when first called, not at start";
  EXPECT_EQ(get(port_, "/count").body, "0\n");
  EXPECT_EQ(made("greeter"), 0u) << "GET /count does not greet";
  EXPECT_EQ(get(port_, "/").body, "Hello, tester! This page has had 1 visit.\n");
  EXPECT_EQ(made("greeter"), 1u);
  EXPECT_EQ(get(port_, "/").body, "Hello, tester! This page has had 2 visits.\n");
  EXPECT_EQ(made("greeter"), 1u) << "started over with the counter's instance, not made anew";
  for (int i = 0; i < 8; ++i) EXPECT_EQ(made("idle" + std::to_string(i)), 0u);
}

TEST_F(WorkloadRuntimeTest, WorkersOfTheSameComponentShareItsCompiledCode) {
  // The routed member is compiled once, ahead, while the rest of its
  // workload is read; its workers and another workload's take that code
  // as it is: no decode, no cache lookup, no compiler.
  auto spec = [](const std::string& name) {
    std::string y = counter_yaml(name, "host: " + name + ".test");
    y.replace(y.find("      local_resources:"), 0, "      pool_size: 3\n      max_concurrency: 3\n");
    return y;
  };
  ASSERT_TRUE(start(spec("first")));
  auto before = *engine::aot_stats(*engine_);
  auto id = start(spec("second"));
  ASSERT_TRUE(id) << id.error().message;
  auto after = *engine::aot_stats(*engine_);
  EXPECT_EQ(after.compiler_runs, before.compiler_runs);
  EXPECT_EQ(after.cache_hits, before.cache_hits) << "three more workers, no load of the counter's code";
  EXPECT_EQ(get(port_, "/count", "second.test").body, "0\n");
  EXPECT_EQ(get(port_, "/count", "first.test").body, "0\n");
}

TEST_F(WorkloadRuntimeTest, TheCountSurvivesARestartOfTheHost) {
  ASSERT_TRUE(start(counter_yaml("counter")));
  EXPECT_EQ(get(port_, "/").status, 200);
  EXPECT_EQ(get(port_, "/").status, 200);
  stop_host();
  start_host();
  auto id = start(counter_yaml("counter"));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(get(port_, "/").body, "Hello, tester! This page has had 3 visits.\n");
}

TEST_F(WorkloadRuntimeTest, EachInstanceStartsOverButTheStoreDoesNot) {
  // max_invocations 1: every request gets a new worker; pool and
  // concurrency bounds hold under parallel clients.
  std::string y = counter_yaml("counter");
  y.replace(y.find("      local_resources:"), 0,
            "      pool_size: 2\n      max_invocations: 1\n      max_concurrency: 2\n");
  auto id = start(y);
  ASSERT_TRUE(id) << id.error().message;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 5; ++i) ok += get(port_, "/").status == 200 ? 1 : 0;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(get(port_, "/count").body, "20\n");
}

TEST_F(WorkloadRuntimeTest, RequestsGoByHostAndPathPrefixAndTheRestGetAHelpful404) {
  ASSERT_TRUE(start(counter_yaml("by-host", "host: counter.test")));
  std::string hello = "namespace: test\nname: hello\nwit_world:\n  components:\n    - name: hello\n      image: " +
                      example("http-hello") +
                      "\n  host_interfaces:\n    - {namespace: wasi, package: http, interfaces: [incoming-handler], "
                      "config: {path_prefix: /greet}}\n";
  auto id = start(hello);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(get(port_, "/count", "Counter.Test:8080").body, "0\n") << "host without case and port";
  EXPECT_EQ(get(port_, "/greet", "elsewhere").status, 404) << "http-hello answers only / (its own 404)";
  auto miss = get(port_, "/nothing", "elsewhere");
  EXPECT_EQ(miss.status, 404);
  EXPECT_NE(miss.body.find("nothing here serves elsewhere/nothing"), std::string::npos) << miss.body;
  EXPECT_NE(miss.body.find("counter.test / -> test/by-host"), std::string::npos) << miss.body;
  EXPECT_NE(miss.body.find("* /greet -> test/hello"), std::string::npos) << miss.body;
  EXPECT_NE(get(port_, "/greetings", "elsewhere").body.find("nothing here serves"), std::string::npos)
      << "a prefix takes whole path segments";

  auto taken = start(counter_yaml("again", "host: counter.test"));
  ASSERT_FALSE(taken);
  EXPECT_NE(taken.error().message.find("is test/by-host's"), std::string::npos) << taken.error().message;
}

TEST_F(WorkloadRuntimeTest, StartErrorsNameWhatIsMissing) {
  auto no_kv = start(counter_yaml("a", "", "", true, false));
  ASSERT_FALSE(no_kv);
  EXPECT_NE(no_kv.error().message.find("wit_world.components[0] (counter): imports wasi:keyvalue/store@0.2.0-draft, "
                                       "which neither the host nor another component of the workload provides"),
            std::string::npos)
      << no_kv.error().message;
  auto no_atomics = start(counter_yaml("b", "", "[store]"));
  ASSERT_FALSE(no_atomics);
  EXPECT_NE(no_atomics.error().message.find("imports wasi:keyvalue/atomics@0.2.0-draft"), std::string::npos);
  auto no_greeter = start(counter_yaml("c", "", "[store, atomics]", false));
  ASSERT_FALSE(no_greeter);
  EXPECT_NE(no_greeter.error().message.find("imports example:greeter/greet@0.1.0"), std::string::npos);
  std::string lacking = counter_yaml("d");
  lacking += "    - {namespace: wasi, package: blobstore-y, interfaces: [container]}\n";
  auto unknown = start(lacking);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("wit_world.host_interfaces[4]: the host has no wasi:blobstore-y"),
            std::string::npos)
      << unknown.error().message;
  std::string bad_route = counter_yaml("e", "hots: x");
  auto typo = start(bad_route);
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("wit_world.host_interfaces[0].config.hots"), std::string::npos);
  EXPECT_TRUE(host_->list().empty()) << "nothing half-started stays";
  EXPECT_EQ(get(port_, "/").status, 404);

  ASSERT_TRUE(start(counter_yaml("f")));
  auto twice = start(counter_yaml("f"));
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("workload test/f is already running"), std::string::npos);
}

// A WASI 0.3 HTTP component (the wasi-testsuite's http-service) behind a
// workload; and the start errors of a workload whose wasi:http version no
// component serves, or the host does not.
TEST_F(WorkloadRuntimeTest, WasiP3HandlersAreRoutedAndVersionMismatchesAreStartErrors) {
  auto yaml = [](const std::string& name, const std::string& version) {
    return "namespace: test\nname: " + name +
           "\nwit_world:\n  components:\n    - name: svc\n      image: " + std::string(STRATUS_FIXTURES_DIR) +
           "/wasi-testsuite/rust/testsuite/wasm32-wasip3/http-service.wasm\n" +
           "  host_interfaces:\n    - {namespace: wasi, package: http, version: " + version +
           ", interfaces: [handler]}\n";
  };
  ASSERT_TRUE(start(yaml("p3", "0.3.0")));
  auto ok = get(port_, "/");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hey\n");
  EXPECT_EQ(get(port_, "/whatever").status, 404);  // the guest's own 404

  auto p2 = start(yaml("p2", "0.2.0"));
  ASSERT_FALSE(p2);
  EXPECT_NE(
      p2.error().message.find("wasi:http@0.2.0 is asked for but no component exports "
                              "wasi:http/incoming-handler@0.2.x (svc exports wasi:http/handler@0.3.0-rc-2026-03-15)"),
      std::string::npos)
      << p2.error().message;
  auto p4 = start(yaml("p4", "0.4.0"));
  ASSERT_FALSE(p4);
  EXPECT_NE(p4.error().message.find("wit_world.host_interfaces[0]: wasi:http@0.4.0 is not served by this host"),
            std::string::npos)
      << p4.error().message;
}

TEST_F(WorkloadRuntimeTest, StopRemovesTheRoutesAndForgetsTheWorkload) {
  auto id = start(counter_yaml("counter"));
  ASSERT_TRUE(id);
  EXPECT_EQ(get(port_, "/").status, 200);
  ASSERT_TRUE(host_->stop(*id));
  EXPECT_FALSE(host_->status(*id));
  EXPECT_EQ(get(port_, "/").status, 404);
  EXPECT_FALSE(host_->stop(*id)) << "no such workload";
  EXPECT_TRUE(start(counter_yaml("counter"))) << "the same id may start again";
}

TEST_F(WorkloadRuntimeTest, MemoryLimitMbCapsWhatAnInstanceMayTake) {
  std::string y = "namespace: test\nname: mem\nwit_world:\n  components:\n    - name: echo\n      image: " +
                  std::string(STRATUS_ECHO_COMPONENT) +
                  "\n      local_resources: {memory_limit_mb: 8}\n  host_interfaces:\n"
                  "    - {namespace: wasmcloud, package: messaging, interfaces: [consumer, handler], "
                  "config: {subscriptions: \"mem.>\"}}\n";
  auto id = start(y);
  ASSERT_TRUE(id) << id.error().message;
  auto small = host_->broker()->request("mem.a", {'g', 'r', 'o', 'w', ':', '2'}, std::chrono::seconds(20));
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(std::string(small->body.begin(), small->body.end()), "grew 2 MiB");
  auto big = host_->broker()->request("mem.b", {'g', 'r', 'o', 'w', ':', '3', '2'}, std::chrono::seconds(3));
  EXPECT_FALSE(big) << "32 MiB is past the 8 MiB limit";
  EXPECT_TRUE(host_logged("test/mem/echo: handle-message on mem.b: ")) << "the failed instance is logged";
  auto again = host_->broker()->request("mem.c", {'g', 'r', 'o', 'w', ':', '1'}, std::chrono::seconds(20));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(std::string(again->body.begin(), again->body.end()), "grew 1 MiB") << "a new instance serves on";
}

class ServiceTest : public WorkloadRuntimeTest {
 protected:
  std::string service_yaml(int runs_before_success, int max_restarts) {
    fs::create_directories(dir_ / "data");
    fs::create_directories(dir_ / "ro");
    std::ofstream(dir_ / "ro" / "hello.txt") << "hi\n";
    std::ostringstream y;
    y << "name: svc\nservice:\n  image: " << STRATUS_SERVICE_COMPONENT << "\n  max_restarts: " << max_restarts
      << "\n  local_resources:\n    environment: {RUNS_BEFORE_SUCCESS: \"" << runs_before_success << "\"}\n"
      << "    volume_mounts:\n      - {name: data, mount_path: /data}\n      - {name: scratch, mount_path: /scratch}\n"
      << "      - {name: ro, mount_path: /ro, read_only: true}\n"
      << "volumes:\n  - {name: data, host_path: {local_path: data}}\n  - {name: scratch, empty_dir: {}}\n"
      << "  - {name: ro, host_path: {local_path: ro}}\n";
    return y.str();
  }
  std::string report() {
    std::ifstream in(dir_ / "data" / "report.txt");
    std::string line;
    std::getline(in, line);
    return line;
  }
};

TEST_F(ServiceTest, AFailingServiceIsRestartedWithBackOffUntilItSucceeds) {
  auto began = std::chrono::steady_clock::now();
  auto id = start(service_yaml(3, 5));
  ASSERT_TRUE(id) << id.error().message;
  auto s = wait_for(*id, WorkloadState::kCompleted);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, WorkloadState::kCompleted) << state_name(s->state) << ": " << s->message;
  EXPECT_EQ(s->service_restarts, 2u);
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(300)) << "100 ms, then 200 ms";
  EXPECT_EQ(report(), "runs=3 scratch=ok ro-write=denied ro-read=ok");
  fs::path scratch = dir_ / "data" / "empty_dir" / "default" / "svc" / "scratch";
  EXPECT_TRUE(fs::exists(scratch / "x")) << "the empty_dir is the workload's own folder";
  ASSERT_TRUE(host_->stop(*id));
  EXPECT_FALSE(fs::exists(scratch)) << "removed at stop";
}

TEST_F(ServiceTest, AServiceThatKeepsFailingEndsInError) {
  auto id = start(service_yaml(100, 1));
  ASSERT_TRUE(id) << id.error().message;
  auto s = wait_for(*id, WorkloadState::kError);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, WorkloadState::kError);
  EXPECT_NE(s->message.find("the service exited with code 1 (restarted 1 times, max_restarts 1)"), std::string::npos)
      << s->message;
  EXPECT_EQ(report().substr(0, 6), "runs=2");
}

}  // namespace
}  // namespace stratus::workload
