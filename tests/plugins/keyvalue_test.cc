// The keyvalue backends, each held to the same behaviour: SQLite in a
// temporary folder, Redis against a real redis-server on a loopback port,
// and NATS JetStream KV against a real nats-server -js.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "plugins/keyvalue_store.h"
#include "tests/support/server_process.h"

namespace stratus::plugins {
namespace {

namespace fs = std::filesystem;
using test_support::ServerProcess;

Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes b_text(const std::string& s) { return Bytes(s.begin(), s.end()); }

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("stratus-kv-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

class KeyValueBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    uint16_t port = test_support::free_loopback_port();
    redis_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no"},
        port);
    uint16_t nats_port = test_support::free_loopback_port();
    nats_dir_ = fresh_dir("nats-js");
    nats_ =
        std::make_unique<ServerProcess>(std::vector<std::string>{"nats-server", "-js", "-a", "127.0.0.1", "-p",
                                                                 std::to_string(nats_port), "-sd", nats_dir_.string()},
                                        nats_port);
  }
  static void TearDownTestSuite() {
    redis_.reset();
    nats_.reset();
    fs::remove_all(nats_dir_);
  }

  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
      auto s = open_sqlite_store(dir_ / "kv.sqlite");
      ASSERT_TRUE(s) << s.error().message;
      store_ = std::move(*s);
    } else if (GetParam() == "nats") {
      ASSERT_TRUE(nats_ && nats_->running()) << "nats-server did not start (./x deps installs it)";
      auto s = open_nats_kv_store("nats://127.0.0.1:" + std::to_string(nats_->port()), "stratus-test");
      ASSERT_TRUE(s) << s.error().message;
      store_ = std::move(*s);
    } else {
      ASSERT_TRUE(redis_ && redis_->running()) << "redis-server did not start (./x deps installs it)";
      auto s = open_redis_store("redis://127.0.0.1:" + std::to_string(redis_->port()));
      ASSERT_TRUE(s) << s.error().message;
      store_ = std::move(*s);
    }
    // Each test its own bucket: the Redis server is shared by the suite.
    bucket_ = std::string("ns/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  static std::unique_ptr<ServerProcess> redis_, nats_;
  static fs::path nats_dir_;
  std::unique_ptr<KeyValueStore> store_;
  std::string bucket_;
  fs::path dir_;
};
std::unique_ptr<ServerProcess> KeyValueBackendTest::redis_;
std::unique_ptr<ServerProcess> KeyValueBackendTest::nats_;
fs::path KeyValueBackendTest::nats_dir_;

TEST_P(KeyValueBackendTest, SetGetExistsDelete) {
  EXPECT_EQ(*store_->get(bucket_, "a"), std::nullopt);
  EXPECT_FALSE(*store_->exists(bucket_, "a"));
  ASSERT_TRUE(store_->set(bucket_, "a", b("one")));
  EXPECT_EQ(*store_->get(bucket_, "a"), b("one"));
  EXPECT_TRUE(*store_->exists(bucket_, "a"));
  ASSERT_TRUE(store_->set(bucket_, "a", b("two")));
  EXPECT_EQ(*store_->get(bucket_, "a"), b("two"));
  ASSERT_TRUE(store_->remove(bucket_, "a"));
  EXPECT_EQ(*store_->get(bucket_, "a"), std::nullopt);
  EXPECT_TRUE(store_->remove(bucket_, "a")) << "deleting an absent key is no error";
}

TEST_P(KeyValueBackendTest, ValuesAreBytesAndBucketsAreApart) {
  Bytes binary = {0, 1, 2, 0xff, 0};
  ASSERT_TRUE(store_->set(bucket_, "bin", binary));
  ASSERT_TRUE(store_->set(bucket_, "empty", {}));
  EXPECT_EQ(*store_->get(bucket_, "bin"), binary);
  EXPECT_EQ(*store_->get(bucket_, "empty"), Bytes{});
  EXPECT_EQ(*store_->get(bucket_ + "-other", "bin"), std::nullopt);
}

