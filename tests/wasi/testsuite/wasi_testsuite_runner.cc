// Runs wasi-testsuite's preview 1 programs as the suite's specification.md
// says, either as they are on the preview 1 layer (--mode preview1, what
// `stratus run` does with a core module) or adapted into components by the
// build with jco's adapter, on the WASI 0.2 host (--mode adapter); or its
// WASI 0.3 programs, components for wasm32-wasip3 (--mode p3). Per
// test, its JSON spec (legacy or operation-based; defaults when absent)
// gives the arguments, the environment (exactly that), the preopened
// directories and the expected exit code and output. Preopened directories
// are fresh copies, so a test's writes never touch the fixtures. A test of
// the `sockets` proposal gets the network (binds anywhere, connects and
// name lookups on loopback only); its `connect`, `send` and `recv`
// operations are driven against the running program, which prints the
// address it listens on. A program of the world wasi:http/service is served
// as `stratus serve` serves it (on 127.0.0.1, a free port): its `request`
// operations are asked with a real HTTP client and their responses
// checked, its `kill` raises the signal in this process, whose handler
// stops the server as `stratus serve`'s does, and `wait` expects the
// server to end with the exit code. Prints the pass/fail/skip counts per
// language and checks the failures against a known-failures list.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "component/binary/decoder.h"
#include "engine/engine.h"
#include "serve/http_server.h"
#include "support/file.h"
#include "tests/support/known_failures.h"
#include "tests/wasi/capture.h"
#include "wasi/p2/sockets.h"
#include "wasi/p2/wasi.h"
#include "wasi/preview1/preview1.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace stratus;

namespace {

struct Spec {
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> dirs;
  int exit_code = 0;
  std::map<std::string, std::string> output;  // "stdout"/"stderr" -> expected, when given
  std::string stdin_payload;                  // what a `write` to stdin gives it
  std::string skip;                           // why the test cannot run here
  bool sockets = false;                       // proposals: ["sockets"]
  // connect, send and recv, in order, on connections by id.
  struct NetOp {
    std::string type, id, payload;
  };
  std::vector<NetOp> net_ops;
  bool service = false;  // world wasi:http/service: served, not run
  // request and kill, in order, against the served program.
  struct HttpOp {
    std::string type, method, path, body;
    std::vector<std::pair<std::string, std::string>> headers;
    int signal = 0;                             // kill's
    std::optional<int> status;                  // the response's, when given
    std::map<std::string, std::string> expect;  // headers the response must have
    std::optional<std::string> expect_body;
  };
  std::vector<HttpOp> http_ops;
};

std::vector<std::string> strings(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j) out.push_back(e.get<std::string>());
  return out;
}

void read_run(const json& j, Spec& s) {
  if (j.contains("args")) s.args = strings(j["args"]);
  if (j.contains("dirs")) s.dirs = strings(j["dirs"]);
  if (j.contains("env") && j["env"].is_object())
    for (auto it = j["env"].begin(); it != j["env"].end(); ++it)
      s.env.emplace_back(it.key(), it.value().get<std::string>());
}

std::map<std::string, std::string> string_map(const json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  return out;
}

// A service's `request` or `kill` into `s`; empty, or why it cannot run.
std::string read_http_op(const json& op, Spec& s) {
  Spec::HttpOp h;
  h.type = op.value("type", "");
  if (h.type == "kill") {
    std::string name = op.value("signal", "SIGTERM");
    // The signals `stratus serve` stops on (gracefully); the runner cannot
    // raise another in its own process and go on.
    if (name == "SIGINT")
      h.signal = SIGINT;
    else if (name == "SIGTERM")
      h.signal = SIGTERM;
    else
      return "kill with " + name + " (the runner raises SIGINT and SIGTERM only)";
  } else {
    h.method = op.value("method", "GET");
    h.path = op.value("path", "/");
    h.body = op.value("body", "");
    for (const auto& [k, v] : string_map(op.value("headers", json::object()))) h.headers.emplace_back(k, v);
    const json response = op.value("response", json::object());
    if (response.contains("status")) h.status = response["status"].get<int>();
    h.expect = string_map(response.value("headers", json::object()));
    if (response.contains("body")) h.expect_body = response["body"].get<std::string>();
  }
  s.http_ops.push_back(std::move(h));
  return "";
}

