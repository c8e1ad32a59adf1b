// `stratus up --metrics-addr` end to end, against real consumers: a
// Prometheus (Debian's `prometheus`) scraping /metrics every second, and a
// headless Chromium (Debian's `chromium`) loading the status page. Both
// are skipped, saying so, when their program is not installed (./x deps
// installs them).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/observe/otlp_receiver.h"
#include "tests/support/http_get.h"
#include "tests/support/scoped_env.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace stratus {
namespace {

using namespace std::chrono_literals;
using test_support::free_loopback_port;
using test_support::OtlpReceiver;
using test_support::ScopedEnv;
using test_support::ServerProcess;
using test_support::TempDir;

// `name` found on PATH; empty if it is not there.
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    auto candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::optional<nlohmann::json> get_json(uint16_t port, const std::string& target) {
  try {
    auto res = testing::http_get(port, target);
    if (res.result_int() != 200) return std::nullopt;
    return nlohmann::json::parse(res.body());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// `stratus up` of the example workload with --metrics-addr, on free ports,
// its data and log in a temp folder; ready() once the workload is RUNNING.
class StratusUp {
 public:
  // `engine` interp: no aot compile of a guest the cache has not seen.
  explicit StratusUp(const std::vector<std::string>& extra = {},
                     std::string workload = STRATUS_EXAMPLES_DIR "/workload.yaml", std::string engine = "aot")
      : dir_("stratus-observe"),
        port_(free_loopback_port()),
        metrics_port_(free_loopback_port()),
        workload_(std::move(workload)),
        engine_(std::move(engine)),
        process_(args(extra), metrics_port_, (dir_.path() / "stratus.log").string()) {}

  // Whether the workload got to RUNNING (the aot cache may have to compile
  // it first).
  bool ready() {
    if (!process_.running()) return false;
    auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto status = get_json(metrics_port_, "/status.json");
      if (status && !(*status)["workloads"].empty() && (*status)["workloads"][0]["state"] == "RUNNING") return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  std::string log() const { return test_support::read_text(dir_.path() / "stratus.log"); }
  uint16_t port() const { return port_; }
  uint16_t metrics_port() const { return metrics_port_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  std::vector<std::string> args(const std::vector<std::string>& extra) const {
    std::vector<std::string> a{STRATUS_BINARY,
                               "up",
                               workload_,
                               "--addr",
                               "127.0.0.1:" + std::to_string(port_),
                               "--metrics-addr",
                               "127.0.0.1:" + std::to_string(metrics_port_),
                               "--data-dir",
                               (dir_.path() / "data").string(),
                               "--engine",
                               engine_,
                               "--cache-dir",
                               STRATUS_TEST_CACHE_DIR};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  TempDir dir_;
  uint16_t port_, metrics_port_;
  std::string workload_, engine_;
  ServerProcess process_;
};

TEST(ObserveE2ETest, PrometheusScrapesTheRequestsMade) {
  std::string prometheus = find_program("prometheus");
  if (prometheus.empty())
    GTEST_SKIP() << "prometheus is not installed (Debian package `prometheus`; ./x deps installs it)";
  StratusUp up;
  ASSERT_TRUE(up.ready()) << up.log();
  constexpr int kRequests = 17;
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(testing::http_get(up.port(), "/").result_int(), 200) << up.log();

  // /metrics itself, as a scraper reads it. A request's measurement ends
  // just after its response went out, so the last one may take a moment.
  const std::string count_line =
      "http_server_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\","
      "http_route=\"/\",workload=\"examples/counter\"} " +
      std::to_string(kRequests) + "\n";
  const std::string invocations_line =
      "stratus_component_invocations_total{workload=\"examples/counter\",component=\"counter\"} " +
      std::to_string(kRequests) + "\n";
  auto metrics = testing::http_get(up.metrics_port(), "/metrics");
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       std::chrono::steady_clock::now() < deadline && (metrics.body().find(count_line) == std::string::npos ||
                                                       metrics.body().find(invocations_line) == std::string::npos);
       std::this_thread::sleep_for(20ms))
    metrics = testing::http_get(up.metrics_port(), "/metrics");
  ASSERT_EQ(metrics.result_int(), 200);
  EXPECT_NE(metrics.body().find(count_line), std::string::npos) << metrics.body();
  EXPECT_NE(metrics.body().find(invocations_line), std::string::npos) << metrics.body();

  // The counter's wasi:keyvalue calls, timed.
  EXPECT_NE(metrics.body().find("stratus_plugin_call_duration_seconds_count{plugin=\"wasi:keyvalue\"} "),
            std::string::npos)
      << metrics.body();
  uint16_t prom_port = free_loopback_port();
  TempDir prom_dir("stratus-prometheus");
  prom_dir.write("prometheus.yml",
                 "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                 "scrape_configs:\n  - job_name: stratus\n    static_configs:\n"
                 "      - targets: ['127.0.0.1:" +
                     std::to_string(up.metrics_port()) + "']\n");
  ServerProcess prom({prometheus, "--config.file=" + (prom_dir.path() / "prometheus.yml").string(),
                      "--storage.tsdb.path=" + (prom_dir.path() / "data").string(),
                      "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                     prom_port, (prom_dir.path() / "prometheus.log").string());
  ASSERT_TRUE(prom.running()) << test_support::read_text(prom_dir.path() / "prometheus.log");

  // The value of a one-series instant query once it is `want`, or the last
  // one seen in 30 s (a loaded machine may miss a scrape or two).
  auto query = [&](const std::string& q, const std::string& want) -> std::string {
    std::string last = "(no result)";
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto doc = get_json(prom_port, "/api/v1/query?query=" + url_encode(q));
      if (doc && (*doc)["status"] == "success" && !(*doc)["data"]["result"].empty()) {
        last = (*doc)["data"]["result"][0]["value"][1].get<std::string>();
        if (last == want) break;
      }
      std::this_thread::sleep_for(200ms);
    }
    return last;
  };
  std::string prom_log = (prom_dir.path() / "prometheus.log").string();
  EXPECT_EQ(query("up{job=\"stratus\"}", "1"), "1") << test_support::read_text(prom_log);
  EXPECT_EQ(query("sum(http_server_request_duration_seconds_count{workload=\"examples/counter\"})",
                  std::to_string(kRequests)),
            std::to_string(kRequests));
  EXPECT_EQ(query("sum(http_server_request_duration_seconds_bucket{workload=\"examples/counter\",le=\"10\"})",
                  std::to_string(kRequests)),
            std::to_string(kRequests));
}

// Runs `argv`, its stdout into `out`, for at most `limit`; its exit code
// (-1 if it had to be killed).
int run_with_limit(const std::vector<std::string>& argv, const std::filesystem::path& out, std::chrono::seconds limit) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(50ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ObserveE2ETest, ChromiumSeesTheExampleWorkloadRunning) {
  std::string chromium = find_program("chromium");
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (Debian package `chromium`; ./x deps installs it)";
  StratusUp up;
  ASSERT_TRUE(up.ready()) << up.log();
  ASSERT_EQ(testing::http_get(up.port(), "/").result_int(), 200);
  auto dom = up.dir() / "dom.html";
  int rc = run_with_limit({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--user-data-dir=" + (up.dir() / "chromium").string(), "--dump-dom",
                           "--virtual-time-budget=3000", "http://127.0.0.1:" + std::to_string(up.metrics_port()) + "/"},
                          dom, 60s);
  ASSERT_EQ(rc, 0) << "chromium failed or took over 60 s";
  std::string text = test_support::read_text(dom);
  // What the page's script drew from /status.json (the HTML as served has
  // none of it).
  EXPECT_NE(text.find("<h2>examples/counter <span class=\"state RUNNING\">RUNNING</span></h2>"), std::string::npos)
      << text;
  EXPECT_NE(text.find("<td>counter</td>"), std::string::npos) << text;
  // The linked greeter has no pool of its own: its counts show as "-".
  EXPECT_NE(text.find("<td>greeter</td><td class=\"n\">"), std::string::npos) << text;
  EXPECT_NE(text.find("<td>-</td><td>-</td><td>-</td><td>-</td></tr>"), std::string::npos) << text;
  EXPECT_NE(text.find("requests served"), std::string::npos) << text;
  EXPECT_NE(text.find("<div id=\"error\"></div>"), std::string::npos) << "the page could not refresh:\n" << text;
}

// What `protoc --decode_raw` prints, as a tree: a field is its number and
// either a scalar's text ("42", "\"text\"", "0x...") or a message (a
// length-delimited field protoc could read as one: an id of random bytes
// may be printed either way, the same way wherever it appears).
struct RawField {
  int number = 0;
  std::string scalar;
  std::vector<RawField> fields;  // a message's
  bool message = false;

  std::vector<const RawField*> all(int n) const {
    std::vector<const RawField*> out;
    for (const auto& f : fields)
      if (f.number == n) out.push_back(&f);
    return out;
  }
  const RawField* first(int n) const {
    for (const auto& f : fields)
      if (f.number == n) return &f;
    return nullptr;
  }
  // The bytes of a length-delimited field, whichever way protoc printed
  // them: a string's unescaped, a message's encoded again.
  std::string bytes() const {
    if (!message) return unescape(scalar);
    std::string out;
    for (const auto& f : fields) f.encode(out);
    return out;
  }

 private:
  static void varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
      out += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  }
  static void little_endian(std::string& out, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  // protoc's C escapes (\n, \", \\, \NNN octal) of a quoted string.
  static std::string unescape(const std::string& quoted) {
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return quoted;
    std::string out;
    for (size_t i = 1; i + 1 < quoted.size(); ++i) {
      char c = quoted[i];
      if (c != '\\' || i + 2 >= quoted.size()) {
        out += c;
        continue;
      }
      char e = quoted[++i];
      if (e >= '0' && e <= '7') {
        int v = 0;
        for (int k = 0; k < 3 && i + 1 < quoted.size() && quoted[i] >= '0' && quoted[i] <= '7'; ++k, ++i)
          v = v * 8 + (quoted[i] - '0');
        --i;
        out += static_cast<char>(v);
      } else {
        out += e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
      }
    }
    return out;
  }
  void encode(std::string& out) const {
    auto tag = [&](int wire) { varint(out, (static_cast<uint64_t>(number) << 3) | static_cast<uint64_t>(wire)); };
    if (message || (!scalar.empty() && scalar.front() == '"')) {
      std::string b = bytes();
      tag(2);
      varint(out, b.size());
      out += b;
    } else if (scalar.rfind("0x", 0) == 0) {
      bool fixed64 = scalar.size() == 18;
      tag(fixed64 ? 1 : 5);
      little_endian(out, std::stoull(scalar.substr(2), nullptr, 16), fixed64 ? 8 : 4);
    } else {
      tag(0);
      varint(out, std::stoull(scalar));
    }
  }
};

// Null when `decoded` is not what protoc --decode_raw prints.
std::optional<RawField> parse_decode_raw(const std::string& decoded) {
  RawField root;
  root.message = true;
  std::vector<RawField*> open{&root};
  std::istringstream lines(decoded);
  std::string line;
  while (std::getline(lines, line)) {
    auto begin = line.find_first_not_of(' ');
    if (begin == std::string::npos) continue;
    line = line.substr(begin);
    if (line == "}") {
      if (open.size() < 2) return std::nullopt;
      open.pop_back();
      continue;
    }
    RawField f;
    size_t used = 0;
    try {
      f.number = std::stoi(line, &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (line.substr(used) == " {") {
      f.message = true;
      open.back()->fields.push_back(std::move(f));
      open.push_back(&open.back()->fields.back());
    } else if (line.compare(used, 2, ": ") == 0) {
      f.scalar = line.substr(used + 2);
      open.back()->fields.push_back(std::move(f));
    } else {
      return std::nullopt;
    }
  }
  if (open.size() != 1) return std::nullopt;
  return root;
}

// One span of an ExportTraceServiceRequest as protoc --decode_raw showed it.
struct RawSpan {
  std::string trace_id, span_id, parent, name;  // their bytes
  int kind = 0;
  std::map<std::string, std::string> attributes;  // key -> a string value's bytes, or an int's text
  bool error = false;                             // status.code 2
};

// The spans of request `body` (resource_spans 1 > scope_spans 2 > spans 2),
// decoded by `protoc` (its text saved in `dir`).
std::vector<RawSpan> decode_spans(const std::string& protoc, const std::string& body, const std::filesystem::path& dir,
                                  int n) {
  auto bin = dir / ("traces-" + std::to_string(n) + ".bin");
  auto txt = dir / ("decoded-" + std::to_string(n) + ".txt");
  std::ofstream(bin, std::ios::binary) << body;
  int rc = run_with_limit({"/bin/sh", "-c", "'" + protoc + "' --decode_raw < '" + bin.string() + "'"}, txt, 30s);
  EXPECT_EQ(rc, 0);
  auto root = parse_decode_raw(test_support::read_text(txt));
  EXPECT_TRUE(root) << test_support::read_text(txt);
  std::vector<RawSpan> out;
  if (!root) return out;
  for (const auto* rs : root->all(1)) {
    for (const auto* ss : rs->all(2)) {
      for (const auto* sp : ss->all(2)) {
        RawSpan span;
        auto text = [&](int field) {
          const auto* f = sp->first(field);
          return f != nullptr ? f->bytes() : std::string();
        };
        span.trace_id = text(1);
        span.span_id = text(2);
        span.parent = text(4);
        span.name = text(5);
        span.kind = sp->first(6) != nullptr ? std::stoi(sp->first(6)->scalar) : 0;
        for (const auto* kv : sp->all(9)) {
          const auto* key = kv->first(1);
          const auto* value = kv->first(2);
          if (key == nullptr || value == nullptr || !value->message || value->fields.empty()) continue;
          const auto& v = value->fields.front();  // AnyValue: 1 string_value, 3 int_value
          span.attributes[key->bytes()] = v.number == 1 ? v.bytes() : v.scalar;
        }
        if (const auto* status = sp->first(15); status != nullptr && status->first(3) != nullptr)
          span.error = status->first(3)->scalar == "2";
        out.push_back(std::move(span));
      }
    }
  }
  return out;
}

TEST(ObserveE2ETest, TheSpansOfALinkedRequestReachAnOtlpReceiverUnderOneTrace) {
  std::string protoc = find_program("protoc");
  if (protoc.empty())
    GTEST_SKIP() << "protoc is not installed (Debian package `protobuf-compiler`; ./x deps installs it)";
  OtlpReceiver receiver;
  StratusUp up(std::vector<std::string>{"--otlp-endpoint", "http://127.0.0.1:" + std::to_string(receiver.port())});
  ASSERT_TRUE(up.ready()) << up.log();
  // The ids are printable bytes, so protoc --decode_raw shows them as text:
  // "stratus-trace-id" and "parent-1".
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), up.port()});
  http::request<http::empty_body> req{http::verb::get, "/", 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(up.port()));
  req.set("traceparent", "00-737472617475732d74726163652d6964-706172656e742d31-01");
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  ASSERT_EQ(res.result_int(), 200);

  // The spans of the request: the server span, and below it, in the same
  // trace, the counter's invocation, its call through the link to the
  // greeter, and its wasi:keyvalue increment (a client span), each
  // parented where it happened. They may come in more than one batch (one
  // a second): each is decoded as it comes.
  std::vector<RawSpan> spans;
  std::string decoded;  // every batch as protoc printed it
  auto find = [&spans](int kind, const std::string& key) -> const RawSpan* {
    for (const auto& s : spans)
      if (s.kind == kind && s.attributes.count(key) != 0) return &s;
    return nullptr;
  };
  size_t decoded_bodies = 0;
  for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
    std::vector<std::string> now;
    for (auto& p : receiver.posts("/v1/traces", decoded_bodies + 1, 500ms))
      if (p.content_type == "application/x-protobuf") now.push_back(std::move(p.body));
    for (; decoded_bodies < now.size(); ++decoded_bodies) {
      for (auto& s : decode_spans(protoc, now[decoded_bodies], up.dir(), static_cast<int>(decoded_bodies)))
        spans.push_back(std::move(s));
      decoded += test_support::read_text(up.dir() / ("decoded-" + std::to_string(decoded_bodies) + ".txt"));
    }
    if (find(2, "http.route") && find(1, "stratus.export") && find(1, "stratus.link.function") &&
        find(3, "db.system.name"))
      break;
  }
  ASSERT_NE(decoded_bodies, 0u) << up.log();
  // ExportTraceServiceRequest.resource_spans(1).scope_spans(2).spans(2):
  // trace_id 1, parent_span_id 4, name 5, kind 6 (2: server), attributes 9.
  for (const char* want :
       {"1: \"stratus-trace-id\"", "4: \"parent-1\"", "5: \"GET /\"", "6: 2", "1: \"http.request.method\"",
        "1: \"GET\"", "1: \"url.path\"", "1: \"http.response.status_code\"", "3: 200", "1: \"http.route\"",
        "1: \"service.name\"", "1: \"stratus\"", "1: \"stratus.workload\"", "1: \"examples/counter\""}) {
    EXPECT_NE(decoded.find(want), std::string::npos) << want << " is not in\n" << decoded;
  }
  const RawSpan* server = find(2, "http.route");
  const RawSpan* invocation = find(1, "stratus.export");
  const RawSpan* link = find(1, "stratus.link.function");
  const RawSpan* kv = find(3, "db.system.name");
  ASSERT_TRUE(server && invocation && link && kv) << spans.size() << " spans\n" << up.log();
  for (const auto* s : {server, invocation, link, kv}) {
    EXPECT_EQ(s->trace_id, "stratus-trace-id") << s->name;
    EXPECT_EQ(s->span_id.size(), 8u) << s->name;
    EXPECT_FALSE(s->error) << s->name;
  }
  EXPECT_EQ(server->parent, "parent-1");
  EXPECT_EQ(invocation->parent, server->span_id);
  EXPECT_EQ(link->parent, invocation->span_id);
  EXPECT_EQ(kv->parent, invocation->span_id);  // the counter itself increments
  std::set<std::string> ids{server->span_id, invocation->span_id, link->span_id, kv->span_id};
  EXPECT_EQ(ids.size(), 4u);

  EXPECT_EQ(invocation->name, "invoke counter");
  EXPECT_EQ(invocation->attributes.at("stratus.component"), "counter");
  EXPECT_EQ(invocation->attributes.at("stratus.workload"), "examples/counter");
  EXPECT_EQ(link->attributes.at("stratus.link.caller"), "counter");
  EXPECT_EQ(link->attributes.at("stratus.link.callee"), "greeter");
  EXPECT_EQ(link->name.rfind("example:greeter/greet@0.1.0#", 0), 0u) << link->name;
  EXPECT_EQ(link->attributes.at("stratus.link.function"), link->name);
  EXPECT_EQ(kv->name, "increment examples/counter");
  EXPECT_EQ(kv->attributes.at("db.system.name"), "sqlite");
  EXPECT_EQ(kv->attributes.at("db.operation.name"), "increment");
  EXPECT_EQ(kv->attributes.at("db.namespace"), "examples/counter");
}

// protoc --decode_raw of `body`, or "" when it failed.
std::string decode_raw(const std::string& protoc, const std::filesystem::path& dir, const std::string& name,
                       const std::string& body) {
  std::ofstream(dir / (name + ".bin"), std::ios::binary) << body;
  int rc =
      run_with_limit({"/bin/sh", "-c", "'" + protoc + "' --decode_raw < '" + (dir / (name + ".bin")).string() + "'"},
                     dir / (name + ".txt"), 30s);
  return rc == 0 ? test_support::read_text(dir / (name + ".txt")) : std::string();
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

TEST(ObserveE2ETest, MetricsAndLogsReachAnOtlpReceiver) {
  std::string protoc = find_program("protoc");
  if (protoc.empty())
    GTEST_SKIP() << "protoc is not installed (Debian package `protobuf-compiler`; ./x deps installs it)";
  OtlpReceiver receiver;
  ScopedEnv env({{"OTEL_METRIC_EXPORT_INTERVAL", "200"}, {"OTEL_SERVICE_NAME", "otlp-e2e"}});
  StratusUp up(std::vector<std::string>{"--otlp-endpoint", receiver.url()});
  ASSERT_TRUE(up.ready()) << up.log();
  ASSERT_EQ(testing::get_with_traceparent(up.port()), 200);

  // The counter logs "visit N" through wasi:logging while it serves the
  // request: a log record under the request's trace. (It still goes to
  // stderr too.)
  ASSERT_TRUE(receiver.wait_for("/v1/logs", 10s, [](const OtlpReceiver::Post& p) { return has(p.body, "visit "); }))
      << up.log();
  EXPECT_TRUE(has(up.log(), "info examples/counter/counter counter: visit ")) << up.log();
  std::string logs;
  for (const auto& p : receiver.posts("/v1/logs", 1, 1s))
    if (has(p.body, "visit ")) logs = decode_raw(protoc, up.dir(), "logs", p.body);
  ASSERT_FALSE(logs.empty());
  // ExportLogsServiceRequest.resource_logs(1).scope_logs(2).log_records(2):
  // severity_number 2, severity_text 3, body 5 (string_value 1),
  // attributes 6, trace_id 9.
  for (const char* want : {"2: 9", "3: \"info\"", "1: \"visit ", "1: \"stratus.workload\"", "1: \"examples/counter\"",
                           "1: \"stratus.component\"", "1: \"counter\"", "9: \"stratus-trace-id\"", "1: \"otlp-e2e\""})
    EXPECT_TRUE(has(logs, want)) << want << " is not in\n" << logs;

  // The metrics every 200 ms: a request-duration histogram that saw the
  // request.
  ASSERT_TRUE(receiver.wait_for("/v1/metrics", 10s, [](const OtlpReceiver::Post& p) {
    return has(p.body, "http.server.request.duration") && has(p.body, "examples/counter");
  })) << up.log();
  std::string metrics;
  for (const auto& p : receiver.posts("/v1/metrics", 1, 1s))
    if (has(p.body, "http.server.request.duration")) metrics = decode_raw(protoc, up.dir(), "metrics", p.body);
  ASSERT_FALSE(metrics.empty());
  // Metric: name 1, unit 3, histogram 9 (aggregation_temporality 2: 2);
  // NumberDataPoint and HistogramDataPoint attributes.
  for (const char* want : {"1: \"http.server.request.duration\"", "3: \"s\"", "1: \"http.request.method\"",
                           "1: \"stratus.component.invocations\"", "1: \"http.server.active_requests\""})
    EXPECT_TRUE(has(metrics, want)) << want << " is not in\n" << metrics;
}

TEST(ObserveE2ETest, OtlpJsonWhenAsked) {
  OtlpReceiver receiver;
  ScopedEnv env({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}, {"OTEL_METRIC_EXPORT_INTERVAL", "200"}});
  StratusUp up(std::vector<std::string>{"--otlp-endpoint", receiver.url()});
  ASSERT_TRUE(up.ready()) << up.log();
  ASSERT_EQ(testing::get_with_traceparent(up.port()), 200);
  const std::string trace_hex = "737472617475732d74726163652d6964";  // "stratus-trace-id"
  for (const char* path : {"/v1/traces", "/v1/logs", "/v1/metrics"}) {
    auto posts = receiver.posts(path, 1, 10s);
    ASSERT_FALSE(posts.empty()) << path << "\n" << up.log();
    for (const auto& p : posts) {
      EXPECT_EQ(p.content_type, "application/json") << path;
      EXPECT_NO_THROW((void)nlohmann::json::parse(p.body)) << path << ": " << p.body;
    }
  }
  // The request's server span (its invocation's and the keyvalue call's
  // spans come too, in that batch or another).
  nlohmann::json s;
  ASSERT_TRUE(receiver.wait_for("/v1/traces", 10s, [&](const OtlpReceiver::Post& p) {
    auto j = nlohmann::json::parse(p.body);
    for (const auto& span : j["resourceSpans"][0]["scopeSpans"][0]["spans"])
      if (span["kind"] == 2) s = span;
    return !s.is_null();
  })) << "no server span";
  EXPECT_EQ(s["traceId"], trace_hex) << s.dump(1);
  EXPECT_EQ(s["parentSpanId"], "706172656e742d31");
  ASSERT_TRUE(receiver.wait_for("/v1/logs", 10s, [&](const OtlpReceiver::Post& p) { return has(p.body, trace_hex); }))
      << "no log record under the request's trace";
}

// A guest that instruments itself through wasi:otel (guests/otel-span): its
// span joins the request's trace as a child of the component's invocation
// span (itself the server span's child), and its log
// record and metric reach the receiver too. JSON, to compare the ids.
TEST(ObserveE2ETest, AGuestsOwnSpanJoinsTheRequestsTrace) {
  OtlpReceiver receiver;
  ScopedEnv env({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}, {"OTEL_METRIC_EXPORT_INTERVAL", "200"}});
  StratusUp up(std::vector<std::string>{"--otlp-endpoint", receiver.url()}, STRATUS_OTEL_WORKLOAD, "interp");
  ASSERT_TRUE(up.ready()) << up.log();
  ASSERT_EQ(testing::get_with_traceparent(up.port()), 200) << up.log();
  const std::string trace_hex = "737472617475732d74726163652d6964";

  // Both spans, in one batch or two.
  nlohmann::json server, invocation, guest;
  auto found = receiver.wait_for("/v1/traces", 10s, [&](const OtlpReceiver::Post&) { return true; });
  ASSERT_TRUE(found) << up.log();
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline && (server.is_null() || invocation.is_null() || guest.is_null());
       std::this_thread::sleep_for(50ms)) {
    for (const auto& p : receiver.posts("/v1/traces", 1, 1s)) {
      auto j = nlohmann::json::parse(p.body);
      for (const auto& s : j["resourceSpans"][0]["scopeSpans"][0]["spans"]) {
        if (s["kind"] == 2) server = s;
        if (s["name"].get<std::string>().rfind("invoke ", 0) == 0) invocation = s;
        if (s["name"] == "guest-work") guest = s;
      }
    }
  }
  ASSERT_FALSE(server.is_null()) << up.log();
  ASSERT_FALSE(guest.is_null()) << up.log();
  EXPECT_EQ(server["traceId"], trace_hex);
  EXPECT_EQ(guest["traceId"], trace_hex);
  ASSERT_FALSE(invocation.is_null()) << up.log();
  EXPECT_EQ(invocation["parentSpanId"], server["spanId"]) << invocation.dump(1) << "\n" << server.dump(1);
  EXPECT_EQ(guest["parentSpanId"], invocation["spanId"]) << guest.dump(1) << "\n" << invocation.dump(1);
  EXPECT_NE(guest["spanId"], server["spanId"]);
  EXPECT_EQ(guest["kind"], 1);  // internal
  bool answer = false, workload = false;
  for (const auto& a : guest["attributes"]) {
    if (a["key"] == "guest.answer") answer = a["value"]["intValue"] == "42";
    if (a["key"] == "stratus.workload") workload = a["value"]["stringValue"] == "observe/otel";
  }
  EXPECT_TRUE(answer) << guest.dump(1);
  EXPECT_TRUE(workload) << guest.dump(1);

  EXPECT_TRUE(receiver.wait_for("/v1/logs", 10s, [&](const OtlpReceiver::Post& p) {
    auto j = nlohmann::json::parse(p.body);
    for (const auto& r : j["resourceLogs"][0]["scopeLogs"][0]["logRecords"])
      if (r["body"]["stringValue"] == "hello from the guest" && r["traceId"] == trace_hex &&
          r["spanId"] == guest["spanId"])
        return true;
    return false;
  })) << "no log record of the guest's under its span";
  EXPECT_TRUE(receiver.wait_for("/v1/metrics", 10s, [](const OtlpReceiver::Post& p) {
    auto j = nlohmann::json::parse(p.body);
    for (const auto& scope : j["resourceMetrics"][0]["scopeMetrics"])
      for (const auto& m : scope["metrics"])
        if (m["name"] == "guest.requests" && scope["scope"]["name"] == "otel-span-guest" &&
            m["sum"]["dataPoints"][0]["asInt"] == "1" && m["sum"]["aggregationTemporality"] == 1)
          return true;
    return false;
  })) << "no guest.requests metric";

  // What the host refuses: a span with a bad trace id is dropped, said on
  // its log; an exponential histogram is an error result.
  auto bad = testing::http_get(up.port(), "/bad");
  ASSERT_EQ(bad.result_int(), 200) << up.log();
  EXPECT_EQ(bad.body(),
            "metric 'guest.latency': exponential histograms are not supported by stratus: use explicit bucket "
            "boundaries\n");
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       std::chrono::steady_clock::now() < deadline && !has(up.log(), "span 'bad-span' dropped");
       std::this_thread::sleep_for(20ms)) {
  }
  EXPECT_TRUE(has(up.log(),
                  "warn observe/otel/otel-span wasi:otel: span 'bad-span' dropped: its trace-id must be 32 and its "
                  "span-id 16 hex digits, not zero"))
      << up.log();
}

}  // namespace
}  // namespace stratus
