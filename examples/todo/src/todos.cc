#include "todos.h"

#include <utility>

#include "tcp_transport.h"

namespace todo {
namespace {

constexpr uint64_t kTimeoutNs = 5'000'000'000;
constexpr uint16_t kNoSuchTable = 1146;  // ER_NO_SUCH_TABLE

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS todos ("
    "id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
    "title TEXT NOT NULL, "
    "done BOOLEAN NOT NULL DEFAULT FALSE"
    ") DEFAULT CHARSET=utf8mb4";

// An integer column's value, whether the result set was text or binary.
uint64_t as_uint(const mysql::Value& v) {
  if (const auto* u = std::get_if<uint64_t>(&v)) return *u;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<uint64_t>(*i);
  if (const auto* s = std::get_if<std::string>(&v)) {
    uint64_t n = 0;
    for (char c : *s) {
      if (c < '0' || c > '9') break;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    return n;
  }
  return 0;
}

std::string as_text(const mysql::Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string();
}

}  // namespace

mysql::Result<TodoStore> TodoStore::open(const Database& database) {
  auto transport = TcpTransport::connect(database.host, database.port, kTimeoutNs);
  if (!transport) return std::unexpected(std::move(transport).error());
  auto c = mysql::Connection::open(std::move(*transport), database.credentials);
  if (!c) return std::unexpected(std::move(c).error());
  return TodoStore(std::move(*c));
}

mysql::Result<mysql::ResultSet> TodoStore::run(std::string_view sql, const std::vector<mysql::Value>& params,
                                               bool prepare) {
  for (int attempt = 0;; ++attempt) {
    mysql::Result<mysql::ResultSet> result;
    if (prepare) {
      auto statement = c_->prepare(sql);
      if (statement) {
        result = c_->execute(*statement, params);
        (void)c_->close(*statement);
      } else {
        result = std::unexpected(std::move(statement).error());
      }
    } else {
      result = c_->query(sql);
    }
    if (result || attempt > 0 || result.error().kind != mysql::Error::Kind::Server ||
        result.error().code != kNoSuchTable) {
      return result;
    }
    auto created = c_->query(kCreateTable);
    if (!created) return created;
  }
}

mysql::Result<std::vector<Todo>> TodoStore::list() {
  auto rows = run("SELECT id, title, done FROM todos ORDER BY id", {}, false);
  if (!rows) return std::unexpected(std::move(rows).error());
  std::vector<Todo> todos;
  todos.reserve(rows->rows.size());
  for (const auto& row : rows->rows) {
    if (row.size() != 3)
      return mysql::protocol_error("SELECT id, title, done: a row of " + std::to_string(row.size()) + " columns");
    todos.push_back({as_uint(row[0]), as_text(row[1]), as_uint(row[2]) != 0});
  }
  return todos;
}

mysql::Result<Todo> TodoStore::add(std::string_view title) {
  auto inserted = run("INSERT INTO todos (title) VALUES (?)", {std::string(title)}, true);
  if (!inserted) return std::unexpected(std::move(inserted).error());
  return Todo{inserted->ok.last_insert_id, std::string(title), false};
}

mysql::Result<bool> TodoStore::remove(uint64_t id) {
  auto deleted = run("DELETE FROM todos WHERE id = ?", {id}, true);
  if (!deleted) return std::unexpected(std::move(deleted).error());
  return deleted->ok.affected_rows > 0;
}

void TodoStore::close() { c_->quit(); }

}  // namespace todo