// The spec of `wasm` (foo.json beside foo.wasm), in either form.
Spec read_spec(const fs::path& wasm) {
  Spec s;
  fs::path path = wasm;
  path.replace_extension(".json");
  if (!fs::exists(path)) return s;
  std::ifstream in(path);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    s.skip = "unreadable spec " + path.filename().string();
    return s;
  }
  // A command that needs wasi:http (its types) runs like any other; one
  // that needs sockets gets network grants and its operations driven.
  for (const auto& proposal : strings(j.value("proposals", json::array()))) {
    if (proposal == "sockets")
      s.sockets = true;
    else if (proposal != "http")
      s.skip = "needs proposal `" + proposal + "` (this runner does not drive it yet)";
  }
  if (!j.contains("operations")) {
    read_run(j, s);
    if (j.contains("exit_code")) s.exit_code = j["exit_code"].get<int>();
    if (j.contains("stdout")) s.output["stdout"] = j["stdout"].get<std::string>();
    if (j.contains("stderr")) s.output["stderr"] = j["stderr"].get<std::string>();
    return s;
  }
  s.service = j.value("world", "") == "wasi:http/service";
  for (const auto& op : j["operations"]) {
    std::string type = op.value("type", "");
    if (s.service && (type == "request" || type == "kill")) {
      if (std::string why = read_http_op(op, s); !why.empty()) s.skip = why;
    } else if (type == "run") {
      read_run(op, s);
    } else if (type == "wait") {
      s.exit_code = op.value("exit_code", 0);
    } else if (type == "read") {
      s.output[op.value("id", "stdout")] += op.value("payload", "");
    } else if (type == "write" && op.value("id", "") == "stdin") {
      s.stdin_payload += op.value("payload", "");
    } else if (type == "connect" && op.value("protocol_type", "tcp") == "tcp") {
      s.net_ops.push_back({type, op.value("id", "server"), ""});
    } else if (type == "send" || type == "recv") {
      s.net_ops.push_back({type, op.value("id", ""), op.value("payload", "")});
    } else {
      s.skip = "operation `" + type + "` (this runner drives tcp connections and commands, not " + op.dump() + ")";
    }
  }
  return s;
}

struct Outcome {
  bool passed = false;
  std::string why;
};

// Each preopen is a fresh copy of the fixture directory, under the name
// the spec gives it. Empty, or why the copy failed.
std::string copy_dirs(const fs::path& wasm, const Spec& spec, const fs::path& scratch,
                      std::vector<wasi::p2::Preopen>& dirs) {
  std::error_code ec;
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch, ec);
  for (const auto& d : spec.dirs) {
    fs::path from = wasm.parent_path() / d;
    fs::path to = scratch / d;
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return "copying " + from.string() + ": " + ec.message();
    dirs.push_back({to.string(), d, false});
  }
  return "";
}

// What the run printed and how it ended, judged against the spec.
Outcome judge(const Spec& spec, int exit_code, const std::string& trap, const std::string& out,
              const std::string& err) {
  std::string why;
  if (!trap.empty()) why += trap + "; ";
  if (exit_code != spec.exit_code)
    why += "exit code " + std::to_string(exit_code) + ", expected " + std::to_string(spec.exit_code) + "; ";
  for (const auto& [stream, expected] : spec.output) {
    const std::string& got = stream == "stderr" ? err : out;
    if (got != expected) why += stream + " differs: got [" + got + "], expected [" + expected + "]; ";
  }
  if (why.empty()) return {true, ""};
  if (!err.empty() && spec.output.count("stderr") == 0) why += "stderr: " + err.substr(0, 400);
  return {false, why};
}

