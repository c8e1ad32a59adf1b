#include "client.h"

#include <algorithm>

namespace mysql {
namespace {

constexpr uint16_t kServerMoreResultsExist = 0x0008;

}  // namespace

Result<std::unique_ptr<Connection>> Connection::open(std::unique_ptr<Transport> transport,
                                                     const Credentials& credentials) {
  std::unique_ptr<Connection> c(new Connection(std::move(transport)));
  auto in = c->log_in(credentials);
  if (!in) return std::unexpected(std::move(in).error());
  return c;
}

Result<void> Connection::log_in(const Credentials& credentials) {
  reader_.reset(0);
  auto greeting = read_payload();
  if (!greeting) return std::unexpected(std::move(greeting).error());
  if (is_err(*greeting)) return std::unexpected(parse_err(*greeting));  // too many connections, host blocked, ...
  auto handshake = parse_handshake(*greeting);
  if (!handshake) return std::unexpected(std::move(handshake).error());
  server_ = std::move(*handshake);
  auto response = handshake_response(server_, credentials, capabilities_);
  if (!response) return std::unexpected(std::move(response).error());
  uint8_t seq = reader_.seq();
  if (auto w = transport_->write(frame(*response, seq)); !w) return w;
  reader_.reset(seq);
  for (int switches = 0;; ++switches) {
    auto reply = read_payload();
    if (!reply) return std::unexpected(std::move(reply).error());
    if (is_ok(*reply)) return {};
    if (is_err(*reply)) return std::unexpected(parse_err(*reply));
    if (reply->empty() || (*reply)[0] != 0xfe || switches > 0) {
      return protocol_error("login: an authentication step this client does not know (a packet starting " +
                            (reply->empty() ? std::string("empty") : "with byte " + std::to_string((*reply)[0])) + ")");
    }
    // An auth switch request: the plugin's name, then its nonce.
    PayloadReader r(*reply, "auth switch request");
    (void)r.u8("header");
    auto plugin = r.nul_string("plugin name");
    if (!plugin) return std::unexpected(std::move(plugin).error());
    if (*plugin != "mysql_native_password") {
      return protocol_error("login: the server wants the authentication plugin '" + *plugin +
                            "'; this client has only mysql_native_password");
    }
    auto nonce = r.bytes(std::min<size_t>(20, r.left()), "nonce");
    if (!nonce || nonce->size() < 20) return protocol_error("auth switch request: a nonce shorter than 20 bytes");
    Bytes scramble = native_password_scramble(credentials.password, *nonce);
    seq = reader_.seq();
    if (auto w = transport_->write(frame(scramble, seq)); !w) return w;
    reader_.reset(seq);
  }
}

Result<void> Connection::send(std::span<const uint8_t> payload) {
  if (broken_) return io_error("the connection is broken (an earlier error); open a new one");
  uint8_t seq = 0;
  auto w = checked(transport_->write(frame(payload, seq)));
  reader_.reset(seq);
  return w;
}

Result<Bytes> Connection::read_payload() {
  for (;;) {
    auto next = checked(reader_.next());
    if (!next) return std::unexpected(std::move(next).error());
    if (*next) return std::move(**next);
    auto bytes = checked(transport_->read());
    if (!bytes) return std::unexpected(std::move(bytes).error());
    reader_.feed(*bytes);
  }
}

Result<std::vector<Column>> Connection::read_columns(size_t count) {
  std::vector<Column> columns;
  columns.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    auto p = read_payload();
    if (!p) return std::unexpected(std::move(p).error());
    auto c = checked(parse_column(*p));
    if (!c) return std::unexpected(std::move(c).error());
    columns.push_back(std::move(*c));
  }
  if (count > 0 && !(capabilities_ & kClientDeprecateEof)) {
    if (auto e = read_eof("column definitions"); !e) return std::unexpected(std::move(e).error());
  }
  return columns;
}

Result<void> Connection::read_eof(std::string_view after) {
  auto p = read_payload();
  if (!p) return std::unexpected(std::move(p).error());
  if (!is_eof(*p)) return checked<void>(protocol_error("expected an EOF packet after the " + std::string(after)));
  return {};
}

