// The storage behind wasi:keyvalue: buckets of byte values by string key.
// Backends: SQLite (the embedded default, a file that survives restarts),
// Redis (a hash per bucket) and NATS JetStream KV (shared by many hosts). Failures come back as messages, which the
// guest sees as the `other` error case; a backend never throws or aborts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/result.h"

namespace stratus::plugins {

using Bytes = std::vector<uint8_t>;

// One page of a bucket's keys and where the next one starts (none: the end).
struct KeyPage {
  std::vector<std::string> keys;
  std::optional<uint64_t> cursor;
};

class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  // The backend as OpenTelemetry's `db.system.name` names it ("sqlite", "redis").
  virtual const char* system_name() const = 0;

  virtual Result<std::optional<Bytes>> get(std::string_view bucket, std::string_view key) = 0;
  virtual Result<void> set(std::string_view bucket, std::string_view key, std::span<const uint8_t> value) = 0;
  virtual Result<void> remove(std::string_view bucket, std::string_view key) = 0;
  virtual Result<bool> exists(std::string_view bucket, std::string_view key) = 0;
  // Keys in an order the backend keeps from page to page; `cursor` is what
  // the previous page returned (none for the first).
  virtual Result<KeyPage> list_keys(std::string_view bucket, std::optional<uint64_t> cursor) = 0;
  // The value is kept as decimal text ("42"), as Redis's HINCRBY and
  // Wasmtime's keyvalue host keep it; a value that is not such a number,
  // or a sum past 2^63-1, is an error and changes nothing.
  virtual Result<uint64_t> increment(std::string_view bucket, std::string_view key, uint64_t delta) = 0;

  // Batches: all or nothing where the backend can (SQLite: one transaction;
  // Redis: one command).
  virtual Result<std::vector<std::optional<Bytes>>> get_many(std::string_view bucket,
                                                             const std::vector<std::string>& keys) = 0;
  virtual Result<void> set_many(std::string_view bucket, const std::vector<std::pair<std::string, Bytes>>& pairs) = 0;
  virtual Result<void> delete_many(std::string_view bucket, const std::vector<std::string>& keys) = 0;
};

// A SQLite database at `path` (made, with its folder, when absent).
Result<std::unique_ptr<KeyValueStore>> open_sqlite_store(const std::filesystem::path& path);

// A Redis server at `url` ("redis://HOST:PORT[/DB]"); connects now, and again
// after the connection drops.
Result<std::unique_ptr<KeyValueStore>> open_redis_store(const std::string& url);

// A NATS JetStream key-value bucket named `bucket` (made when absent) on the
// server at `url` ("nats://HOST:PORT", started with JetStream): the hosts
// that open the same one share its data.
Result<std::unique_ptr<KeyValueStore>> open_nats_kv_store(const std::string& url, const std::string& bucket);

// The number a stored counter holds, or why it holds none.
Result<uint64_t> parse_counter(std::span<const uint8_t> value);

}  // namespace stratus::plugins