Outcome run_preview1(engine::Engine& engine, const fs::path& wasm, const Spec& spec, const fs::path& scratch) {
  auto bytes = read_file(wasm);
  if (!bytes) return {false, bytes.error().message};
  wasi::preview1::Preview1Config config;
  config.args.push_back(wasm.filename().string());
  config.args.insert(config.args.end(), spec.args.begin(), spec.args.end());
  for (const auto& [k, v] : spec.env) config.env.push_back(k + "=" + v);
  if (std::string err = copy_dirs(wasm, spec, scratch, config.dirs); !err.empty()) return {false, err};
  testing::CapturedFd out("stdout");
  testing::CapturedFd err("stderr");
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  config.stdin_fd = devnull;
  config.stdout_fd = out.fd();
  config.stderr_fd = err.fd();
  wasi::preview1::CommandOptions options;
  options.name = wasm.filename().string();
  options.limits.call_timeout = std::chrono::seconds(60);
  auto outcome = wasi::preview1::execute_command(engine, *bytes, std::move(config), options);
  ::close(devnull);
  std::error_code ec;
  fs::remove_all(scratch, ec);
  if (auto* error = std::get_if<Error>(&outcome)) return {false, error->message};
  int exit_code = 1;
  std::string trap;
  if (auto* code = std::get_if<int>(&outcome)) exit_code = *code;
  if (auto* t = std::get_if<engine::Trap>(&outcome)) trap = wasi::preview1::describe(*t);
  return judge(spec, exit_code, trap, out.text(), err.text());
}

// What the program prints, readable while it runs (the runner waits for the
// address a server prints before it connects).
class SharedOutput : public wasi::p2::OutputStream {
 public:
  std::variant<uint64_t, wasi::p2::StreamFailure> check_write() override { return uint64_t{64 * 1024}; }
  std::optional<wasi::p2::StreamFailure> write(std::span<const uint8_t> bytes) override {
    std::lock_guard lock(mutex_);
    contents_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return std::nullopt;
  }
  wasi::p2::Pollable subscribe() override { return wasi::p2::Pollable{}; }
  std::string contents() const {
    std::lock_guard lock(mutex_);
    return contents_;
  }

 private:
  mutable std::mutex mutex_;
  std::string contents_;
};

// The network a `sockets` test may use: binds anywhere (the tests bind
// unspecified and unroutable addresses to see the errors), connections and
// lookups only on loopback.
void grant_network(wasi::p2::SocketPolicy& policy) {
  wasi::p2::AddressRule loopback;
  loopback.host = wasi::p2::AddressRule::Host::Loopback;
  policy.connect.push_back(loopback);
  policy.bind.push_back(wasi::p2::AddressRule{});
  policy.name_lookups.push_back("localhost");
}

constexpr auto kNetTimeout = std::chrono::seconds(20);

