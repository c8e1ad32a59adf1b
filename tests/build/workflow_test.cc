// The guest workflow through the `stratus` binary, as a user runs it:
// `stratus new` -> `stratus build` -> `stratus serve` answering real HTTP
// requests, or `stratus run`; build errors that say where; and the examples
// the project's build made with `stratus build`.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/process.h"
#include "tests/support/http_get.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace stratus {
namespace {

namespace fs = std::filesystem;

const std::string kStratus = STRATUS_BINARY;

using test_support::TempDir;

// A shell command line; what it printed on stdout and stderr, together.
ProcessResult sh(const std::string& command) {
  auto r = run_process({"/bin/sh", "-c", command});
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : ProcessResult{};
}

int exit_code(const ProcessResult& r) { return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1; }

// The names of the custom sections of the first core module a component's
// outermost level holds, the project's own code in what `stratus build`
// makes (jco puts the WASI adapter after it); empty when there is none.
std::vector<std::string> core_custom_sections(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto leb = [&](size_t& i, size_t end) {
    uint64_t v = 0;
    for (int shift = 0; i < end && shift < 64; shift += 7) {
      auto byte = static_cast<uint8_t>(b[i++]);
      v |= uint64_t(byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    return static_cast<size_t>(v);
  };
  std::vector<std::string> names;
  auto sections = [&](size_t i, size_t end, auto&& each) {
    while (i < end) {
      uint8_t id = static_cast<uint8_t>(b[i++]);
      size_t size = leb(i, end);
      if (size > end - i) return;
      each(id, i, i + size);
      i += size;
    }
  };
  if (b.size() < 8) return names;
  bool first = true;
  sections(8, b.size(), [&](uint8_t id, size_t start, size_t end) {
    if (id != 1 || !first) return;  // the first core module
    first = false;
    sections(start + 8, end, [&](uint8_t inner, size_t s, size_t e) {
      if (inner != 0) return;
      size_t at = s;
      size_t len = leb(at, e);
      if (len <= e - at) names.push_back(b.substr(at, len));
    });
  });
  return names;
}

// `stratus serve ARGS --addr 127.0.0.1:0` (or another subcommand that
// prints where it listens) in the background, from `dir`; stopped with
// SIGTERM when the test ends.
class Server {
 public:
  Server(const fs::path& dir, const std::string& args, const std::string& subcommand = "serve") {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::string command =
        "cd '" + dir.string() + "' && exec " + kStratus + " " + subcommand + " " + args + " --addr 127.0.0.1:0";
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    if (posix_spawn(&pid_, "/bin/sh", &actions, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    // "stratus serve: listening on http://127.0.0.1:PORT/"; `stratus up`
    // names it first in the line of its first workload.
    char line[256];
    while (pid_ > 0 && std::fgets(line, sizeof line, out_) != nullptr) {
      std::string s(line);
      auto at = s.find("http://127.0.0.1:");
      if (at == std::string::npos) continue;
      port_ = static_cast<uint16_t>(std::stoi(s.substr(at + 17)));
      break;
    }
  }
  ~Server() { (void)stop(); }
  uint16_t port() const { return port_; }
  // Stops the server; its exit code.
  int stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (out_ != nullptr) std::fclose(out_);
    out_ = nullptr;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  uint16_t port_ = 0;
};

// The README's first command: `stratus up` serving the example workload,
// whose count lives on in the embedded store across a restart.
TEST(WorkflowTest, UpServesTheExampleWorkloadAndARestartKeepsItsCount) {
  TempDir tmp;
  std::string args = "--cache-dir " + std::string(STRATUS_TEST_CACHE_DIR) + " --data-dir " +
                     (tmp.path() / "data").string() + " " + STRATUS_EXAMPLE_WORKLOAD;
  {
    Server up(tmp.path(), args, "up");
    ASSERT_NE(up.port(), 0) << "stratus up did not start";
    EXPECT_EQ(testing::http_get(up.port(), "/").body(), "Hello, stratus user! This page has had 1 visit.\n");
    EXPECT_EQ(testing::http_get(up.port(), "/").body(), "Hello, stratus user! This page has had 2 visits.\n");
    EXPECT_EQ(up.stop(), 0);
  }
  Server again(tmp.path(), args, "up");
  ASSERT_NE(again.port(), 0);
  EXPECT_EQ(testing::http_get(again.port(), "/").body(), "Hello, stratus user! This page has had 3 visits.\n");
  EXPECT_EQ(testing::http_get(again.port(), "/count").body(), "3\n");
  EXPECT_EQ(again.stop(), 0);
  EXPECT_TRUE(fs::exists(tmp.path() / "data" / "keyvalue.sqlite"));
}

TEST(WorkflowTest, NewBuildServeAnswersHttpAndRebuildsOnlyWhatChanged) {
  TempDir tmp;
  auto made = sh("cd " + tmp.path().string() + " && " + kStratus + " new demo --template http-hello");
  ASSERT_EQ(exit_code(made), 0) << made.output;
  fs::path demo = tmp.path() / "demo";
  auto built = sh("cd " + demo.string() + " && " + kStratus + " build");
  ASSERT_EQ(exit_code(built), 0) << built.output;
  EXPECT_NE(built.output.find("built build/demo.wasm in"), std::string::npos) << built.output;
  ASSERT_TRUE(fs::exists(demo / "build/demo.wasm"));
  // A release build has no name section; --debug keeps it.
  auto release_sections = core_custom_sections(demo / "build/demo.wasm");
  ASSERT_FALSE(release_sections.empty());  // producers, at least: the walk found the modules
  EXPECT_EQ(std::count(release_sections.begin(), release_sections.end(), "name"), 0);
  auto debug = sh("cd " + demo.string() + " && " + kStratus +
                  " build --debug --build-dir build/debug --out build/demo-debug.wasm --quiet");
  ASSERT_EQ(exit_code(debug), 0) << debug.output;
  auto debug_sections = core_custom_sections(demo / "build/demo-debug.wasm");
  EXPECT_GT(std::count(debug_sections.begin(), debug_sections.end(), "name"), 0);
  EXPECT_LT(fs::file_size(demo / "build/demo.wasm"), 300 * 1024) << "the release template component";

  {
    Server server(demo, "--engine interp build/demo.wasm");
    ASSERT_NE(server.port(), 0) << "stratus serve did not start";
    auto named = testing::http_get(server.port(), "/?name=Ada");
    EXPECT_EQ(named.result_int(), 200);
    EXPECT_EQ(named.body(), "Hello, Ada!\n");
    auto plain = testing::http_get(server.port(), "/");
    EXPECT_EQ(plain.body(), "Hello from stratus!\n");
    EXPECT_EQ(plain[boost::beast::http::field::content_type], "text/plain; charset=utf-8");
    auto missing = testing::http_get(server.port(), "/nowhere");
    EXPECT_EQ(missing.result_int(), 404);
    EXPECT_EQ(server.stop(), 0);
  }

  auto again = sh("cd " + demo.string() + " && " + kStratus + " build");
  ASSERT_EQ(exit_code(again), 0) << again.output;
  EXPECT_NE(again.output.find("build/demo.wasm is up to date"), std::string::npos) << again.output;
  std::ofstream(demo / "src/main.cc", std::ios::app) << "// edited\n";
  auto edited = sh("cd " + demo.string() + " && " + kStratus + " build");
  ASSERT_EQ(exit_code(edited), 0) << edited.output;
  EXPECT_NE(edited.output.find("compile src/main.cc"), std::string::npos) << edited.output;
  EXPECT_EQ(edited.output.find("compile build/bindings/bindings.cc"), std::string::npos) << edited.output;
  EXPECT_NE(edited.output.find("built build/demo.wasm"), std::string::npos) << edited.output;
}

// The WASI 0.3 template: an async handler (a C++ coroutine) whose body a
// spawned coroutine streams after the response has gone out.
TEST(WorkflowTest, NewHttpP3BuildServeStreamsTheBody) {
  TempDir tmp;
  auto made = sh("cd " + tmp.path().string() + " && " + kStratus + " new demo --template http-p3");
  ASSERT_EQ(exit_code(made), 0) << made.output;
  fs::path demo = tmp.path() / "demo";
  auto built = sh("cd " + demo.string() + " && " + kStratus + " build");
  ASSERT_EQ(exit_code(built), 0) << built.output;
  ASSERT_TRUE(fs::exists(demo / "build/bindings/stratus_guest_async.h"));

  Server server(demo, "--engine interp build/demo.wasm");
  ASSERT_NE(server.port(), 0) << "stratus serve did not start";
  auto res = testing::http_get(server.port(), "/demo?n=2");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[boost::beast::http::field::content_type], "text/plain");
  // Streamed: no length known up front.
  EXPECT_TRUE(res.chunked());
  EXPECT_EQ(res.body(),
            "Hello from a WASI 0.3 component in C++!\nchunk 1 of 2 for /demo?n=2\nchunk 2 of 2 for /demo?n=2\n");
  EXPECT_EQ(server.stop(), 0);
}

TEST(WorkflowTest, CliTemplateReadsStdinArgumentsAndOnlyGrantedFiles) {
  TempDir tmp;
  fs::path tool = tmp.path() / "tool";
  auto made = sh(kStratus + " new tool --template cli --dir " + tool.string());
  ASSERT_EQ(exit_code(made), 0) << made.output;
  auto built = sh("cd " + tool.string() + " && " + kStratus + " build --quiet");
  ASSERT_EQ(exit_code(built), 0) << built.output;
  std::string run = kStratus + " run --engine interp ";
  auto piped = sh("echo 'one two three' | " + run + (tool / "build/tool.wasm").string());
  EXPECT_EQ(exit_code(piped), 0) << piped.output;
  EXPECT_EQ(piped.output, "      1       3      14\n");

  fs::create_directories(tmp.path() / "data");
  std::ofstream(tmp.path() / "data/notes.txt") << "a b\nc\n";
  auto file = sh(run + "--dir " + (tmp.path() / "data").string() + "::/data " + (tool / "build/tool.wasm").string() +
                 " /data/notes.txt");
  EXPECT_EQ(exit_code(file), 0) << file.output;
  EXPECT_EQ(file.output, "      2       3       6 /data/notes.txt\n");
  auto outside = sh(run + (tool / "build/tool.wasm").string() + " /etc/hostname");
  EXPECT_EQ(exit_code(outside), 1) << outside.output;
  EXPECT_NE(outside.output.find("cli: /etc/hostname: "), std::string::npos) << outside.output;
}

TEST(WorkflowTest, BuildErrorsSayWhere) {
  TempDir tmp;
  fs::path p = tmp.path() / "broken";
  ASSERT_EQ(exit_code(sh(kStratus + " new broken --dir " + p.string())), 0);

  // A WIT mistake: file, line and column of the project's own file.
  std::ofstream(p / "wit/app.wit") << "package component:broken;\n\nworld app {\n  include ;\n}\n";
  auto wit = sh("cd " + p.string() + " && " + kStratus + " build");
  EXPECT_EQ(exit_code(wit), 1) << wit.output;
  EXPECT_NE(wit.output.find("stratus: build: wit/app.wit:4:11: "), std::string::npos) << wit.output;

  // A world that is not there.
  std::ofstream(p / "wit/app.wit")
      << "package component:broken;\n\nworld app {\n  include wasi:http/proxy@0.2.12;\n}\n";
  std::ofstream(p / "stratus.json") << R"({"name": "broken", "world": "nope"})";
  auto world = sh("cd " + p.string() + " && " + kStratus + " build");
  EXPECT_EQ(exit_code(world), 1) << world.output;
  EXPECT_NE(world.output.find("nope"), std::string::npos) << world.output;

  // A C++ mistake: the compiler's message, with the file and line.
  std::ofstream(p / "stratus.json") << R"({"name": "broken", "world": "app"})";
  std::ofstream(p / "src/main.cc", std::ios::app) << "int broken = ;\n";
  auto cxx = sh("cd " + p.string() + " && " + kStratus + " build");
  EXPECT_EQ(exit_code(cxx), 1) << cxx.output;
  EXPECT_NE(cxx.output.find("src/main.cc:"), std::string::npos) << cxx.output;
  EXPECT_NE(cxx.output.find("error: expected expression"), std::string::npos) << cxx.output;
  EXPECT_FALSE(fs::exists(p / "build/broken.wasm"));

  // Not a project at all.
  auto none = sh("cd " + tmp.path().string() + " && " + kStratus + " build");
  EXPECT_EQ(exit_code(none), 1) << none.output;
  EXPECT_NE(none.output.find("stratus.json"), std::string::npos) << none.output;
}

// The examples, built by the project's build with `stratus build`, on the
// aot backend (the interp one ran above).
TEST(ExamplesTest, HttpHelloServes) {
  Server server(fs::current_path(),
                std::string("--engine aot --cache-dir ") + STRATUS_TEST_CACHE_DIR + " " + STRATUS_EXAMPLE_HTTP_HELLO);
  ASSERT_NE(server.port(), 0) << "stratus serve did not start";
  auto res = testing::http_get(server.port(), "/?name=stratus");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "Hello, stratus!\n");
  EXPECT_EQ(server.stop(), 0);
}

// The request's body read as a stream, many chunks written back, on aot.
TEST(ExamplesTest, HttpP3StreamsBothWays) {
  Server server(fs::current_path(),
                std::string("--engine aot --cache-dir ") + STRATUS_TEST_CACHE_DIR + " " + STRATUS_EXAMPLE_HTTP_P3);
  ASSERT_NE(server.port(), 0) << "stratus serve did not start";
  std::string body(3 << 20, 'x');
  TempDir tmp;
  std::ofstream(tmp.path() / "body") << body;
  auto r = sh("curl -s -S --data-binary @" + (tmp.path() / "body").string() +
              " 'http://127.0.0.1:" + std::to_string(server.port()) + "/up?n=2000'");
  ASSERT_EQ(exit_code(r), 0) << r.output;
  EXPECT_EQ(r.output.rfind("Hello from a WASI 0.3 component in C++!\nyour request's body had 3145728 bytes\n", 0), 0u)
      << r.output.substr(0, 200);
  EXPECT_NE(r.output.find("chunk 2000 of 2000 for /up?n=2000\n"), std::string::npos);
  size_t lines = 0;
  for (char c : r.output) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 2002u);
  EXPECT_EQ(server.stop(), 0);
}

TEST(ExamplesTest, CliCounts) {
  auto r = sh("printf 'a\\nb c\\n' | " + kStratus + " run --engine aot --cache-dir " + STRATUS_TEST_CACHE_DIR + " " +
              STRATUS_EXAMPLE_CLI + " 2>/dev/null");
  EXPECT_EQ(exit_code(r), 0) << r.output;
  EXPECT_EQ(r.output, "      2       3       6\n");
}

}  // namespace
}  // namespace stratus
