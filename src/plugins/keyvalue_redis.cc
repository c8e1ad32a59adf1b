// wasi:keyvalue on Redis: a bucket is a Redis hash, its keys the hash's
// fields, so every operation is one command (HGET, HSET, HDEL, HEXISTS,
// HSCAN, HINCRBY, HMGET). One connection behind a mutex; a command that
// finds the connection broken reconnects once and tries again.
#include <hiredis/hiredis.h>

#include <charconv>
#include <mutex>

#include "plugins/keyvalue_store.h"

namespace stratus::plugins {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct Address {
  std::string host;
  int port = 6379;
  int db = 0;
};

Result<Address> parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  std::string_view rest(url);
  if (rest.substr(0, kScheme.size()) != kScheme)
    return make_error("redis url `" + url + "`: expected redis://HOST:PORT[/DB]");
  rest.remove_prefix(kScheme.size());
  Address a;
  std::string_view db;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:6379
    auto close = rest.find(']');
    if (close == std::string_view::npos) return make_error("redis url `" + url + "`: unclosed [");
    a.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() == ':') port = rest.substr(1);
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    a.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  } else {
    a.host = std::string(rest);
  }
  if (a.host.empty()) return make_error("redis url `" + url + "`: no host");
  auto number = [&](std::string_view text, int& out, int max) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && out >= 0 && out <= max;
  };
  if (!port.empty() && !number(port, a.port, 65535)) return make_error("redis url `" + url + "`: bad port");
  if (!db.empty() && !number(db, a.db, 1 << 20)) return make_error("redis url `" + url + "`: bad database number");
  return a;
}

class RedisStore final : public KeyValueStore {
 public:
  explicit RedisStore(Address address) : address_(std::move(address)) {}
  ~RedisStore() override { disconnect(); }
  const char* system_name() const override { return "redis"; }

  Result<void> connect() {
    disconnect();
    timeval timeout{5, 0};
    ctx_ = redisConnectWithTimeout(address_.host.c_str(), address_.port, timeout);
    if (ctx_ == nullptr) return make_error(where() + ": cannot allocate a connection");
    if (ctx_->err != 0) {
      std::string why = ctx_->errstr;
      disconnect();
      return make_error(where() + ": cannot connect: " + why);
    }
    redisSetTimeout(ctx_, timeout);
    if (address_.db != 0) {
      auto r = raw({"SELECT", std::to_string(address_.db)});
      if (!r) return std::move(r).error();
    }
    return {};
  }

  Result<std::optional<Bytes>> get(std::string_view bucket, std::string_view key) override {
    auto r = command({"HGET", bucket, key});
    if (!r) return std::move(r).error();
    return bytes_or_nil(**r);
  }

  Result<void> set(std::string_view bucket, std::string_view key, std::span<const uint8_t> value) override {
    auto r = command({"HSET", bucket, key, as_text(value)});
    if (!r) return std::move(r).error();
    return {};
  }

  Result<void> remove(std::string_view bucket, std::string_view key) override {
    auto r = command({"HDEL", bucket, key});
    if (!r) return std::move(r).error();
    return {};
  }

  Result<bool> exists(std::string_view bucket, std::string_view key) override {
    auto r = command({"HEXISTS", bucket, key});
    if (!r) return std::move(r).error();
    return (*r)->type == REDIS_REPLY_INTEGER && (*r)->integer == 1;
  }

