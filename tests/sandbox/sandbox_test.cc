// The sandbox's walls, proven in one suite (issue 24): a hostile guest
// (guest/src/main.cc) served by the workload runtime, as `stratus up` runs a
// workload.yaml granting it only specific things, tries each way out on
// both backends. Every try must be refused with the error the host gives
// for it, logged by the host, and leave the host serving: after each wall a
// second, healthy workload on the same host still answers. The suite ends
// with the table `wall | tries | refused`, which ./x test prints.
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <map>

#include "tests/support/server_process.h"
#include "tests/workload/runtime_fixture.h"

namespace stratus::workload {
namespace {

namespace fs = std::filesystem;
using test_host::Reply;

// One way out: the guest's request, the answer it must get (a part of the
// body), and the host's log line that must say so (a part of it; empty for
// a wall where nothing is refused, see the keyvalue and blobstore walls).
struct Try {
  std::string target;
  std::string answer;
  std::string logged;
};

// Each wall's tries and refusals, in the order they ran ("wall [backend]").
struct Row {
  std::string wall;
  int tries = 0;
  int refused = 0;
};
std::vector<Row>& table() {
  static std::vector<Row> rows;
  return rows;
}

class TableEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::printf("wall | tries | refused\n");
    for (const auto& r : table()) std::printf("%s | %d | %d\n", r.wall.c_str(), r.tries, r.refused);
    std::fflush(stdout);
  }
};
const auto* const kTable = ::testing::AddGlobalTestEnvironment(new TableEnvironment);

// A TCP listener on a loopback address, for the tries to aim at.
class Listener {
 public:
  explicit Listener(bool v6) {
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    }
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd_, 16) != 0) return;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// The hostile guest's workload: one volume of each kind (data, ro: folders
// beside the spec), loopback port `granted`, lookups of localhost, HTTP to
// the host's own listener (`router`), 16 MiB, two instances at once.
std::string hostile_yaml(const std::string& ns, const std::string& host, uint16_t router, uint16_t granted) {
  return "namespace: " + ns + "\nname: " + ns +
         "\nwit_world:\n  components:\n    - name: hostile\n      image: " + std::string(STRATUS_HOSTILE_COMPONENT) +
         "\n      max_concurrency: 2\n      local_resources:\n        memory_limit_mb: 16\n"
         "        allowed_hosts: [\"127.0.0.1:" +
         std::to_string(router) +
         "\"]\n        allowed_ip_name_lookups: [localhost]\n        allowed_host_loopback_ports: [" +
         std::to_string(granted) +
         "]\n        volume_mounts:\n          - {name: data, mount_path: /data}\n"
         "          - {name: ro, mount_path: /ro, read_only: true}\n"
         "  host_interfaces:\n"
         "    - {namespace: wasi, package: http, interfaces: [incoming-handler], config: {host: " +
         host +
         "}}\n"
         "    - {namespace: wasi, package: keyvalue, version: 0.2.0-draft, interfaces: [store]}\n"
         "    - {namespace: wasi, package: blobstore, version: 0.2.0-draft, interfaces: [blobstore]}\n"
         "volumes:\n  - {name: data, host_path: {local_path: data}}\n  - {name: ro, host_path: {local_path: ro}}\n";
}

// The healthy workload beside it: examples/http-hello on healthy.test.
std::string healthy_yaml() {
  return "namespace: healthy\nname: hello\nwit_world:\n  components:\n    - name: hello\n      image: " +
         test_host::example("http-hello") +
         "\n  host_interfaces:\n    - {namespace: wasi, package: http, interfaces: [incoming-handler], "
         "config: {host: healthy.test}}\n";
}

