// wasi:keyvalue's embedded default: one SQLite file, a table of (bucket, key,
// value). One connection behind a mutex serves every instance of the host;
// WAL mode and a busy timeout let another process read the file meanwhile.
#include <sqlite3.h>

#include <mutex>
#include <system_error>

#include "plugins/keyvalue_store.h"

namespace stratus::plugins {
namespace {

constexpr int kPageSize = 1000;

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Statement& text(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& blob(int i, std::span<const uint8_t> b) {
    // A zero-length blob needs a non-null pointer, or SQLite stores NULL.
    static const uint8_t kEmpty = 0;
    sqlite3_bind_blob(stmt_, i, b.empty() ? &kEmpty : b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& integer(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Bytes column_blob(int i) {
    auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, i));
    int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? Bytes{} : Bytes(p, p + n);
  }
  std::string column_text(int i) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(n));
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

class SqliteStore final : public KeyValueStore {
 public:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }
  const char* system_name() const override { return "sqlite"; }

  Result<std::optional<Bytes>> get(std::string_view bucket, std::string_view key) override {
    std::lock_guard lock(mu_);
    return get_locked(bucket, key);
  }

  Result<void> set(std::string_view bucket, std::string_view key, std::span<const uint8_t> value) override {
    std::lock_guard lock(mu_);
    return set_locked(bucket, key, value);
  }

  Result<void> remove(std::string_view bucket, std::string_view key) override {
    std::lock_guard lock(mu_);
    return remove_locked(bucket, key);
  }

  Result<bool> exists(std::string_view bucket, std::string_view key) override {
    std::lock_guard lock(mu_);
    Statement s(db_, "SELECT 1 FROM kv WHERE bucket = ?1 AND key = ?2");
    if (!s.ok()) return failure("exists");
    int rc = s.text(1, bucket).text(2, key).step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return failure("exists");
  }

  // The cursor is how many keys earlier pages gave, in key order.
  Result<KeyPage> list_keys(std::string_view bucket, std::optional<uint64_t> cursor) override {
    std::lock_guard lock(mu_);
    uint64_t offset = cursor.value_or(0);
    if (offset > static_cast<uint64_t>(INT64_MAX)) return make_error("list-keys: cursor out of range");
    Statement s(db_, "SELECT key FROM kv WHERE bucket = ?1 ORDER BY key LIMIT ?2 OFFSET ?3");
    if (!s.ok()) return failure("list-keys");
    s.text(1, bucket).integer(2, kPageSize + 1).integer(3, static_cast<int64_t>(offset));
    KeyPage page;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) page.keys.push_back(s.column_text(0));
    if (rc != SQLITE_DONE) return failure("list-keys");
    if (page.keys.size() > static_cast<size_t>(kPageSize)) {
      page.keys.pop_back();
      page.cursor = offset + kPageSize;
    }
    return page;
  }

  Result<uint64_t> increment(std::string_view bucket, std::string_view key, uint64_t delta) override {
    std::lock_guard lock(mu_);
    STRATUS_TRY(exec("BEGIN IMMEDIATE"));
    auto r = increment_locked(bucket, key, delta);
    STRATUS_TRY(exec(r ? "COMMIT" : "ROLLBACK"));
    return r;
  }

  Result<std::vector<std::optional<Bytes>>> get_many(std::string_view bucket,
                                                     const std::vector<std::string>& keys) override {
    std::lock_guard lock(mu_);
    std::vector<std::optional<Bytes>> out;
    out.reserve(keys.size());
    for (const auto& key : keys) {
      auto v = get_locked(bucket, key);
      if (!v) return std::move(v).error();
      out.push_back(std::move(*v));
    }
    return out;
  }

  Result<void> set_many(std::string_view bucket, const std::vector<std::pair<std::string, Bytes>>& pairs) override {
    std::lock_guard lock(mu_);
    return in_transaction([&]() -> Result<void> {
      for (const auto& [key, value] : pairs) STRATUS_TRY(set_locked(bucket, key, value));
      return {};
    });
  }

