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

#include "tests/support/http_get.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace stratus {
namespace {

using namespace std::chrono_literals;
using test_support::free_loopback_port;
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
  explicit StratusUp(const std::vector<std::string>& extra = {})
      : dir_("stratus-observe"),
        port_(free_loopback_port()),
        metrics_port_(free_loopback_port()),
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
                               STRATUS_EXAMPLES_DIR "/workload.yaml",
                               "--addr",
                               "127.0.0.1:" + std::to_string(port_),
                               "--metrics-addr",
                               "127.0.0.1:" + std::to_string(metrics_port_),
                               "--data-dir",
                               (dir_.path() / "data").string(),
                               "--engine",
                               "aot",
                               "--cache-dir",
                               STRATUS_TEST_CACHE_DIR};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  TempDir dir_;
  uint16_t port_, metrics_port_;
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

// An OTLP/HTTP receiver on loopback: it answers every POST with 200 and
// keeps the bodies sent to /v1/traces.
class OtlpReceiver {
 public:
  OtlpReceiver() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~OtlpReceiver() {
    done_ = true;
    try {  // wakes the accept
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket s(io);
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
    } catch (const std::exception&) {
    }
    thread_.join();
  }
  uint16_t port() const { return port_; }
  // The bodies so far, once there are more than `after` (waiting up to `limit`).
  std::vector<std::string> bodies(std::chrono::milliseconds limit, size_t after) {
    std::unique_lock lock(mu_);
    got_.wait_for(lock, limit, [this, after] { return bodies_.size() > after; });
    return bodies_;
  }

 private:
  void serve() {
    namespace http = boost::beast::http;
    while (!done_) {
      boost::beast::error_code ec;
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || done_) continue;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      if (req.method() == http::verb::post && req.target() == "/v1/traces" &&
          req[http::field::content_type] == "application/x-protobuf") {
        std::lock_guard lock(mu_);
        bodies_.push_back(req.body());
        got_.notify_all();
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/x-protobuf");
      res.prepare_payload();
      http::write(socket, res, ec);
    }
  }
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::condition_variable got_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

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
    auto now = receiver.bodies(500ms, decoded_bodies);
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

}  // namespace
}  // namespace stratus