// The test's side of the volumes: data (read-write) and ro (read-only),
// beside a folder the guest must never reach, linked into data.
void make_volumes(const fs::path& dir) {
  for (const char* d : {"data", "ro", "outside", "data/sub"}) fs::create_directories(dir / d);
  std::ofstream(dir / "outside" / "secret.txt") << "the host's secret";
  std::ofstream(dir / "data" / "mine.txt") << "the guest's own file";
  std::ofstream(dir / "ro" / "ro.txt") << "read only";
  fs::create_directory_symlink(dir / "outside", dir / "data" / "abs-dir-link");
  fs::create_symlink(dir / "outside" / "secret.txt", dir / "data" / "abs-link");
  fs::create_symlink("../outside/secret.txt", dir / "data" / "rel-link");
  fs::create_symlink("../../outside/secret.txt", dir / "data" / "sub" / "deep-link");
  fs::create_directory_symlink("..", dir / "data" / "up-link");
  fs::create_symlink("/etc/passwd", dir / "data" / "passwd-link");
}

class SandboxTest : public test_host::WorkloadRuntimeTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string engine_name() const override { return GetParam(); }

  void SetUp() override {
    WorkloadRuntimeTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_GT(granted_.port(), 0);
    ASSERT_GT(ungranted_.port(), 0);
    make_volumes(dir_);

    auto hostile = start(hostile_yaml("hostile", "hostile.test", port_, granted_.port()));
    ASSERT_TRUE(hostile) << hostile.error().message;
    auto victim = start(hostile_yaml("victim", "victim.test", port_, granted_.port()));
    ASSERT_TRUE(victim) << victim.error().message;
    auto healthy = start(healthy_yaml());
    ASSERT_TRUE(healthy) << healthy.error().message;
    ASSERT_TRUE(serving()) << "the healthy workload answers before any try";
  }

  Reply ask(const std::string& target, const std::string& host = "hostile.test") {
    return test_host::get(port_, target, host);
  }

  bool serving() {
    auto r = ask("/", "healthy.test");
    return r.status == 200 && r.body.find("Hello") != std::string::npos;
  }

  // Whether the host logged a line holding `part` since `from` (an index
  // into host_lines_); waits up to 2 s for it.
  bool logged_since(size_t from, const std::string& part) {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(log_mu_);
        for (size_t at = from; at < host_lines_.size(); ++at)
          if (host_lines_[at].find(part) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  size_t lines() {
    std::lock_guard lock(log_mu_);
    return host_lines_.size();
  }

  // Runs the wall's tries; a try counts as refused when its answer holds
  // `answer`, the host logged `logged`, and it escaped nothing. After the
  // wall, the healthy workload must still answer.
  void wall(const std::string& name, const std::vector<Try>& tries) {
    Row row{name + " [" + GetParam() + "]", 0, 0};
    for (const auto& t : tries) {
      ++row.tries;
      size_t from = lines();
      auto r = ask(t.target);
      bool answered = r.body.find(t.answer) != std::string::npos && r.body.find("escaped") == std::string::npos;
      bool told = t.logged.empty() || logged_since(from, t.logged);
      EXPECT_TRUE(answered) << t.target << ": " << r.status << " " << r.body;
      EXPECT_TRUE(told) << t.target << ": the host did not log `" << t.logged << "`";
      if (answered && told) ++row.refused;
    }
    table().push_back(row);
    EXPECT_TRUE(serving()) << "after " << name << ", the healthy workload still answers";
  }

  Listener granted_{false}, ungranted_{false}, ungranted_v6_{true};
};

const std::string kWho = "hostile/hostile hostile: ";

TEST_P(SandboxTest, TcpToPortsAndHostsNotGranted) {
  std::string g = std::to_string(granted_.port()), p = std::to_string(ungranted_.port()),
              p6 = std::to_string(ungranted_v6_.port());
  // The grant itself works: the refusals below are the sandbox's.
  auto control = ask("/tcp-connect?ip=127.0.0.1&port=" + g);
  ASSERT_NE(control.body.find("escaped: connected to 127.0.0.1:" + g), std::string::npos) << control.body;
  const std::string denied = "refused: access-denied", invalid = "refused: invalid-argument";
  wall("tcp-ungranted",
       {{"/tcp-connect?ip=127.0.0.1&port=" + p, denied, kWho + "wasi:sockets: TCP connect to 127.0.0.1:" + p},
        {"/tcp-connect?ip=::1&port=" + p6, denied, kWho + "wasi:sockets: TCP connect to [::1]:" + p6},
        {"/tcp-connect?ip=127.0.0.2&port=" + g, denied, "TCP connect to 127.0.0.2:" + g + " refused: access-denied"},
        {"/tcp-connect?ip=127.1.2.3&port=" + g, denied, "TCP connect to 127.1.2.3:" + g + " refused: access-denied"},
        {"/tcp-connect?ip=0.0.0.0&port=" + g, invalid, "TCP connect to 0.0.0.0:" + g + " refused: invalid-argument"},
        {"/tcp-connect?ip=::&port=" + g, invalid, "TCP connect to [::]:" + g + " refused: invalid-argument"},
        {"/tcp-connect?ip=::ffff:127.0.0.1&port=" + g, invalid,
         "TCP connect to [::ffff:127.0.0.1]:" + g + " refused: invalid-argument"},
        {"/tcp-bind?ip=127.0.0.1&port=0", denied, "TCP bind 127.0.0.1:0 refused: access-denied"},
        {"/tcp-bind?ip=0.0.0.0&port=" + p, denied, "TCP bind 0.0.0.0:" + p + " refused: access-denied"}});
}

TEST_P(SandboxTest, UdpToPortsAndHostsNotGranted) {
  std::string g = std::to_string(granted_.port());
  const std::string denied = "refused: access-denied";
  wall("udp-ungranted",
       {{"/udp-bind?ip=127.0.0.1&port=0", denied, "UDP bind 127.0.0.1:0 refused: access-denied"},
        {"/udp-bind?ip=0.0.0.0&port=0", denied, "UDP bind 0.0.0.0:0 refused: access-denied"},
        {"/udp-bind?ip=::1&port=0", denied, "UDP bind [::1]:0 refused: access-denied"},
        {"/udp-bind?ip=::&port=0", denied, "UDP bind [::]:0 refused: access-denied"},
        {"/udp-bind?ip=127.0.0.1&port=" + g, denied, "UDP bind 127.0.0.1:" + g + " refused: access-denied"}});
}

TEST_P(SandboxTest, NameLookupsNotGranted) {
  auto control = ask("/lookup?name=localhost");
  ASSERT_NE(control.body.find("escaped: resolved localhost"), std::string::npos) << control.body;
  auto refused = [](const std::string& name) {
    return Try{"/lookup?name=" + name, "refused: access-denied",
               kWho + "wasi:sockets: resolve-addresses of `" + name + "` refused: access-denied"};
  };
  wall("dns-ungranted", {refused("example.com"), refused("evil.localhost"), refused("localhost.evil.test"),
                         refused("ip6-localhost"), refused("metadata.google.internal"), refused("localhost-evil")});
}

TEST_P(SandboxTest, PathsOutOfThePreopens) {
  auto control = ask("/open?dir=/data&path=mine.txt");
  ASSERT_NE(control.body.find("escaped: read mine.txt: the guest's own file"), std::string::npos) << control.body;
  auto out = [](const std::string& path) {
    return Try{"/open?dir=/data&path=" + path + "&follow=1", "refused: not-permitted",
               kWho + "wasi:filesystem: open-at `" + path + "` refused: not-permitted"};
  };
  wall("fs-escape", {out("../outside/secret.txt"), out("sub/../../outside/secret.txt"), out("/etc/passwd"),
                     out("abs-link"), out("rel-link"), out("sub/deep-link"), out("up-link/outside/secret.txt"),
                     out("abs-dir-link/secret.txt"), out("passwd-link"), out("..")});
}

TEST_P(SandboxTest, LinksOutOfThePreopens) {
  const std::string np = "refused: not-permitted";
  wall(
      "fs-links",
      {{"/link?dir=/data&old=../outside/secret.txt&new=h1", np,
        "link-at `../outside/secret.txt` -> `h1` refused: not-permitted"},
       {"/link?dir=/data&old=/etc/passwd&new=h2", np, "link-at `/etc/passwd` -> `h2` refused: not-permitted"},
       {"/link?dir=/data&old=mine.txt&new=../outside/h3", np,
        "link-at `mine.txt` -> `../outside/h3` refused: not-permitted"},
       // Following a symlink that points out would hard-link the file it names.
       {"/link?dir=/data&old=rel-link&new=h4&follow=1", "refused: invalid",
        "link-at `rel-link` following symlinks refused: invalid"},
       // Without following, the new name is a second name of the symlink:
       // reading through it is refused as the symlink is.
       {"/link?dir=/data&old=abs-link&new=h5", np, "open-at `h5` refused: not-permitted"},
       {"/symlink?dir=/data&target=/etc/passwd&name=s1", np, "symlink-at `s1` -> `/etc/passwd` refused: not-permitted"},
       {"/symlink?dir=/data&target=../outside/secret.txt&name=s2", np, "open-at `s2` refused: not-permitted"}});
  EXPECT_FALSE(fs::exists(dir_ / "outside" / "h3"));
}

TEST_P(SandboxTest, WritesToAReadOnlyMount) {
  auto control = ask("/open?dir=/ro&path=ro.txt");
  ASSERT_NE(control.body.find("escaped: read ro.txt: read only"), std::string::npos) << control.body;
  const std::string ro = "refused: read-only";
  wall("fs-read-only",
       {{"/open?dir=/ro&path=new.txt&create=1&write=1", ro, "open-at `new.txt` refused: read-only"},
        {"/open?dir=/ro&path=ro.txt&write=1", ro, "open-at `ro.txt` refused: read-only"},
        {"/open?dir=/ro&path=ro.txt&truncate=1", ro, "open-at `ro.txt` refused: read-only"},
        {"/mkdir?dir=/ro&path=d", ro, "create-directory-at `d` refused: read-only"},
        {"/unlink?dir=/ro&path=ro.txt", ro, "unlink-file-at `ro.txt` refused: read-only"},
        {"/rename?dir=/ro&old=ro.txt&new=moved.txt", ro, "rename-at `ro.txt` -> `moved.txt` refused: read-only"},
        {"/set-times?dir=/ro", ro, "set-times `(a directory)` refused: read-only"},
        {"/symlink?dir=/ro&target=ro.txt&name=s", ro, "symlink-at `s` -> `ro.txt` refused: read-only"},
        {"/write-fd?dir=/ro&path=ro.txt", "refused: bad-descriptor", "write-via-stream `(a descriptor)` refused"}});
  std::ifstream in(dir_ / "ro" / "ro.txt");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "read only");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "ro"), {}), 1) << "nothing made under /ro";
}

