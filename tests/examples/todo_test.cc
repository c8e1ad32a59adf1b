// examples/todo against a real MariaDB (tests/examples/mariadb_server.h) on
// the workload runtime, as `stratus up build/examples/todo.yaml` runs it
// with the port rewritten: create, list and delete; SQL injection attempts
// stored as plain text; the database restarted under the running workload
// (503 while it is down, recovered after); the server's errors (a revoked
// grant, a changed password) as 503s that quote them; and without the port
// rule, no connection (the log says so) and nothing written. Skipped, saying
// so, when mariadb-server is not installed (./x deps installs it).
#include <fstream>
#include <sstream>

#include "tests/examples/mariadb_server.h"
#include "tests/workload/runtime_fixture.h"

namespace stratus::workload {
namespace {

namespace fs = std::filesystem;
namespace beast_http = boost::beast::http;
using test_host::Reply;

Reply request(uint16_t port, beast_http::verb method, const std::string& target, const std::string& body = "") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  beast_http::request<beast_http::string_body> req{method, target, 11};
  req.set(beast_http::field::host, "localhost");
  if (!body.empty()) req.set(beast_http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  req.keep_alive(false);
  beast_http::write(socket, req);
  boost::beast::flat_buffer buffer;
  beast_http::response<beast_http::string_body> res;
  beast_http::read(socket, buffer, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

class TodoTest : public test_host::WorkloadRuntimeTest {
 protected:
  void SetUp() override {
    std::string why;
    auto mariadbd = test_support::MariaDbServer::find_mariadbd(why);
    if (!mariadbd) GTEST_SKIP() << why;
    WorkloadRuntimeTest::SetUp();
    if (HasFatalFailure()) return;
    db_ = std::make_unique<test_support::MariaDbServer>(*mariadbd, dir_ / "db");
    ASSERT_TRUE(db_->error().empty()) << db_->error();
    std::string failure;
    ASSERT_TRUE(
        db_->sql("CREATE DATABASE todo; "
                 "CREATE USER 'todo'@'localhost' IDENTIFIED BY 'todo'; "
                 "CREATE USER 'todo'@'127.0.0.1' IDENTIFIED BY 'todo'; "
                 "GRANT ALL ON todo.* TO 'todo'@'localhost'; "
                 "GRANT ALL ON todo.* TO 'todo'@'127.0.0.1';",
                 &failure))
        << failure;
  }

  void TearDown() override {
    if (!db_ && dir_.empty()) return;  // skipped
    db_.reset();
    WorkloadRuntimeTest::TearDown();
  }

  // build/examples/todo.yaml with the test's port (and image path); without
  // `port_rule`, the grant's line is gone (the config keeps the port).
  std::string todo_yaml(bool port_rule = true) {
    std::ifstream in(std::string(STRATUS_EXAMPLES_DIR) + "/todo.yaml");
    std::stringstream text;
    text << in.rdbuf();
    std::string y = text.str();
    auto replace = [&](const std::string& from, const std::string& to) {
      auto at = y.find(from);
      EXPECT_NE(at, std::string::npos) << from;
      if (at != std::string::npos) y.replace(at, from.size(), to);
    };
    EXPECT_EQ(y.find("3306"), y.rfind("3306")) << "the port is written once: another is a one-word change";
    replace("image: todo.wasm", "image: " + test_host::example("todo"));
    replace("3306", std::to_string(db_->port()));
    if (!port_rule) {
      auto rule = y.find("allowed_host_loopback_ports:");
      auto line = y.rfind('\n', rule);
      y.erase(line, y.find('\n', rule) - line);
      replace("*db_port", std::to_string(db_->port()));
    }
    return y;
  }

  std::string rows(const std::string& sql) {
    std::string failure;
    auto out = db_->sql(sql, &failure);
    EXPECT_TRUE(out) << failure;
    return out.value_or("");
  }

  // Whether a wasi:logging line holds `part`.
  bool log_holds(const std::string& part) {
    std::lock_guard lock(log_mu_);
    for (const auto& l : logs_)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }

  std::unique_ptr<test_support::MariaDbServer> db_;
};

TEST_F(TodoTest, CreatesListsAndDeletes) {
  auto id = start(todo_yaml());
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(request(port_, beast_http::verb::get, "/todos").body, "[]\n") << "the table is made when missing";

  auto made = request(port_, beast_http::verb::post, "/todos", R"({"title": "buy milk"})");
  EXPECT_EQ(made.status, 201);
  EXPECT_EQ(made.body, "{\"id\":1,\"title\":\"buy milk\",\"done\":false}\n");
  auto second = request(port_, beast_http::verb::post, "/todos", R"({"title": "caf\u00e9 \"noir\""})");
  EXPECT_EQ(second.status, 201);
  EXPECT_EQ(second.body, "{\"id\":2,\"title\":\"café \\\"noir\\\"\",\"done\":false}\n");

  auto list = request(port_, beast_http::verb::get, "/todos");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(
      list.body,
      "[{\"id\":1,\"title\":\"buy milk\",\"done\":false},{\"id\":2,\"title\":\"café \\\"noir\\\"\",\"done\":false}]"
      "\n");
  EXPECT_EQ(rows("SELECT id, title, done FROM todo.todos ORDER BY id"), "1\tbuy milk\t0\n2\tcafé \"noir\"\t0\n");

  EXPECT_EQ(request(port_, beast_http::verb::delete_, "/todos/1").status, 204);
  auto again = request(port_, beast_http::verb::delete_, "/todos/1");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.body, "{\"error\":\"no todo 1\"}\n");
  EXPECT_EQ(rows("SELECT id FROM todo.todos"), "2\n");

  auto bad = request(port_, beast_http::verb::post, "/todos", R"({"title": "unfinished)");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "{\"error\":\"the body is not valid JSON: at byte 10: a string without its closing quote\"}\n");
  EXPECT_EQ(request(port_, beast_http::verb::post, "/todos", R"({"name": "x"})").body,
            "{\"error\":\"the body has no \\\"title\\\"\"}\n");
  EXPECT_EQ(request(port_, beast_http::verb::post, "/todos", R"({"title": 7})").status, 400);
  EXPECT_EQ(request(port_, beast_http::verb::post, "/todos", "").status, 400);
  auto big = request(port_, beast_http::verb::post, "/todos", "{\"title\": \"" + std::string(70000, 'x') + "\"}");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.body, "{\"error\":\"the body is larger than 64 KiB\"}\n");
  auto long_title = request(port_, beast_http::verb::post, "/todos", "{\"title\": \"" + std::string(1001, 'x') + "\"}");
  EXPECT_EQ(long_title.status, 400);
  EXPECT_EQ(long_title.body, "{\"error\":\"\\\"title\\\" is longer than 1000 bytes\"}\n");
  EXPECT_EQ(request(port_, beast_http::verb::put, "/todos").status, 405);
  EXPECT_EQ(request(port_, beast_http::verb::get, "/elsewhere").status, 404);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM todo.todos"), "1\n") << "nothing written for the bad requests";
}

TEST_F(TodoTest, InjectionAttemptsAreStoredAsPlainText) {
  ASSERT_TRUE(start(todo_yaml()));
  const std::vector<std::string> titles = {"'); DROP TABLE todos; --", "\" OR 1=1 --", "x'; DELETE FROM todos; #",
                                           "\\'; TRUNCATE todos; /*", "Robert'); DROP TABLE Students;--"};
  std::string expected_rows;
  int n = 0;
  for (const auto& t : titles) {
    std::string body = "{\"title\": \"";
    for (char c : t) body += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    body += "\"}";
    auto made = request(port_, beast_http::verb::post, "/todos", body);
    EXPECT_EQ(made.status, 201) << t << ": " << made.body;
    expected_rows += std::to_string(++n) + "\t" + t + "\n";
  }
  // mariadb -B escapes a backslash in its output.
  std::string printed = expected_rows;
  for (size_t at = printed.find('\\'); at != std::string::npos; at = printed.find('\\', at + 2)) {
    printed.insert(at, "\\");
  }
  EXPECT_EQ(rows("SELECT id, title FROM todo.todos ORDER BY id"), printed);
  EXPECT_EQ(rows("SHOW TABLES FROM todo"), "todos\n");
  EXPECT_EQ(request(port_, beast_http::verb::delete_, "/todos/1%20OR%201=1").status, 404);
  EXPECT_EQ(request(port_, beast_http::verb::delete_, "/todos/1;DROP%20TABLE%20todos").status, 404);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM todo.todos"), "5\n");
  auto list = request(port_, beast_http::verb::get, "/todos");
  EXPECT_NE(list.body.find("{\"id\":1,\"title\":\"'); DROP TABLE todos; --\",\"done\":false}"), std::string::npos)
      << list.body;
}

TEST_F(TodoTest, ADatabaseRestartGives503sThenRecovers) {
  ASSERT_TRUE(start(todo_yaml()));
  ASSERT_EQ(request(port_, beast_http::verb::post, "/todos", R"({"title": "before"})").status, 201);
  db_->stop();
  for (int i = 0; i < 2; ++i) {
    auto down = request(port_, beast_http::verb::get, "/todos");
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(down.body.rfind("{\"error\":\"the database is unavailable: cannot connect to 127.0.0.1:", 0), 0u)
        << down.body;
    EXPECT_EQ(request(port_, beast_http::verb::post, "/todos", R"({"title": "lost"})").status, 503);
  }
  EXPECT_TRUE(log_holds("examples/todo todo cannot reach the database at 127.0.0.1:" + std::to_string(db_->port()) +
                        ": cannot connect to 127.0.0.1:" + std::to_string(db_->port()) + ": connection-refused"));
  ASSERT_TRUE(db_->start()) << db_->error();
  auto back = request(port_, beast_http::verb::get, "/todos");
  EXPECT_EQ(back.status, 200);
  EXPECT_EQ(back.body, "[{\"id\":1,\"title\":\"before\",\"done\":false}]\n");
  EXPECT_EQ(request(port_, beast_http::verb::post, "/todos", R"({"title": "after"})").status, 201);
}

TEST_F(TodoTest, DatabaseErrorsAre503sWithTheServersMessage) {
  ASSERT_TRUE(start(todo_yaml()));
  ASSERT_EQ(request(port_, beast_http::verb::get, "/todos").status, 200);
  rows("REVOKE INSERT ON todo.* FROM 'todo'@'localhost'; REVOKE INSERT ON todo.* FROM 'todo'@'127.0.0.1';");
  auto denied = request(port_, beast_http::verb::post, "/todos", R"({"title": "x"})");
  EXPECT_EQ(denied.status, 503);
  EXPECT_NE(denied.body.find("ERROR 1142 (42000): INSERT command denied to user 'todo'@"), std::string::npos)
      << denied.body;
  EXPECT_TRUE(log_holds("adding a todo: ERROR 1142 (42000)"));
  EXPECT_EQ(request(port_, beast_http::verb::get, "/todos").status, 200) << "reads still work";

  rows(
      "SET PASSWORD FOR 'todo'@'localhost' = PASSWORD('other'); "
      "SET PASSWORD FOR 'todo'@'127.0.0.1' = PASSWORD('other');");
  auto refused = request(port_, beast_http::verb::get, "/todos");
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("ERROR 1045 (28000): Access denied for user 'todo'@"), std::string::npos) << refused.body;
}

TEST_F(TodoTest, WithoutThePortRuleItCannotConnectAndWritesNothing) {
  std::string y = todo_yaml(false);
  ASSERT_EQ(y.find("allowed_host_loopback_ports"), std::string::npos);
  auto id = start(y);
  ASSERT_TRUE(id) << id.error().message;
  auto made = request(port_, beast_http::verb::post, "/todos", R"({"title": "denied"})");
  EXPECT_EQ(made.status, 503);
  EXPECT_NE(made.body.find("access-denied"), std::string::npos) << made.body;
  EXPECT_TRUE(log_holds("cannot connect to 127.0.0.1:" + std::to_string(db_->port()) + ": access-denied"));
  EXPECT_EQ(rows("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'todo'"), "0\n")
      << "no table, no row";
}

}  // namespace
}  // namespace stratus::workload