// A TCP connection to HOST:PORT (the first line of `printed` that reads as
// one), on loopback only; -1 and why not in `why`.
int connect_printed(const std::string& printed, std::string& why) {
  std::string line = printed.substr(0, printed.find('\n'));
  auto colon = line.rfind(':');
  if (colon == std::string::npos) {
    why = "the program printed no HOST:PORT: [" + line + "]";
    return -1;
  }
  std::string host = line.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  auto ip = wasi::p2::IpAddress::parse(host);
  int port = std::atoi(line.c_str() + colon + 1);
  if (!ip || !ip->is_loopback() || port <= 0 || port > 65535) {
    why = "not a loopback HOST:PORT: [" + line + "]";
    return -1;
  }
  wasi::p2::SocketAddress to{*ip, static_cast<uint16_t>(port), 0};
  auto native = wasi::p2::to_native(to);
  int fd = ::socket(ip->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, native.get(), native.length) != 0) {
    why = "connect " + line + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return -1;
  }
  timeval tv{static_cast<time_t>(kNetTimeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// Drives the spec's connect, send and recv operations against the running
// program; empty, or what went wrong.
std::string drive_network(const Spec& spec, const SharedOutput& out, const std::atomic<bool>& ended) {
  std::map<std::string, int> connections;
  std::string why;
  for (const auto& op : spec.net_ops) {
    if (op.type == "connect") {
      auto deadline = std::chrono::steady_clock::now() + kNetTimeout;
      std::string printed;
      while ((printed = out.contents()).find('\n') == std::string::npos && !ended &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      int fd = connect_printed(printed, why);
      if (fd < 0) break;
      connections[op.id] = fd;
      continue;
    }
    auto it = connections.find(op.id);
    if (it == connections.end()) {
      why = op.type + " on `" + op.id + "`, which no connect made";
      break;
    }
    if (op.type == "send") {
      size_t sent = 0;
      while (sent < op.payload.size()) {
        ssize_t n = ::send(it->second, op.payload.data() + sent, op.payload.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      if (sent < op.payload.size()) {
        why = "send on `" + op.id + "`: " + std::strerror(errno);
        break;
      }
    } else {
      std::string got;
      char buf[4096];
      while (got.size() < op.payload.size()) {
        ssize_t n = ::recv(it->second, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      if (got != op.payload) {
        why = "recv on `" + op.id + "`: got [" + got + "], expected [" + op.payload + "]";
        break;
      }
    }
  }
  for (const auto& [id, fd] : connections) ::close(fd);
  return why;
}

// A component (adapted from preview 1, or a WASI 0.3 program as it is) as
// `stratus run` runs it.
Outcome run_component(engine::Engine& engine, const fs::path& wasm, const fs::path& file, const Spec& spec,
                      const fs::path& scratch) {
  auto bytes = read_file(file);
  if (!bytes) return {false, bytes.error().message};
  auto component = component::decode_component(*bytes);
  if (!component) return {false, "decode: " + component.error().message};

  wasi::p2::WasiConfig config;
  config.args.push_back(wasm.filename().string());
  config.args.insert(config.args.end(), spec.args.begin(), spec.args.end());
  config.env = spec.env;
  if (std::string err = copy_dirs(wasm, spec, scratch, config.dirs); !err.empty()) return {false, err};
  if (spec.sockets) grant_network(config.sockets);
  auto out = std::make_shared<SharedOutput>();
  auto err = std::make_shared<SharedOutput>();
  config.stdout_stream = out;
  config.stderr_stream = err;
  config.stdin_stream =
      wasi::p2::memory_input(std::vector<uint8_t>(spec.stdin_payload.begin(), spec.stdin_payload.end()));
  component::InstantiateOptions options;
  options.limits.call_timeout = std::chrono::seconds(60);
  options.allow_sync_cancel_in_waitable_set = true;  // as `stratus run` (component/runtime/runtime.h)
  // The program runs on a thread of its own while this one plays the
  // client of its connections.
  std::atomic<bool> ended = false;
  std::optional<Result<wasi::p2::CommandOutcome>> outcome;
  std::thread program([&] {
    outcome = wasi::p2::run_command(engine, *component, std::move(config), options);
    ended = true;
  });
  std::string network = drive_network(spec, *out, ended);
  program.join();
  std::error_code ec;
  fs::remove_all(scratch, ec);
  if (!*outcome) return {false, outcome->error().message};
  Outcome judged = judge(spec, (*outcome)->exit_code, (*outcome)->trap ? "trap: " + (*outcome)->trap->message : "",
                         out->contents(), err->contents());
  if (!network.empty()) judged = {false, network + "; " + judged.why};
  return judged;
}

// The stop flag of the service being run: what its signal handler sets.
std::atomic<bool> g_service_stop{false};
void on_service_signal(int) { g_service_stop = true; }

// One `request` against the server on `port`; empty, or what differs.
std::string ask(uint16_t port, const Spec::HttpOp& op) {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{http::string_to_verb(op.method), op.path, 11};
    if (req.method() == http::verb::unknown) req.method_string(op.method);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    for (const auto& [k, v] : op.headers) req.set(k, v);
    req.body() = op.body;
    req.prepare_payload();
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    std::string what = op.method + " " + op.path + ": ";
    if (op.status && res.result_int() != static_cast<unsigned>(*op.status))
      return what + "status " + std::to_string(res.result_int()) + ", expected " + std::to_string(*op.status);
    for (const auto& [name, value] : op.expect)
      if (res[name] != value)
        return what + "header " + name + " is [" + std::string(res[name]) + "], expected [" + value + "]";
    if (op.expect_body && res.body() != *op.expect_body)
      return what + "body [" + res.body() + "], expected [" + *op.expect_body + "]";
    return "";
  } catch (const std::exception& e) {
    return op.method + " " + op.path + ": " + e.what();
  }
}

// A wasi:http/service program served as `stratus serve` serves it, driven
// by the spec's requests, stopped by its kill's signal.
Outcome run_service(engine::Engine& engine, const fs::path& wasm, const Spec& spec) {
  auto bytes = read_file(wasm);
  if (!bytes) return {false, bytes.error().message};
  auto component = component::decode_component(*bytes);
  if (!component) return {false, "decode: " + component.error().message};
  serve::ServeOptions options;
  options.port = 0;
  options.timeout = std::chrono::seconds(60);
  options.wasi.args.push_back(wasm.filename().string());
  options.wasi.args.insert(options.wasi.args.end(), spec.args.begin(), spec.args.end());
  options.wasi.env = spec.env;
  auto out = std::make_shared<SharedOutput>();
  auto err = std::make_shared<SharedOutput>();
  options.wasi.stdout_stream = out;
  options.wasi.stderr_stream = err;
  g_service_stop = false;
  options.stop_flag = &g_service_stop;
  auto server = serve::HttpServer::create(engine, *component, std::move(options));
  if (!server) return {false, server.error().message};
  auto port = (*server)->listen();
  if (!port) return {false, port.error().message};
  struct sigaction handler {
  }, old_int{}, old_term{};
  handler.sa_handler = on_service_signal;
  sigemptyset(&handler.sa_mask);
  ::sigaction(SIGINT, &handler, &old_int);
  ::sigaction(SIGTERM, &handler, &old_term);
  std::atomic<bool> ended = false;
  std::thread serving([&] {
    (*server)->run();
    ended = true;
  });
  std::string why;
  bool killed = false;
  for (const auto& op : spec.http_ops) {
    if (op.type == "kill") {
      ::raise(op.signal);
      killed = true;
      break;
    }
    if (why = ask(*port, op); !why.empty()) break;
  }
  // `wait`: a killed server ends by itself; one the spec never kills (or
  // that failed a request) is stopped here.
  auto deadline = std::chrono::steady_clock::now() + kNetTimeout;
  while (killed && !ended && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  bool stopped_by_signal = ended.load();
  if (!ended) (*server)->stop();
  serving.join();
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (killed && !stopped_by_signal && why.empty()) why = "the server did not stop on its signal";
  int exit_code = why.empty() ? 0 : 1;
  Outcome judged = judge(spec, exit_code, "", out->contents(), err->contents());
  if (!why.empty()) judged = {false, why + "; " + judged.why};
  return judged;
}

Outcome run_adapted(engine::Engine& engine, const fs::path& wasm, const fs::path& adapted, const Spec& spec,
                    const fs::path& scratch) {
  if (fs::exists(adapted.string() + ".error")) {
    auto err = read_file(adapted.string() + ".error");
    return {false, "jco could not adapt it: " + (err ? std::string(err->begin(), err->end()) : std::string())};
  }
  return run_component(engine, wasm, adapted, spec, scratch);
}

}  // namespace

int main(int argc, char** argv) {
  std::string engine_name = "interp", mode = "preview1", suite, adapted_dir, cache_dir, known_file;
  bool write_known = false, verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--engine")
      engine_name = next();
    else if (a == "--suite")
      suite = next();
    else if (a == "--mode")
      mode = next();
    else if (a == "--adapted")
      adapted_dir = next();
    else if (a == "--cache-dir")
      cache_dir = next();
    else if (a == "--known-failures")
      known_file = next();
    else if (a == "--write-known-failures")
      write_known = true;
    else if (a == "--verbose")
      verbose = true;
    else {
      std::fprintf(stderr,
                   "usage: wasi_testsuite_runner --suite DIR [--mode preview1 | --mode adapter --adapted DIR | "
                   "--mode p3] "
                   "[--engine aot|interp] "
                   "[--cache-dir DIR] [--known-failures FILE [--write-known-failures]] [--verbose]\n");
      return 2;
    }
  }
  if ((mode != "preview1" && mode != "adapter" && mode != "p3") || (mode == "adapter" && adapted_dir.empty())) {
    std::fprintf(stderr, "--mode is preview1, adapter (which needs --adapted DIR) or p3\n");
    return 2;
  }
  engine::EngineOptions options;
  options.cache_dir = cache_dir;
  auto engine = engine::make_engine(engine_name, options);
  if (!engine) {
    std::fprintf(stderr, "%s\n", engine.error().message.c_str());
    return 2;
  }
  fs::path scratch = fs::temp_directory_path() / ("stratus-wasi-testsuite-" + std::to_string(::getpid()));
  std::set<std::string> failed;
  size_t all_passed = 0, all_failed = 0, all_skipped = 0;
  // WASI 0.3's programs are Rust's only.
  std::vector<const char*> langs = {"assemblyscript", "c", "rust"};
  if (mode == "p3") langs = {"rust"};
  for (const char* lang : langs) {
    fs::path dir = fs::path(suite) / lang / "testsuite" / (mode == "p3" ? "wasm32-wasip3" : "wasm32-wasip1");
    std::vector<fs::path> programs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".wasm") programs.push_back(e.path());
    std::sort(programs.begin(), programs.end());
    size_t passed = 0, failures = 0, skipped = 0;
    for (const auto& wasm : programs) {
      std::string id = std::string(lang) + "/" + wasm.stem().string();
      Spec spec = read_spec(wasm);
      if (!spec.skip.empty()) {
        std::printf("%s: skipped (%s)\n", id.c_str(), spec.skip.c_str());
        ++skipped;
        continue;
      }
      fs::path adapted = fs::path(adapted_dir) / lang / (wasm.stem().string() + ".component.wasm");
      Outcome r = mode == "preview1" ? run_preview1(**engine, wasm, spec, scratch)
                  : spec.service     ? run_service(**engine, wasm, spec)
                  : mode == "p3"     ? run_component(**engine, wasm, wasm, spec, scratch)
                                     : run_adapted(**engine, wasm, adapted, spec, scratch);
      if (r.passed) {
        ++passed;
        if (verbose) std::printf("%s: passed\n", id.c_str());
      } else {
        ++failures;
        failed.insert(id);
        std::printf("%s: FAILED: %s\n", id.c_str(), r.why.c_str());
      }
    }
    std::printf("wasi-testsuite %s [%s %s]: %zu passed, %zu failed, %zu skipped\n", lang, mode.c_str(),
                engine_name.c_str(), passed, failures, skipped);
    all_passed += passed;
    all_failed += failures;
    all_skipped += skipped;
  }
  std::printf("wasi-testsuite [%s %s]: %zu passed, %zu failed, %zu skipped\n", mode.c_str(), engine_name.c_str(),
              all_passed, all_failed, all_skipped);
  if (write_known) {
    testing::write_known_failures(known_file,
                                  "# wasi-testsuite programs (language/name) that fail in this mode.\n"
                                  "# Written by wasi_testsuite_runner --write-known-failures; CI fails on any failure\n"
                                  "# not listed here and on any listed one that passes, so this list only shrinks.\n",
                                  failed);
    return 0;
  }
  if (known_file.empty()) return all_failed == 0 ? 0 : 1;
  return testing::check_known_failures("wasi-testsuite [" + mode + " " + engine_name + "]", known_file,
                                       testing::read_known_failures(known_file), failed)
             ? 0
             : 1;
}
