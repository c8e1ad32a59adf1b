// wasi:keyvalue on a NATS JetStream key-value bucket (libnats), so that the
// replicas of a workload on different hosts share their data. One
// JetStream bucket (config `bucket`, made when absent) holds every
// workload's buckets: a wasi:keyvalue bucket and key become the JetStream
// key "b<hex(bucket)>.k<hex(key)>", since JetStream keys allow only
// [-/_=.a-zA-Z0-9] and wasi's may be any string. The connection reconnects
// on its own when the server goes; a call meanwhile is an error.
//
// increment is a compare-and-set loop on the key's revision (Create when
// absent, Update at the revision read), so two hosts counting at once both
// count. Batches are a call per key: JetStream KV has no multi-key
// transaction, so a failed set_many may have set some of its pairs.
#include <nats/nats.h>

#include <algorithm>
#include <cctype>

#include "plugins/keyvalue_store.h"

namespace stratus::plugins {
namespace {

std::string why(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text != last) text += ": " + std::string(last);
  return text;
}

std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

bool valid_bucket_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
  });
}

constexpr size_t kPageSize = 1000;
constexpr int kCasAttempts = 100;

class NatsKvStore final : public KeyValueStore {
 public:
  NatsKvStore(std::string url, std::string bucket) : url_(std::move(url)), bucket_(std::move(bucket)) {}
  ~NatsKvStore() override {
    if (kv_ != nullptr) kvStore_Destroy(kv_);
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (conn_ != nullptr) {
      natsConnection_Close(conn_);
      natsConnection_Destroy(conn_);
    }
  }

  // OpenTelemetry lists no db.system.name for JetStream KV: NATS's own name.
  const char* system_name() const override { return "nats"; }

  Result<void> open() {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url_.c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
    if (s == NATS_OK) s = natsConnection_Connect(&conn_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) return make_error(where() + ": cannot connect: " + why(s));
    s = natsConnection_JetStream(&js_, conn_, nullptr);
    if (s != NATS_OK) return make_error(where() + ": JetStream: " + why(s));
    s = js_KeyValue(&kv_, js_, bucket_.c_str());
    if (s == NATS_NOT_FOUND) {
      kvConfig config;
      kvConfig_Init(&config);
      config.Bucket = bucket_.c_str();
      config.History = 1;
      s = js_CreateKeyValue(&kv_, js_, &config);
    }
    if (s != NATS_OK)
      return make_error(where() + ": the JetStream key-value bucket: " + why(s) +
                        " (is the server running with JetStream, nats-server -js?)");
    return {};
  }

  Result<std::optional<Bytes>> get(std::string_view bucket, std::string_view key) override {
    kvEntry* e = nullptr;
    natsStatus s = kvStore_Get(&e, kv_, name(bucket, key).c_str());
    if (s == NATS_NOT_FOUND) return std::optional<Bytes>();
    if (s != NATS_OK) return make_error(where() + ": get `" + std::string(key) + "`: " + why(s));
    const auto* data = static_cast<const uint8_t*>(kvEntry_Value(e));
    Bytes value(data, data + kvEntry_ValueLen(e));
    kvEntry_Destroy(e);
    return std::optional<Bytes>(std::move(value));
  }

  Result<void> set(std::string_view bucket, std::string_view key, std::span<const uint8_t> value) override {
    natsStatus s = kvStore_Put(nullptr, kv_, name(bucket, key).c_str(), value.data(), static_cast<int>(value.size()));
    if (s != NATS_OK) return make_error(where() + ": set `" + std::string(key) + "`: " + why(s));
    return {};
  }

  Result<void> remove(std::string_view bucket, std::string_view key) override {
    natsStatus s = kvStore_Delete(kv_, name(bucket, key).c_str());
    if (s != NATS_OK) return make_error(where() + ": delete `" + std::string(key) + "`: " + why(s));
    return {};
  }

  Result<bool> exists(std::string_view bucket, std::string_view key) override {
    auto v = get(bucket, key);
    if (!v) return std::move(v).error();
    return v->has_value();
  }

