// What a workload may ask of the host's plugins, and what it is told when
// the host lacks it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "plugins/plugins.h"

namespace stratus::plugins {
namespace {

namespace fs = std::filesystem;

class HostPluginsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = fs::temp_directory_path() / ("stratus-plugins-" + std::to_string(::getpid()));
  }
  void TearDown() override { fs::remove_all(options_.data_dir); }

  Result<std::unique_ptr<HostPlugins>> create(std::vector<InterfaceRequest> requests) {
    return HostPlugins::create(requests, options_);
  }
  HostOptions options_;
};

InterfaceRequest request(std::string package, std::string version, std::vector<std::string> interfaces,
                         std::string where = "host_interfaces[0]") {
  return InterfaceRequest{"wasi", std::move(package), std::move(version), std::move(interfaces), {}, std::move(where)};
}

TEST_F(HostPluginsTest, ProvidesWhatWasAskedForAndNothingElse) {
  auto p = create({request("keyvalue", "0.2.0-draft", {"store", "atomics"}), request("config", "", {"store"})});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE((*p)->provides("wasi:keyvalue/store@0.2.0-draft"));
  EXPECT_TRUE((*p)->provides("wasi:keyvalue/atomics@0.2.0-draft"));
  EXPECT_FALSE((*p)->provides("wasi:keyvalue/batch@0.2.0-draft")) << "not asked for";
  EXPECT_TRUE((*p)->provides("wasi:config/store@0.2.0-rc.1"));
  EXPECT_FALSE((*p)->provides("wasi:logging/logging@0.1.0-draft")) << "not asked for";
  EXPECT_FALSE((*p)->provides("wasi:keyvalue/store@0.1.0")) << "another minor of 0.x";
  EXPECT_FALSE((*p)->provides("wasi:keyvalue/store")) << "unversioned";
  EXPECT_FALSE((*p)->provides("example:keyvalue/store@0.2.0-draft"));
  EXPECT_TRUE(fs::exists(options_.data_dir / "keyvalue.sqlite")) << "the embedded default";
}

TEST_F(HostPluginsTest, EveryProblemIsNamedWithItsField) {
  auto p = create({
      InterfaceRequest{"wasi", "blobstore-x", "", {"x"}, {}, "wit_world.host_interfaces[0]"},
      request("keyvalue", "0.3.0", {"store"}, "wit_world.host_interfaces[1]"),
      request("config", "", {"store", "watch"}, "wit_world.host_interfaces[2]"),
      InterfaceRequest{"wasi", "logging", "", {}, {{"level", "loud"}}, "wit_world.host_interfaces[3]"},
  });
  ASSERT_FALSE(p);
  const std::string& m = p.error().message;
  EXPECT_NE(m.find("wit_world.host_interfaces[0]: the host has no wasi:blobstore-x (it offers "), std::string::npos)
      << m;
  EXPECT_NE(m.find("wasi:keyvalue@0.2.0-draft"), std::string::npos) << m;
  EXPECT_NE(m.find("wit_world.host_interfaces[1]: the host has wasi:keyvalue@0.2.0-draft, which does not serve @0.3.0"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("wit_world.host_interfaces[2]: wasi:config has no interface `watch`"), std::string::npos) << m;
  EXPECT_NE(m.find("wit_world.host_interfaces[3].config.level: not one of"), std::string::npos) << m;
}

TEST_F(HostPluginsTest, KeyvalueBackendsAreCheckedBeforeStart) {
  auto bad = create({InterfaceRequest{"wasi", "keyvalue", "", {}, {{"backend", "etcd"}}, "hi[0]"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("hi[0].config.backend: `etcd` is not a keyvalue backend"), std::string::npos);
  auto no_url = create({InterfaceRequest{"wasi", "keyvalue", "", {}, {{"backend", "redis"}}, "hi[0]"}});
  ASSERT_FALSE(no_url);
  EXPECT_NE(no_url.error().message.find("hi[0].config.url"), std::string::npos);
  auto twice = create({request("keyvalue", "", {}), request("keyvalue", "", {}, "hi[1]")});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("hi[1]: wasi:keyvalue is asked for twice"), std::string::npos);
  auto path = create({InterfaceRequest{"wasi", "keyvalue", "", {}, {{"path", "/proc/no/such/kv.sqlite"}}, "hi[0]"}});
  ASSERT_FALSE(path);
  EXPECT_NE(path.error().message.find("hi[0]: "), std::string::npos) << path.error().message;
}

TEST(LogSinkTest, AGuestCannotForgeALine) {
  ::testing::internal::CaptureStderr();
  log_to_stderr(LogRecord{LogLevel::kWarn, "ns/w", "c", "ctx", "one\ntwo\x1b[31m"});
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(" warn ns/w/c ctx: one\\x0atwo\\x1b[31m\n"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

}  // namespace
}  // namespace stratus::plugins