TEST_P(SandboxTest, OutboundHttpToHostsNotAllowed) {
  std::string self = std::to_string(port_), p = std::to_string(ungranted_.port());
  // The granted authority reaches the router (which has no route for it).
  auto control = ask("/http?authority=127.0.0.1:" + self);
  ASSERT_NE(control.body.find("escaped: HTTP 404"), std::string::npos) << control.body;
  auto denied = [](const std::string& authority) {
    return Try{"/http?authority=" + authority, "refused: HTTP-request-denied",
               kWho + "wasi:http: a request to " + authority + " refused: HTTP-request-denied"};
  };
  wall("http-ungranted", {denied("127.0.0.1:" + p),
                          denied("localhost:" + self),
                          denied("[::1]:" + self),
                          denied("0.0.0.0:" + self),
                          denied("127.0.0.2:" + self),
                          denied("example.com"),
                          denied("127.0.0.1"),
                          {"/http?authority=127.0.0.1:" + self + "@example.com", "refused: HTTP-request-",
                           "wasi:http: a request to `127.0.0.1:" + self + "@example.com` refused"}});
}

TEST_P(SandboxTest, MemoryPastTheLimit) {
  // 16 MiB is 256 pages: the guest may grow to it, never past it.
  const std::string trap = "hostile/hostile: GET /vector?mb=64: trap:";
  wall("memory-limit", {{"/grow?pages=65536", "refused: memory.grow by 65536 pages failed", ""},
                        {"/grow?pages=512", "refused: memory.grow by 512 pages failed", ""},
                        {"/grow-loop?limit-pages=256", "refused: memory.grow failed at 256 pages", ""},
                        {"/malloc?mb=64", "refused: malloc of 64 MiB returned null", ""},
                        {"/vector?mb=64", "the component failed: trap:", trap}});
}

