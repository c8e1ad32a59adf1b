// The todo API: a wasi:http component that keeps its todos in MariaDB,
// reached over wasi:sockets (examples/todo/workload.yaml grants the port).
//   POST   /todos       {"title": "..."}  201 and the new todo as JSON
//   GET    /todos       200 and the todos as a JSON list
//   DELETE /todos/{id}  204, or 404 when there is no such todo
// Bad JSON gets a 400 with a message; a database that is down or failing
// gets a 503 with a JSON error (each request connects anew: instances start
// fresh, so the next request tries again).
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "bindings.h"
#include "json.h"
#include "todos.h"

namespace {

namespace http = ::wasi::http::types;
namespace logging = ::wasi::logging::logging;

constexpr size_t kMaxBody = 64 * 1024;
constexpr size_t kMaxTitle = 1000;

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void respond(http::ResponseOutparam out, uint16_t status, std::string_view body) {
  http::Fields headers;
  if (status != 204) {  // which has neither a body nor a length
    (void)headers.append("content-type", bytes("application/json"));
    (void)headers.append("content-length", bytes(std::to_string(body.size())));
  }
  http::OutgoingResponse response(std::move(headers));
  (void)response.set_status_code(status);
  auto outgoing = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (!outgoing) return;
  {
    auto stream = outgoing->write();
    if (!stream) return;
    for (size_t at = 0; at < body.size(); at += 4096) {
      if (!stream->blocking_write_and_flush(bytes(body.substr(at, 4096)))) return;
    }
  }
  (void)http::OutgoingBody::finish(std::move(*outgoing), std::nullopt);
}

void respond_error(http::ResponseOutparam out, uint16_t status, std::string_view message) {
  respond(std::move(out), status, "{\"error\":" + todo::json::quote(message) + "}\n");
}

std::string todo_json(const todo::Todo& t) {
  return "{\"id\":" + std::to_string(t.id) + ",\"title\":" + todo::json::quote(t.title) +
         ",\"done\":" + (t.done ? "true" : "false") + "}";
}

struct BodyError {
  uint16_t status;
  std::string message;
};

// The request body, at most kMaxBody bytes.
std::expected<std::string, BodyError> read_body(const http::IncomingRequest& request) {
  auto body = request.consume();
  if (!body) return std::unexpected(BodyError{400, "the body was already read"});
  std::string text;
  {
    auto stream = body->stream();
    if (!stream) return std::unexpected(BodyError{400, "the body has no stream"});
    for (;;) {
      auto chunk = stream->blocking_read(16 * 1024);
      if (!chunk) {
        if (std::holds_alternative<::wasi::io::streams::StreamErrorClosed>(chunk.error())) break;  // the end
        return std::unexpected(BodyError{400, "the body could not be read whole"});
      }
      text.append(chunk->begin(), chunk->end());
      if (text.size() > kMaxBody) return std::unexpected(BodyError{413, "the body is larger than 64 KiB"});
    }
  }
  (void)http::IncomingBody::finish(std::move(*body));
  return text;
}

std::string config(std::string_view key, std::string_view otherwise) {
  auto value = ::wasi::config::store::get(key);
  return value && *value ? **value : std::string(otherwise);
}

std::optional<uint64_t> parse_id(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

// The database settings from wasi:config; an error names the bad key.
std::expected<todo::Database, std::string> database() {
  todo::Database db;
  db.host = config("db_host", "127.0.0.1");
  auto port = parse_id(config("db_port", "3306"));
  if (!port || *port == 0 || *port > 65535)
    return std::unexpected(std::string("config db_port: expected a port number"));
  db.port = static_cast<uint16_t>(*port);
  db.credentials = {config("db_user", "todo"), config("db_password", ""), config("db_name", "todo")};
  return db;
}

void log_failure(std::string_view what, const mysql::Error& e) {
  logging::log(logging::Level::kError, "todo", std::string(what) + ": " + e.describe());
}

// The title of a POST body, or a message for the 400.
std::expected<std::string, std::string> title_of(std::string_view body) {
  auto members = todo::json::parse_object(body);
  if (!members) return std::unexpected("the body is not valid JSON: " + members.error());
  for (const auto& m : *members) {
    if (m.key != "title") continue;
    if (!m.string) return std::unexpected(std::string("\"title\" must be a string"));
    if (m.string->find_first_not_of(" \t\r\n") == std::string::npos) {
      return std::unexpected(std::string("\"title\" must not be empty"));
    }
    if (m.string->size() > kMaxTitle) {
      return std::unexpected("\"title\" is longer than " + std::to_string(kMaxTitle) + " bytes");
    }
    return *m.string;
  }
  return std::unexpected(std::string("the body has no \"title\""));
}

void handle_todos(http::IncomingRequest request, http::ResponseOutparam out) {
  std::string path = request.path_with_query().value_or("/");
  path = path.substr(0, path.find('?'));
  http::Method method = request.method();
  bool is_collection = path == "/todos" || path == "/todos/";
  std::optional<uint64_t> id;
  if (!is_collection) {
    if (path.rfind("/todos/", 0) != 0) return respond_error(std::move(out), 404, "nothing at " + path);
    id = parse_id(std::string_view(path).substr(7));
    if (!id) return respond_error(std::move(out), 404, "no todo " + path.substr(7));
  }
  bool get = std::holds_alternative<http::MethodGet>(method);
  bool post = std::holds_alternative<http::MethodPost>(method);
  bool del = std::holds_alternative<http::MethodDelete>(method);
  if (is_collection ? !(get || post) : !del) {
    return respond_error(std::move(out), 405,
                         is_collection ? "use GET or POST on /todos" : "use DELETE on /todos/{id}");
  }

  std::string title;
  if (post) {
    auto body = read_body(request);
    if (!body) return respond_error(std::move(out), body.error().status, body.error().message);
    auto t = title_of(*body);
    if (!t) return respond_error(std::move(out), 400, t.error());
    title = std::move(*t);
  }

  auto db = database();
  if (!db) return respond_error(std::move(out), 500, db.error());
  auto store = todo::TodoStore::open(*db);
  if (!store) {
    log_failure("cannot reach the database at " + db->host + ":" + std::to_string(db->port), store.error());
    return respond_error(std::move(out), 503, "the database is unavailable: " + store.error().describe());
  }
  if (get) {
    auto todos = store->list();
    store->close();
    if (!todos) {
      log_failure("listing the todos", todos.error());
      return respond_error(std::move(out), 503, "the database failed: " + todos.error().describe());
    }
    std::string body = "[";
    for (const auto& t : *todos) body += (body.size() > 1 ? "," : "") + todo_json(t);
    return respond(std::move(out), 200, body + "]\n");
  }
  if (post) {
    auto added = store->add(title);
    store->close();
    if (!added) {
      log_failure("adding a todo", added.error());
      return respond_error(std::move(out), 503, "the database failed: " + added.error().describe());
    }
    return respond(std::move(out), 201, todo_json(*added) + "\n");
  }
  auto removed = store->remove(*id);
  store->close();
  if (!removed) {
    log_failure("deleting a todo", removed.error());
    return respond_error(std::move(out), 503, "the database failed: " + removed.error().describe());
  }
  if (!*removed) return respond_error(std::move(out), 404, "no todo " + std::to_string(*id));
  respond(std::move(out), 204, "");
}

}  // namespace

namespace exports::wasi::http::incoming_handler {

void handle(::wasi::http::types::IncomingRequest request, ::wasi::http::types::ResponseOutparam response_out) {
  handle_todos(std::move(request), std::move(response_out));
}

}  // namespace exports::wasi::http::incoming_handler
