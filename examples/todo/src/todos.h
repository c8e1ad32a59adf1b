// The todo list in MariaDB: table `todos` (id, title, done), made when a
// statement finds it missing. User data goes in prepared statements'
// parameters only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../../../guest/mysql/client.h"

namespace todo {

struct Todo {
  uint64_t id = 0;
  std::string title;
  bool done = false;
};

// Where the database is and who logs in (wasi:config: db_host, db_port,
// db_user, db_password, db_name).
struct Database {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  mysql::Credentials credentials;
};

class TodoStore {
 public:
  // Connects and logs in (a timeout of 5 s for each step).
  static mysql::Result<TodoStore> open(const Database& database);

  mysql::Result<std::vector<Todo>> list();
  mysql::Result<Todo> add(std::string_view title);
  // Whether there was such a todo.
  mysql::Result<bool> remove(uint64_t id);
  // Says goodbye to the server (COM_QUIT).
  void close();

 private:
  explicit TodoStore(std::unique_ptr<mysql::Connection> c) : c_(std::move(c)) {}

  // Runs `sql`, prepared with `params` when `prepare` (else as a query),
  // making the table first when the server says it does not exist.
  mysql::Result<mysql::ResultSet> run(std::string_view sql, const std::vector<mysql::Value>& params, bool prepare);

  std::unique_ptr<mysql::Connection> c_;
};

}  // namespace todo