TEST_P(KeyValueBackendTest, ListKeysPagesThroughEveryKey) {
  std::vector<std::pair<std::string, Bytes>> pairs;
  for (int i = 0; i < 2500; ++i) pairs.emplace_back("k" + std::to_string(i), b("v"));
  ASSERT_TRUE(store_->set_many(bucket_, pairs));
  std::set<std::string> seen;
  std::optional<uint64_t> cursor;
  int pages = 0;
  do {
    auto page = store_->list_keys(bucket_, cursor);
    ASSERT_TRUE(page) << page.error().message;
    seen.insert(page->keys.begin(), page->keys.end());
    cursor = page->cursor;
    ASSERT_LT(++pages, 100);
  } while (cursor);
  EXPECT_EQ(seen.size(), 2500u);
  EXPECT_GT(pages, 1);
  auto none = store_->list_keys(bucket_ + "-empty", std::nullopt);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->keys.empty());
  EXPECT_FALSE(none->cursor);
}

TEST_P(KeyValueBackendTest, IncrementCountsInDecimalText) {
  EXPECT_EQ(*store_->increment(bucket_, "n", 1), 1u);
  EXPECT_EQ(*store_->increment(bucket_, "n", 41), 42u);
  EXPECT_EQ(*store_->get(bucket_, "n"), b("42"));
  ASSERT_TRUE(store_->set(bucket_, "text", b("hello")));
  auto bad = store_->increment(bucket_, "text", 1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(*store_->get(bucket_, "text"), b("hello")) << "a failed increment changes nothing";
  auto big = store_->increment(bucket_, "n", static_cast<uint64_t>(INT64_MAX));
  EXPECT_FALSE(big) << "the sum passes 2^63-1";
  EXPECT_EQ(*store_->get(bucket_, "n"), b("42"));
}

TEST_P(KeyValueBackendTest, BatchesGetSetAndDeleteMany) {
  ASSERT_TRUE(store_->set_many(bucket_, {{"a", b("1")}, {"b", b("2")}}));
  auto got = store_->get_many(bucket_, {"a", "missing", "b"});
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0], b("1"));
  EXPECT_EQ((*got)[1], std::nullopt);
  EXPECT_EQ((*got)[2], b("2"));
  ASSERT_TRUE(store_->delete_many(bucket_, {"a", "b", "missing"}));
  EXPECT_FALSE(*store_->exists(bucket_, "a"));
  EXPECT_FALSE(*store_->exists(bucket_, "b"));
  EXPECT_TRUE(store_->get_many(bucket_, {}));
  EXPECT_TRUE(store_->set_many(bucket_, {}));
  EXPECT_TRUE(store_->delete_many(bucket_, {}));
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyValueBackendTest, ::testing::Values("sqlite", "redis", "nats"),
                         [](const auto& info) { return info.param; });

// Two hosts' stores on one JetStream bucket: what one writes the other
// reads, and increments from both at once all count.
TEST(NatsKvStoreTest, TwoHostsShareABucket) {
  uint16_t port = test_support::free_loopback_port();
  fs::path dir = fresh_dir("nats-share");
  ServerProcess nats({"nats-server", "-js", "-a", "127.0.0.1", "-p", std::to_string(port), "-sd", dir.string()}, port);
  ASSERT_TRUE(nats.running()) << "nats-server did not start (./x deps installs it)";
  std::string url = "nats://127.0.0.1:" + std::to_string(port);
  auto a = open_nats_kv_store(url, "shared");
  auto b = open_nats_kv_store(url, "shared");
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_TRUE((*a)->set("ns/cache", "greeting", Bytes{'h', 'i'}));
  EXPECT_EQ(*(*b)->get("ns/cache", "greeting"), (Bytes{'h', 'i'}));
  EXPECT_EQ(*(*b)->get("other/cache", "greeting"), std::nullopt) << "buckets of other namespaces are apart";
  ASSERT_TRUE((*b)->remove("ns/cache", "greeting"));
  EXPECT_FALSE(*(*a)->exists("ns/cache", "greeting"));

  constexpr int kEach = 50;
  auto count = [](KeyValueStore& store) {
    for (int i = 0; i < kEach; ++i) ASSERT_TRUE(store.increment("ns/cache", "visits", 1));
  };
  std::thread on_a([&] { count(**a); });
  std::thread on_b([&] { count(**b); });
  on_a.join();
  on_b.join();
  EXPECT_EQ(*(*a)->get("ns/cache", "visits"), b_text(std::to_string(2 * kEach)));
  auto keys = (*b)->list_keys("ns/cache", std::nullopt);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->keys, std::vector<std::string>{"visits"});

  EXPECT_FALSE(open_nats_kv_store(url, "no spaces")) << "a bucket name JetStream refuses";
  EXPECT_FALSE(open_nats_kv_store("redis://127.0.0.1:1", "x"));
  a->reset();
  b->reset();
  fs::remove_all(dir);
}