Result<ResultSet> Connection::read_result(bool binary) {
  auto first = read_payload();
  if (!first) return std::unexpected(std::move(first).error());
  ResultSet result;
  if (is_err(*first)) return checked<ResultSet>(std::unexpected(parse_err(*first)));
  if (is_ok(*first)) {
    auto ok = checked(parse_ok(*first));
    if (!ok) return std::unexpected(std::move(ok).error());
    result.ok = std::move(*ok);
    return result;
  }
  if (first->empty()) return checked<ResultSet>(protocol_error("an empty reply to a command"));
  if ((*first)[0] == 0xfb) return checked<ResultSet>(protocol_error("LOAD DATA LOCAL INFILE is not supported"));
  PayloadReader r(*first, "result set header");
  auto count = checked(r.lenenc("column count"));
  if (!count) return std::unexpected(std::move(count).error());
  if (*count > 4096) {
    return checked<ResultSet>(protocol_error("result set header: " + std::to_string(*count) + " columns"));
  }
  auto columns = read_columns(static_cast<size_t>(*count));
  if (!columns) return std::unexpected(std::move(columns).error());
  result.columns = std::move(*columns);
  for (;;) {
    auto p = read_payload();
    if (!p) return std::unexpected(std::move(p).error());
    if (is_err(*p)) return checked<ResultSet>(std::unexpected(parse_err(*p)));
    if (is_eof(*p) || ((capabilities_ & kClientDeprecateEof) && !p->empty() && (*p)[0] == 0xfe)) {
      PayloadReader end(*p, "EOF packet");
      (void)end.u8("header");
      if (capabilities_ & kClientDeprecateEof) {
        auto ok = checked(parse_ok(*p));
        if (!ok) return std::unexpected(std::move(ok).error());
        result.ok = std::move(*ok);
      } else if (end.left() >= 4) {
        result.ok.warnings = *end.u16("warnings");
        result.ok.status = *end.u16("status");
      }
      return result;
    }
    auto row = checked(binary ? parse_binary_row(*p, result.columns) : parse_text_row(*p, result.columns));
    if (!row) return std::unexpected(std::move(row).error());
    result.rows.push_back(std::move(*row));
  }
}

Result<ResultSet> Connection::read_results(bool binary) {
  auto result = read_result(binary);
  // Further results (a CALL's, a multi-statement's) are read and dropped,
  // so the connection is ready for the next command.
  uint16_t status = result ? result->ok.status : 0;
  while (status & kServerMoreResultsExist) {
    auto more = read_result(binary);
    if (!more) return std::unexpected(std::move(more).error());
    status = more->ok.status;
  }
  return result;
}

Result<ResultSet> Connection::query(std::string_view sql) {
  if (auto s = send(command(kComQuery, sql)); !s) return std::unexpected(std::move(s).error());
  return read_results(false);
}

Result<PreparedStatement> Connection::prepare(std::string_view sql) {
  if (auto s = send(command(kComStmtPrepare, sql)); !s) return std::unexpected(std::move(s).error());
  auto first = read_payload();
  if (!first) return std::unexpected(std::move(first).error());
  if (is_err(*first)) return std::unexpected(parse_err(*first));
  auto ok = checked(parse_prepare_ok(*first));
  if (!ok) return std::unexpected(std::move(ok).error());
  PreparedStatement statement{*ok, {}, {}};
  auto params = read_columns(ok->params);
  if (!params) return std::unexpected(std::move(params).error());
  statement.params = std::move(*params);
  auto columns = read_columns(ok->columns);
  if (!columns) return std::unexpected(std::move(columns).error());
  statement.columns = std::move(*columns);
  return statement;
}

Result<ResultSet> Connection::execute(const PreparedStatement& statement, const std::vector<Value>& params) {
  auto payload = execute_command(statement.prepared, params);
  if (!payload) return std::unexpected(std::move(payload).error());
  if (auto s = send(*payload); !s) return std::unexpected(std::move(s).error());
  return read_results(true);
}

Result<void> Connection::close(const PreparedStatement& statement) {
  return send(statement_command(kComStmtClose, statement.prepared.statement_id));  // no reply
}

Result<void> Connection::ping() {
  if (auto s = send(command(kComPing)); !s) return s;
  auto reply = read_payload();
  if (!reply) return std::unexpected(std::move(reply).error());
  if (is_err(*reply)) return std::unexpected(parse_err(*reply));
  if (!is_ok(*reply)) return checked<void>(protocol_error("COM_PING: the reply is neither OK nor ERR"));
  return {};
}

void Connection::quit() {
  if (!broken_) (void)send(command(kComQuit));
  broken_ = true;
}

bool Connection::usable() {
  if (!broken_ && (reader_.has_unread() || transport_->peer_gone())) broken_ = true;
  return !broken_;
}

}  // namespace mysql
