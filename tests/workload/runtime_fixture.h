// The workload runtime tests' host: an aot engine, a router on a free
// loopback port, a WorkloadHost over them with its data in a temporary
// folder and wasi:logging's records captured.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "engine/engine.h"
#include "serve/http_server.h"
#include "workload/runtime.h"
#include "workload/spec.h"

namespace stratus::workload::test_host {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

struct Reply {
  int status = 0;
  std::string body;
};

inline Reply get(uint16_t port, const std::string& target, const std::string& host = "localhost") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host);
  req.keep_alive(false);
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

inline std::string example(const char* name) { return std::string(STRATUS_EXAMPLES_DIR) + "/" + name + ".wasm"; }

// The example workload, with `extra` YAML appended to its components list
// and `interfaces` as its host_interfaces.
inline std::string counter_yaml(const std::string& name, const std::string& http_config = "",
                                const std::string& interfaces = "[store, atomics]", bool with_greeter = true,
                                bool with_keyvalue = true) {
  std::string y = "namespace: test\nname: " + name + "\nwit_world:\n  components:\n";
  y += "    - name: counter\n      image: " + example("counter") +
       "\n      local_resources:\n        config: {name: tester}\n";
  if (with_greeter) y += "    - name: greeter\n      image: " + example("greeter") + "\n";
  y += "  host_interfaces:\n";
  y += "    - {namespace: wasi, package: http, interfaces: [incoming-handler]" +
       (http_config.empty() ? std::string() : ", config: {" + http_config + "}") + "}\n";
  if (with_keyvalue)
    y += "    - {namespace: wasi, package: keyvalue, version: 0.2.0-draft, interfaces: " + interfaces + "}\n";
  y += "    - {namespace: wasi, package: config, interfaces: [store]}\n";
  y += "    - {namespace: wasi, package: logging, interfaces: [logging]}\n";
  return y;
}

class WorkloadRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stratus-workload-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(engine_name(), options);
    ASSERT_TRUE(made) << made.error().message;
    engine_ = std::move(*made);
    start_host();
  }

  // The backend the host runs guests on.
  virtual std::string engine_name() const { return "aot"; }

  void TearDown() override {
    stop_host();
    fs::remove_all(dir_);
  }

  void start_host() {
    serve::ServeOptions options;
    options.port = 0;
    options.traces = traces_.get();
    options.log = [this](const std::string& line) {
      std::lock_guard lock(log_mu_);
      host_lines_.push_back(line);
    };
    router_ = serve::HttpServer::create_router(*engine_, options);
    auto port = router_->listen();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    HostSettings settings;
    settings.plugins.data_dir = dir_ / "data";
    settings.plugins.log = [this](const plugins::LogRecord& r) {
      std::lock_guard lock(log_mu_);
      logs_.push_back(std::string(r.workload) + " " + std::string(r.component) + " " + std::string(r.message));
    };
    settings.log = [this](const std::string& line) {
      std::lock_guard lock(log_mu_);
      host_lines_.push_back(line);
    };
    settings.guest_stdout = wasi::p2::null_output();
    settings.guest_stderr = wasi::p2::null_output();
    host_ = std::make_unique<WorkloadHost>(*engine_, *router_, settings);
    thread_ = std::thread([this] { router_->run(); });
  }

  void stop_host() {
    host_.reset();
    if (router_) router_->stop();
    if (thread_.joinable()) thread_.join();
    router_.reset();
  }

  Result<std::string> start(const std::string& yaml) {
    auto w = parse_workload(yaml, "test.yaml");
    if (!w) return std::move(w).error();
    return host_->start(*w, dir_);
  }

  bool logged(const std::string& line) {
    std::lock_guard lock(log_mu_);
    return std::find(logs_.begin(), logs_.end(), line) != logs_.end();
  }

  // Waits up to 20 s for the workload to reach `state`.
  std::optional<WorkloadStatus> wait_for(const std::string& id, WorkloadState state) {
    for (int i = 0; i < 2000; ++i) {
      auto s = host_->status(id);
      if (s && s->state == state) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return host_->status(id);
  }

  fs::path dir_;
  // Set before SetUp to serve with spans (it outlives the router).
  std::unique_ptr<observe::TraceExporter> traces_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<serve::HttpServer> router_;
  std::unique_ptr<WorkloadHost> host_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::mutex log_mu_;
  std::vector<std::string> logs_;
  std::vector<std::string> host_lines_;

  // Waits up to 20 s for a host line holding `part`.
  bool host_logged(const std::string& part) {
    for (int i = 0; i < 2000; ++i) {
      {
        std::lock_guard lock(log_mu_);
        for (const auto& l : host_lines_)
          if (l.find(part) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

}  // namespace stratus::workload::test_host
