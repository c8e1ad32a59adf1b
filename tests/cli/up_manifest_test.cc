// `stratus up` with wasmCloud's Kubernetes kinds as written (modelled on the
// runtime-operator's config/samples): a Workload, a WorkloadReplicaSet and
// a WorkloadDeployment (beside a v1 Service, in one file) start and serve
// in one `stratus up` process, their placement fields noted on stderr; a
// bad manifest is refused with the field in the manifest's spelling.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <utility>

#include "tests/cli/run_stratus.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace stratus::cli {
namespace {

using namespace std::chrono_literals;

// GET / with a Host header: the status and the body (-1 when no answer).
std::pair<int, std::string> get_host(uint16_t port, const std::string& host) {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, host);
    req.keep_alive(false);
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return {static_cast<int>(res.result_int()), res.body()};
  } catch (const std::exception& e) {
    return {-1, e.what()};
  }
}

const std::string kExamples = STRATUS_EXAMPLES_DIR;

std::string workload_yaml() {
  return R"(apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: Workload
metadata:
  name: hello
  namespace: manifests
spec:
  hostId: some-host
  hostInterfaces:
    - namespace: wasi
      package: http
      interfaces: [incoming-handler]
      config: {host: workload.test}
  components:
    - name: hello
      image: )" +
         kExamples +
         R"(/http-hello.wasm
)";
}

std::string replicaset_yaml() {
  return R"(apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: WorkloadReplicaSet
metadata:
  name: hello-rs
spec:
  replicas: 3
  template:
    labels: {app: hello}
    spec:
      hostInterfaces:
        - namespace: wasi
          package: http
          interfaces: [incoming-handler]
          config: {host: replicaset.test}
      components:
        - name: hello
          image: )" +
         kExamples +
         R"(/http-hello.wasm
          poolSize: 1
)";
}

// The example counter and the greeter it links to, with a Kubernetes
// Service in front as the operator's service sample has it.
std::string deployment_yaml() {
  return R"(apiVersion: v1
kind: Service
metadata:
  name: counter-svc
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: WorkloadDeployment
metadata:
  name: counter
  namespace: manifests
spec:
  replicas: 2
  kubernetes:
    service: {name: counter-svc}
  template:
    spec:
      hostSelector:
        hostgroup: default
      hostInterfaces:
        - namespace: wasi
          package: http
          interfaces: [incoming-handler]
          config: {host: deployment.test}
        - namespace: wasi
          package: keyvalue
          version: 0.2.0-draft
          interfaces: [store, atomics]
        - namespace: wasi
          package: config
          version: 0.2.0-rc.1
          interfaces: [store]
        - namespace: wasi
          package: logging
          version: 0.1.0-draft
          interfaces: [logging]
      components:
        - name: counter
          image: )" +
         kExamples +
         R"(/counter.wasm
          localResources:
            config: {name: manifest}
        - name: greeter
          image: )" +
         kExamples +
         R"(/greeter.wasm
)";
}

// GET until the workload answers 200 (up starts its workloads after it
// listens), at most ~20 s.
std::pair<int, std::string> get_when_ready(uint16_t port, const std::string& host) {
  std::pair<int, std::string> r;
  for (int i = 0; i < 200; ++i) {
    r = get_host(port, host);
    if (r.first == 200) break;
    std::this_thread::sleep_for(100ms);
  }
  return r;
}