  Result<void> delete_many(std::string_view bucket, const std::vector<std::string>& keys) override {
    std::lock_guard lock(mu_);
    return in_transaction([&]() -> Result<void> {
      for (const auto& key : keys) STRATUS_TRY(remove_locked(bucket, key));
      return {};
    });
  }

  Result<void> exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return {};
    std::string why = message != nullptr ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return make_error(path_ + ": " + why);
  }

 private:
  Error failure(const char* what) const { return make_error(path_ + ": " + what + ": " + sqlite3_errmsg(db_)); }

  template <class F>
  Result<void> in_transaction(F&& body) {
    STRATUS_TRY(exec("BEGIN IMMEDIATE"));
    auto r = body();
    if (!r) {
      (void)exec("ROLLBACK");
      return r;
    }
    return exec("COMMIT");
  }

  Result<std::optional<Bytes>> get_locked(std::string_view bucket, std::string_view key) {
    Statement s(db_, "SELECT value FROM kv WHERE bucket = ?1 AND key = ?2");
    if (!s.ok()) return failure("get");
    int rc = s.text(1, bucket).text(2, key).step();
    if (rc == SQLITE_ROW) return std::optional<Bytes>(s.column_blob(0));
    if (rc == SQLITE_DONE) return std::optional<Bytes>();
    return failure("get");
  }

  Result<void> set_locked(std::string_view bucket, std::string_view key, std::span<const uint8_t> value) {
    Statement s(db_,
                "INSERT INTO kv (bucket, key, value) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value");
    if (!s.ok()) return failure("set");
    if (s.text(1, bucket).text(2, key).blob(3, value).step() != SQLITE_DONE) return failure("set");
    return {};
  }

  Result<void> remove_locked(std::string_view bucket, std::string_view key) {
    Statement s(db_, "DELETE FROM kv WHERE bucket = ?1 AND key = ?2");
    if (!s.ok()) return failure("delete");
    if (s.text(1, bucket).text(2, key).step() != SQLITE_DONE) return failure("delete");
    return {};
  }

  Result<uint64_t> increment_locked(std::string_view bucket, std::string_view key, uint64_t delta) {
    auto old = get_locked(bucket, key);
    if (!old) return std::move(old).error();
    uint64_t value = 0;
    if (*old) {
      auto n = parse_counter(**old);
      if (!n) return std::move(n).error().context("increment `" + std::string(key) + "`");
      value = *n;
    }
    if (delta > static_cast<uint64_t>(INT64_MAX) - value)
      return make_error("increment `" + std::string(key) + "`: the sum passes 2^63-1");
    value += delta;
    std::string text = std::to_string(value);
    STRATUS_TRY(set_locked(bucket, key, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
    return value;
  }

  std::mutex mu_;
  sqlite3* db_;
  std::string path_;
};

}  // namespace

Result<uint64_t> parse_counter(std::span<const uint8_t> value) {
  if (value.empty() || value.size() > 19) return make_error("the value is not a counter (decimal digits)");
  uint64_t n = 0;
  for (uint8_t c : value) {
    if (c < '0' || c > '9') return make_error("the value is not a counter (decimal digits)");
    n = n * 10 + (c - '0');
  }
  if (n > static_cast<uint64_t>(INT64_MAX)) return make_error("the counter is past 2^63-1");
  return n;
}

Result<std::unique_ptr<KeyValueStore>> open_sqlite_store(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return make_error("cannot make " + path.parent_path().string() + ": " + ec.message());
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return make_error("cannot open the keyvalue database " + path.string() + ": " + why);
  }
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteStore>(db, path.string());
  STRATUS_TRY(store->exec("PRAGMA journal_mode = WAL"));
  STRATUS_TRY(store->exec("PRAGMA synchronous = NORMAL"));
  STRATUS_TRY(
      store->exec("CREATE TABLE IF NOT EXISTS kv (bucket TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, "
                  "PRIMARY KEY (bucket, key)) WITHOUT ROWID"));
  return std::unique_ptr<KeyValueStore>(std::move(store));
}

}  // namespace stratus::plugins