  // The cursor is HSCAN's; a key may come twice if the hash grows meanwhile,
  // as Redis documents.
  Result<KeyPage> list_keys(std::string_view bucket, std::optional<uint64_t> cursor) override {
    auto r = command({"HSCAN", bucket, std::to_string(cursor.value_or(0)), "COUNT", "1000"});
    if (!r) return std::move(r).error();
    const redisReply& reply = **r;
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2 || reply.element[1]->type != REDIS_REPLY_ARRAY)
      return make_error(where() + ": HSCAN: unexpected reply");
    KeyPage page;
    std::string next(reply.element[0]->str, reply.element[0]->len);
    const redisReply& items = *reply.element[1];
    for (size_t i = 0; i + 1 < items.elements; i += 2)
      page.keys.emplace_back(items.element[i]->str, items.element[i]->len);
    uint64_t n = 0;
    std::from_chars(next.data(), next.data() + next.size(), n);
    if (n != 0) page.cursor = n;
    return page;
  }

  Result<uint64_t> increment(std::string_view bucket, std::string_view key, uint64_t delta) override {
    if (delta > static_cast<uint64_t>(INT64_MAX))
      return make_error("increment `" + std::string(key) + "`: the sum passes 2^63-1");
    auto r = command({"HINCRBY", bucket, key, std::to_string(delta)});
    if (!r) return std::move(r).error().context("increment `" + std::string(key) + "`");
    if ((*r)->type != REDIS_REPLY_INTEGER || (*r)->integer < 0)
      return make_error("increment `" + std::string(key) + "`: the value is not a counter");
    return static_cast<uint64_t>((*r)->integer);
  }

  Result<std::vector<std::optional<Bytes>>> get_many(std::string_view bucket,
                                                     const std::vector<std::string>& keys) override {
    std::vector<std::optional<Bytes>> out;
    if (keys.empty()) return out;
    std::vector<std::string_view> args = {"HMGET", bucket};
    for (const auto& k : keys) args.push_back(k);
    auto r = command(args);
    if (!r) return std::move(r).error();
    if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != keys.size())
      return make_error(where() + ": HMGET: unexpected reply");
    for (size_t i = 0; i < keys.size(); ++i) out.push_back(bytes_or_nil(*(*r)->element[i]));
    return out;
  }

  Result<void> set_many(std::string_view bucket, const std::vector<std::pair<std::string, Bytes>>& pairs) override {
    if (pairs.empty()) return {};
    std::vector<std::string_view> args = {"HSET", bucket};
    for (const auto& [k, v] : pairs) {
      args.push_back(k);
      args.push_back(as_text(v));
    }
    auto r = command(args);
    if (!r) return std::move(r).error();
    return {};
  }

  Result<void> delete_many(std::string_view bucket, const std::vector<std::string>& keys) override {
    if (keys.empty()) return {};
    std::vector<std::string_view> args = {"HDEL", bucket};
    for (const auto& k : keys) args.push_back(k);
    auto r = command(args);
    if (!r) return std::move(r).error();
    return {};
  }

 private:
  std::string where() const { return "redis " + address_.host + ":" + std::to_string(address_.port); }

  static std::string_view as_text(std::span<const uint8_t> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }

  static std::optional<Bytes> bytes_or_nil(const redisReply& r) {
    if (r.type != REDIS_REPLY_STRING) return std::nullopt;
    return Bytes(r.str, r.str + r.len);
  }

  void disconnect() {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
  }

  // One command, binary-safe; an error reply is an error.
  Result<Reply> raw(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply reply(
        static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!reply) return make_error(where() + ": " + std::string(args[0]) + ": " + ctx_->errstr);
    if (reply->type == REDIS_REPLY_ERROR)
      return make_error(where() + ": " + std::string(args[0]) + ": " + std::string(reply->str, reply->len));
    return reply;
  }

  Result<Reply> command(const std::vector<std::string_view>& args) {
    std::lock_guard lock(mu_);
    if (ctx_ == nullptr || ctx_->err != 0) STRATUS_TRY(connect());
    auto r = raw(args);
    if (r || ctx_->err == 0) return r;  // an error reply: the connection is fine
    STRATUS_TRY(connect());
    return raw(args);
  }

  std::mutex mu_;
  Address address_;
  redisContext* ctx_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<KeyValueStore>> open_redis_store(const std::string& url) {
  auto address = parse_url(url);
  if (!address) return std::move(address).error();
  auto store = std::make_unique<RedisStore>(std::move(*address));
  STRATUS_TRY(store->connect());
  return std::unique_ptr<KeyValueStore>(std::move(store));
}

}  // namespace stratus::plugins