TEST_P(SandboxTest, DeepRecursion) {
  auto trapped = [](const std::string& kind) {
    return Try{"/recurse?kind=" + kind, "the component failed: trap: call stack exhausted",
               "hostile/hostile: GET /recurse?kind=" + kind + ": trap: call stack exhausted"};
  };
  wall("deep-recursion", {trapped("direct"), trapped("mutual"), trapped("wide")});
}

TEST_P(SandboxTest, HandleExhaustion) {
  auto trapped = [](const std::string& kind) {
    return Try{"/handles?kind=" + kind, "handle table is full",
               "hostile/hostile: GET /handles?kind=" + kind + ": trap: "};
  };
  wall("handle-exhaustion", {trapped("fields"),
                             trapped("streams"),
                             trapped("pollables"),
                             {"/handles?kind=sockets", "refused: new-socket-limit after 256 sockets",
                              kWho + "wasi:sockets: create-tcp-socket refused: new-socket-limit"},
                             {"/handles?kind=lookups", "refused: new-socket-limit after 256 lookups",
                              kWho + "wasi:sockets: resolve-addresses refused: new-socket-limit"}});
}

TEST_P(SandboxTest, AFloodPastMaxConcurrency) {
  // max_concurrency 2: two run, up to 8 wait, the rest get 503 at once.
  constexpr int kFlood = 24;
  constexpr int kSleepMs = 200;
  std::vector<std::thread> clients;
  std::atomic<int> served{0}, busy{0}, other{0};
  size_t from = lines();
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kFlood; ++i) {
    clients.emplace_back([&] {
      auto r = ask("/sleep?ms=" + std::to_string(kSleepMs));
      if (r.status == 200 && r.body == "ok\n")
        ++served;
      else if (r.status == 503 &&
               r.body.find("the component is busy: 2 requests run (its limit) and 8 wait") != std::string::npos)
        ++busy;
      else
        ++other;
    });
  }
  // The host goes on serving the other workload during the flood.
  EXPECT_TRUE(serving()) << "during the flood";
  for (auto& t : clients) t.join();
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(other.load(), 0);
  EXPECT_GE(busy.load(), 1) << "more than 10 at once are refused";
  EXPECT_LE(served.load(), kFlood - busy.load());
  // Two at a time: the served requests took at least served/2 sleeps.
  EXPECT_GE(took, std::chrono::milliseconds(kSleepMs * (served.load() / 2) * 9 / 10));
  bool told = busy.load() == 0 || logged_since(from, "hostile/hostile: refused a request: the component is busy");
  EXPECT_TRUE(told);
  // Each request past max_concurrency is a try: queued in turn or refused.
  int past = kFlood - 2;
  table().push_back(Row{"concurrency-flood [" + GetParam() + "]", past, other.load() == 0 && told ? past : 0});
  EXPECT_TRUE(serving()) << "after the flood";
}