TEST(SqliteStoreTest, DataSurvivesReopening) {
  fs::path dir = fresh_dir("reopen");
  {
    auto s = open_sqlite_store(dir / "sub" / "kv.sqlite");
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE((*s)->set("b", "k", b("kept")));
    ASSERT_TRUE((*s)->increment("b", "n", 7));
  }
  auto s = open_sqlite_store(dir / "sub" / "kv.sqlite");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*(*s)->get("b", "k"), b("kept"));
  EXPECT_EQ(*(*s)->increment("b", "n", 1), 8u);
  fs::remove_all(dir);
}

TEST(SqliteStoreTest, AFileThatIsNoDatabaseIsAClearError) {
  fs::path dir = fresh_dir("garbage");
  {
    FILE* f = std::fopen((dir / "kv.sqlite").c_str(), "w");
    std::fputs("this is not a database, just text that is long enough to be read as a header", f);
    std::fclose(f);
  }
  auto s = open_sqlite_store(dir / "kv.sqlite");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("kv.sqlite"), std::string::npos) << s.error().message;
  fs::remove_all(dir);
}

TEST(RedisStoreTest, BadUrlsAndAbsentServersAreClearErrors) {
  for (const char* url : {"http://127.0.0.1:6379", "redis://", "redis://127.0.0.1:99999", "redis://127.0.0.1:1/x"}) {
    auto s = open_redis_store(url);
    ASSERT_FALSE(s) << url;
    EXPECT_NE(s.error().message.find("redis"), std::string::npos) << s.error().message;
  }
  uint16_t port = test_support::free_loopback_port();
  auto s = open_redis_store("redis://127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("cannot connect"), std::string::npos) << s.error().message;
}

TEST(RedisStoreTest, ACommandAfterTheServerRestartedReconnects) {
  uint16_t port = test_support::free_loopback_port();
  std::vector<std::string> argv = {"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                                   "--save",       "",       "--appendonly",       "no"};
  auto server = std::make_unique<ServerProcess>(argv, port);
  ASSERT_TRUE(server->running());
  auto s = open_redis_store("redis://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE((*s)->set("b", "k", b("v")));
  server.reset();
  auto down = (*s)->get("b", "k");
  ASSERT_FALSE(down) << "the server is gone";
  server = std::make_unique<ServerProcess>(argv, port);
  ASSERT_TRUE(server->running());
  auto again = (*s)->set("b", "k", b("w"));
  EXPECT_TRUE(again) << again.error().message;
  EXPECT_EQ(*(*s)->get("b", "k"), b("w"));
}

TEST(CounterTest, ParsesDecimalDigitsOnly) {
  EXPECT_EQ(*parse_counter(b("0")), 0u);
  EXPECT_EQ(*parse_counter(b("9223372036854775807")), static_cast<uint64_t>(INT64_MAX));
  EXPECT_FALSE(parse_counter(b("")));
  EXPECT_FALSE(parse_counter(b("-1")));
  EXPECT_FALSE(parse_counter(b("12a")));
  EXPECT_FALSE(parse_counter(b("9223372036854775808")));
  EXPECT_FALSE(parse_counter(b("99999999999999999999")));
}

}  // namespace
}  // namespace stratus::plugins