  // JetStream lists a bucket's keys all at once: the keys of `bucket`,
  // sorted, are paged by their index.
  Result<KeyPage> list_keys(std::string_view bucket, std::optional<uint64_t> cursor) override {
    kvKeysList list{};
    natsStatus s = kvStore_Keys(&list, kv_, nullptr);
    std::vector<std::string> keys;
    if (s == NATS_OK) {
      std::string prefix = "b" + hex(bucket) + ".k";
      for (int i = 0; i < list.Count; ++i) {
        std::string_view k = list.Keys[i];
        if (k.substr(0, prefix.size()) != prefix) continue;
        if (auto key = unhex(k.substr(prefix.size()))) keys.push_back(std::move(*key));
      }
      kvKeysList_Destroy(&list);
    } else if (s != NATS_NOT_FOUND) {
      return make_error(where() + ": list keys: " + why(s));
    }
    std::sort(keys.begin(), keys.end());
    KeyPage page;
    size_t from = std::min<size_t>(cursor.value_or(0), keys.size());
    size_t to = std::min(from + kPageSize, keys.size());
    page.keys.assign(keys.begin() + static_cast<std::ptrdiff_t>(from), keys.begin() + static_cast<std::ptrdiff_t>(to));
    if (to < keys.size()) page.cursor = to;
    return page;
  }

  Result<uint64_t> increment(std::string_view bucket, std::string_view key, uint64_t delta) override {
    std::string k = name(bucket, key);
    for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
      kvEntry* e = nullptr;
      natsStatus s = kvStore_Get(&e, kv_, k.c_str());
      uint64_t now = 0, revision = 0;
      if (s == NATS_OK) {
        const auto* data = static_cast<const uint8_t*>(kvEntry_Value(e));
        auto n = parse_counter(std::span<const uint8_t>(data, static_cast<size_t>(kvEntry_ValueLen(e))));
        revision = kvEntry_Revision(e);
        kvEntry_Destroy(e);
        if (!n) return make_error("increment `" + std::string(key) + "`: " + n.error().message);
        now = *n;
      } else if (s != NATS_NOT_FOUND) {
        return make_error(where() + ": increment `" + std::string(key) + "`: " + why(s));
      }
      if (delta > static_cast<uint64_t>(INT64_MAX) - now)
        return make_error("increment `" + std::string(key) + "`: the sum passes 2^63-1");
      std::string text = std::to_string(now + delta);
      // A key deleted before has a delete marker: Create writes over it too.
      s = revision == 0 ? kvStore_Create(nullptr, kv_, k.c_str(), text.data(), static_cast<int>(text.size()))
                        : kvStore_Update(nullptr, kv_, k.c_str(), text.data(), static_cast<int>(text.size()), revision);
      if (s == NATS_OK) return now + delta;
      // Another writer got there first (JetStream's "wrong last sequence"):
      // read again.
      if (s != NATS_ERR) return make_error(where() + ": increment `" + std::string(key) + "`: " + why(s));
    }
    return make_error(where() + ": increment `" + std::string(key) + "`: too many concurrent writers");
  }

  Result<std::vector<std::optional<Bytes>>> get_many(std::string_view bucket,
                                                     const std::vector<std::string>& keys) override {
    std::vector<std::optional<Bytes>> out;
    for (const auto& k : keys) {
      auto v = get(bucket, k);
      if (!v) return std::move(v).error();
      out.push_back(std::move(*v));
    }
    return out;
  }

  Result<void> set_many(std::string_view bucket, const std::vector<std::pair<std::string, Bytes>>& pairs) override {
    for (const auto& [k, v] : pairs) STRATUS_TRY(set(bucket, k, v));
    return {};
  }

  Result<void> delete_many(std::string_view bucket, const std::vector<std::string>& keys) override {
    for (const auto& k : keys) STRATUS_TRY(remove(bucket, k));
    return {};
  }

 private:
  static std::string name(std::string_view bucket, std::string_view key) { return "b" + hex(bucket) + ".k" + hex(key); }
  std::string where() const { return "nats " + url_ + " bucket " + bucket_; }

  std::string url_;
  std::string bucket_;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
  kvStore* kv_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<KeyValueStore>> open_nats_kv_store(const std::string& url, const std::string& bucket) {
  if (url.rfind("nats://", 0) != 0) return make_error("nats url `" + url + "`: expected nats://HOST:PORT");
  if (!valid_bucket_name(bucket))
    return make_error("bucket `" + bucket + "`: a JetStream bucket name is letters, digits, '-' and '_'");
  auto store = std::make_unique<NatsKvStore>(url, bucket);
  STRATUS_TRY(store->open());
  return std::unique_ptr<KeyValueStore>(std::move(store));
}

}  // namespace stratus::plugins