TEST_P(SandboxTest, AnotherWorkloadsKeyvalueAndBlobs) {
  // The victim (namespace victim) keeps a secret in each.
  ASSERT_EQ(ask("/kv-plant?bucket=secrets&key=k&value=victims-kv", "victim.test").body, "ok\n");
  ASSERT_EQ(ask("/blob-plant?container=secrets&object=o&value=victims-blob", "victim.test").body, "ok\n");
  ASSERT_EQ(ask("/kv-read?bucket=secrets&key=k", "victim.test").body, "escaped: read victims-kv\n");
  // The same names from the hostile workload are its own, empty: nothing to
  // refuse, so nothing is logged; reading finds nothing.
  wall("keyvalue-other-workload", {{"/kv-read?bucket=secrets&key=k", "refused: no key `k` in bucket `secrets`", ""},
                                   {"/kv-read?bucket=../victim/secrets&key=k", "refused:", ""},
                                   {"/kv-read?bucket=victim/secrets&key=k", "refused:", ""}});
  wall("blobstore-other-workload", {{"/blob-read?container=secrets&object=o", "refused: no container `secrets`", ""},
                                    {"/blob-read?container=../victim/secrets&object=o", "refused:", ""},
                                    {"/blob-read?container=../../victim/secrets&object=o", "refused:", ""}});
}