TEST(UpManifestTest, EachKindStartsAndServes) {
  test_support::TempDir dir("stratus-up-manifests");
  const auto& d = dir.path();
  std::ofstream(d / "workload.yaml") << workload_yaml();
  std::ofstream(d / "replicaset.yaml") << replicaset_yaml();
  std::ofstream(d / "deployment.yaml") << deployment_yaml();
  uint16_t port = test_support::free_loopback_port();
  test_support::ServerProcess up(
      {STRATUS_BINARY, "up", (d / "workload.yaml").string(), (d / "replicaset.yaml").string(),
       (d / "deployment.yaml").string(), "--addr", "127.0.0.1:" + std::to_string(port), "--engine", "interp",
       "--data-dir", (d / "data").string()},
      port, (d / "up.log").string());
  ASSERT_TRUE(up.running()) << test_support::read_text(d / "up.log");

  auto workload = get_when_ready(port, "workload.test");
  EXPECT_EQ(workload.first, 200) << test_support::read_text(d / "up.log");
  EXPECT_EQ(workload.second, "Hello from stratus!\n");
  auto replicaset = get_when_ready(port, "replicaset.test");
  EXPECT_EQ(replicaset.first, 200) << test_support::read_text(d / "up.log");
  EXPECT_EQ(replicaset.second, "Hello from stratus!\n");
  auto deployment = get_when_ready(port, "deployment.test");
  EXPECT_EQ(deployment.first, 200) << test_support::read_text(d / "up.log");
  EXPECT_EQ(deployment.second, "Hello, manifest! This page has had 1 visit.\n");
  // The Service's names reach the same workload, as the operator's host-aliases make them.
  auto aliased = get_host(port, "counter-svc.manifests.svc");
  EXPECT_EQ(aliased.first, 200) << aliased.second;
  EXPECT_EQ(aliased.second, "Hello, manifest! This page has had 2 visits.\n");

  std::string log = test_support::read_text(d / "up.log");
  auto logged = [&](const std::string& line) { return log.find(line) != std::string::npos; };
  EXPECT_TRUE(logged("stratus up: " + (d / "workload.yaml").string() +
                     ": Workload hello: spec.hostId: 'some-host' noted, ignored on one host"))
      << log;
  EXPECT_TRUE(logged("stratus up: " + (d / "replicaset.yaml").string() +
                     ": WorkloadReplicaSet hello-rs: spec.replicas: 3 noted, ignored on one host (it runs one copy)"))
      << log;
  EXPECT_TRUE(logged("WorkloadReplicaSet hello-rs: spec.template.labels: {app=hello} noted")) << log;
  EXPECT_TRUE(logged("document 2: WorkloadDeployment counter: spec.replicas: 2 noted, ignored on one host")) << log;
  EXPECT_TRUE(
      logged("document 2: WorkloadDeployment counter: spec.template.spec.hostSelector: {hostgroup=default} "
             "noted, ignored on one host"))
      << log;
  EXPECT_TRUE(logged("document 1: v1 Service 'counter-svc': not a wasmCloud workload, skipped")) << log;
  EXPECT_TRUE(logged("stratus up: manifests/hello RUNNING")) << log;
  EXPECT_TRUE(logged("stratus up: default/hello-rs RUNNING")) << log;
  EXPECT_TRUE(logged("stratus up: manifests/counter RUNNING")) << log;
}

// Problems found reading the file and found at start, each with its path
// in the manifest's spelling; nothing starts.
TEST(UpManifestTest, ErrorsInTheManifestsSpelling) {
  test_support::TempDir dir("stratus-up-manifest-errors");
  const auto& d = dir.path();
  std::ofstream(d / "bad.yaml") << R"(apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: WorkloadDeployment
metadata: {name: bad}
spec:
  replicas: 1
  template:
    spec:
      components:
        - {name: a, image: )" + kExamples +
                                       R"(/http-hello.wasm}
        - {name: b, image: )" + kExamples +
                                       R"(/http-hello.wasm, poolSize: x, max_concurrency: 2}
)";
  auto read = run_stratus({"up", (d / "bad.yaml").string(), "--addr", "127.0.0.1:0", "--engine", "interp"});
  EXPECT_EQ(read.code, 1);
  EXPECT_NE(read.err.find("spec.template.spec.components[1].poolSize: expected an integer, found 'x'"),
            std::string::npos)
      << read.err;
  EXPECT_NE(read.err.find("spec.template.spec.components[1].max_concurrency: unknown field (expected one of: "),
            std::string::npos)
      << read.err;

  std::ofstream(d / "invalid.yaml") << R"(apiVersion: runtime.wasmcloud.dev/v1alpha1
kind: Workload
metadata: {name: invalid}
spec:
  components:
    - {name: a, image: )" + kExamples + R"(/http-hello.wasm}
    - {name: b, image: nothing-here.wasm, poolSize: -2}
)";
  auto invalid = run_stratus({"up", (d / "invalid.yaml").string(), "--addr", "127.0.0.1:0", "--engine", "interp",
                              "--data-dir", (d / "data").string()});
  EXPECT_EQ(invalid.code, 1);
  EXPECT_NE(invalid.err.find("spec.components[1].image: '" + (d / "nothing-here.wasm").string() + "' is not a file"),
            std::string::npos)
      << invalid.err;
  EXPECT_NE(invalid.err.find("spec.components[1].poolSize: must not be negative"), std::string::npos) << invalid.err;
  EXPECT_EQ(invalid.err.find("wit_world"), std::string::npos) << invalid.err;

  std::ofstream(d / "kind.yaml") << "apiVersion: runtime.wasmcloud.dev/v1alpha1\nkind: Artifact\nmetadata: {name: a}\n";
  auto kind = run_stratus({"up", (d / "kind.yaml").string(), "--addr", "127.0.0.1:0"});
  EXPECT_EQ(kind.code, 1);
  EXPECT_NE(kind.err.find("kind: 'Artifact' is not a workload"), std::string::npos) << kind.err;
}

}  // namespace
}  // namespace stratus::cli