// A few tries of each kind again through `stratus up` itself, as a user
// runs it: the spec files beside their volumes, the host's lines on its
// stderr ("stratus up: ..." for refusals, "stratus serve: ..." for traps).
class StratusUpTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stratus-sandbox-up-" + std::to_string(::getpid()) + "-" + GetParam());
    fs::remove_all(dir_);
    make_volumes(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Whether the process's output holds `part`; waits up to 2 s for it.
  bool logged(const std::string& part) {
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(dir_ / "up.log");
      std::string text((std::istreambuf_iterator<char>(in)), {});
      if (text.find(part) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  fs::path dir_;
};

TEST_P(StratusUpTest, TheWallsHoldUnderStratusUp) {
  Listener granted(false);
  ASSERT_GT(granted.port(), 0);
  uint16_t port = test_support::free_loopback_port();
  std::ofstream(dir_ / "hostile.yaml") << hostile_yaml("hostile", "hostile.test", port, granted.port());
  std::ofstream(dir_ / "healthy.yaml") << healthy_yaml();
  test_support::ServerProcess up(
      {STRATUS_BINARY, "up", (dir_ / "hostile.yaml").string(), (dir_ / "healthy.yaml").string(), "--addr",
       "127.0.0.1:" + std::to_string(port), "--engine", GetParam(), "--cache-dir", STRATUS_TEST_CACHE_DIR, "--data-dir",
       (dir_ / "state").string()},
      port, (dir_ / "up.log").string());
  ASSERT_TRUE(up.running()) << "stratus up did not listen on " << port;
  auto serving = [&] { return test_host::get(port, "/", "healthy.test").body == "Hello from stratus!\n"; };
  ASSERT_TRUE(serving());

  std::string g = std::to_string(granted.port());
  const std::string who = "stratus up: hostile/hostile hostile: ";
  const std::vector<Try> tries = {
      {"/tcp-connect?ip=127.0.0.2&port=" + g, "refused: access-denied",
       who + "wasi:sockets: TCP connect to 127.0.0.2:" + g + " refused: access-denied"},
      {"/lookup?name=example.com", "refused: access-denied",
       who + "wasi:sockets: resolve-addresses of `example.com` refused: access-denied"},
      {"/open?dir=/data&path=rel-link&follow=1", "refused: not-permitted",
       who + "wasi:filesystem: open-at `rel-link` refused: not-permitted"},
      {"/mkdir?dir=/ro&path=d", "refused: read-only",
       who + "wasi:filesystem: create-directory-at `d` refused: read-only"},
      {"/http?authority=example.com", "refused: HTTP-request-denied",
       who + "wasi:http: a request to example.com refused: HTTP-request-denied"},
      {"/recurse?kind=direct", "trap: call stack exhausted",
       "stratus serve: hostile/hostile: GET /recurse?kind=direct: trap: call stack exhausted"},
      {"/handles?kind=sockets", "refused: new-socket-limit after 256 sockets",
       who + "wasi:sockets: create-tcp-socket refused: new-socket-limit"}};
  Row row{"stratus-up [" + GetParam() + "]", 0, 0};
  for (const auto& t : tries) {
    ++row.tries;
    auto r = test_host::get(port, t.target, "hostile.test");
    bool answered = r.body.find(t.answer) != std::string::npos && r.body.find("escaped") == std::string::npos;
    bool told = logged(t.logged);
    EXPECT_TRUE(answered) << t.target << ": " << r.status << " " << r.body;
    EXPECT_TRUE(told) << t.target << ": stratus up did not log `" << t.logged << "`";
    EXPECT_TRUE(serving()) << "after " << t.target;
    if (answered && told) ++row.refused;
  }
  table().push_back(row);
}

INSTANTIATE_TEST_SUITE_P(Backends, StratusUpTest, ::testing::Values("aot", "interp"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Backends, SandboxTest, ::testing::Values("aot", "interp"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace stratus::workload
