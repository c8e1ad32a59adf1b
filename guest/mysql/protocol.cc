#include "protocol.h"

#include <algorithm>
#include <bit>
#include <cstdio>

#include "sha1.h"

namespace mysql {
namespace {

// MYSQL_READ(x, expr) declares x as expr's value, or returns its error from
// the enclosing function; MYSQL_CHECK(expr) only returns the error.
// `var` is a name being declared, which parentheses cannot enclose.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define MYSQL_READ(var, expr)                                             \
  auto var##_read = (expr);                                               \
  if (!var##_read) return std::unexpected(std::move(var##_read).error()); \
  auto var = *var##_read
// NOLINTEND(bugprone-macro-parentheses)
#define MYSQL_CHECK(expr)                                             \
  do {                                                                \
    auto checked = (expr);                                            \
    if (!checked) return std::unexpected(std::move(checked).error()); \
  } while (0)

std::string two(unsigned v) {
  char b[4];
  std::snprintf(b, sizeof b, "%02u", v % 100);
  return b;
}

// A binary DATE/DATETIME/TIMESTAMP value as the text MariaDB prints for it.
Result<std::string> binary_datetime(PayloadReader& r, ColumnType type) {
  MYSQL_READ(size, r.u8("datetime length"));
  if (size != 0 && size != 4 && size != 7 && size != 11) {
    return protocol_error("binary row: a date or time value of " + std::to_string(size) +
                          " bytes (expected 0, 4, 7 or 11)");
  }
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  uint32_t micro = 0;
  if (size >= 4) {
    MYSQL_READ(y, r.u16("year"));
    MYSQL_READ(mo, r.u8("month"));
    MYSQL_READ(d, r.u8("day"));
    year = y, month = mo, day = d;
  }
  if (size >= 7) {
    MYSQL_READ(h, r.u8("hour"));
    MYSQL_READ(mi, r.u8("minute"));
    MYSQL_READ(s, r.u8("second"));
    hour = h, minute = mi, second = s;
  }
  if (size == 11) {
    MYSQL_READ(us, r.u32("microsecond"));
    micro = us;
  }
  char b[40];
  std::snprintf(b, sizeof b, "%04u-%s-%s", year % 10000, two(month).c_str(), two(day).c_str());
  std::string out = b;
  if (type == ColumnType::Date) return out;
  out += " " + two(hour) + ":" + two(minute) + ":" + two(second);
  if (micro != 0) {
    std::snprintf(b, sizeof b, ".%06u", static_cast<unsigned>(micro % 1000000));
    out += b;
  }
  return out;
}

// A binary TIME value ("-838:59:59", "12:00:00.5").
Result<std::string> binary_time(PayloadReader& r) {
  MYSQL_READ(size, r.u8("time length"));
  if (size != 0 && size != 8 && size != 12) {
    return protocol_error("binary row: a time value of " + std::to_string(size) + " bytes (expected 0, 8 or 12)");
  }
  if (size == 0) return std::string("00:00:00");
  MYSQL_READ(negative, r.u8("time sign"));
  MYSQL_READ(days, r.u32("days"));
  MYSQL_READ(hour, r.u8("hour"));
  MYSQL_READ(minute, r.u8("minute"));
  MYSQL_READ(second, r.u8("second"));
  uint32_t micro = 0;
  if (size == 12) {
    MYSQL_READ(us, r.u32("microsecond"));
    micro = us;
  }
  std::string out = negative ? "-" : "";
  out += std::to_string(uint64_t{days} * 24 + hour) + ":" + two(minute) + ":" + two(second);
  if (micro != 0) {
    char b[16];
    std::snprintf(b, sizeof b, ".%06u", static_cast<unsigned>(micro % 1000000));
    out += b;
  }
  return out;
}

// A signed or unsigned integer of `size` bytes, as the column's flags say.
Value integer(uint64_t raw, size_t size, bool is_unsigned) {
  if (is_unsigned) return raw;
  if (size < 8) {
    uint64_t sign = uint64_t{1} << (8 * size - 1);
    if (raw & sign) raw |= ~((sign << 1) - 1);
  }
  return static_cast<int64_t>(raw);
}

}  // namespace

Result<Handshake> parse_handshake(std::span<const uint8_t> payload) {
  PayloadReader r(payload, "handshake");
  Handshake h;
  MYSQL_READ(version, r.u8("protocol version"));
  if (version != 10) {
    return protocol_error("handshake: protocol version " + std::to_string(version) + " (only 10 is supported)");
  }
  h.protocol_version = version;
  MYSQL_READ(server_version, r.nul_string("server version"));
  h.server_version = std::move(server_version);
  MYSQL_READ(connection_id, r.u32("connection id"));
  h.connection_id = connection_id;
  MYSQL_READ(part1, r.bytes(8, "auth-plugin-data-part-1"));
  h.nonce.assign(part1.begin(), part1.end());
  MYSQL_CHECK(r.skip(1, "filler"));
  MYSQL_READ(low, r.u16("capability flags"));
  h.capabilities = low;
  if (r.at_end()) {
    // Only a server older than 4.1 ends here (and cannot log us in: see handshake_response).
    if (h.capabilities & kClientProtocol41) return protocol_error("handshake: cut short after the capability flags");
    return h;
  }
  MYSQL_READ(charset, r.u8("character set"));
  MYSQL_READ(status, r.u16("status flags"));
  MYSQL_READ(high, r.u16("capability flags (upper)"));
  MYSQL_READ(data_size, r.u8("auth-plugin-data length"));
  MYSQL_CHECK(r.skip(10, "reserved"));
  h.charset = charset, h.status = status;
  h.capabilities |= uint32_t{high} << 16;
  if (h.capabilities & kClientSecureConnection) {
    size_t part2_size = data_size > 8 ? std::max<size_t>(13, data_size - 8) : 13;
    MYSQL_READ(part2, r.bytes(std::min(part2_size, r.left()), "auth-plugin-data-part-2"));
    if (part2.size() < 12) {
      return protocol_error("handshake: auth-plugin-data-part-2: needs 12 bytes, " + std::to_string(part2.size()) +
                            " left");
    }
    h.nonce.insert(h.nonce.end(), part2.begin(), part2.begin() + 12);
  }
  // Some servers end the plugin name at the payload's end, without a NUL.
  if (h.capabilities & kClientPluginAuth) h.auth_plugin = r.nul_or_rest_string();
  return h;
}

Bytes native_password_scramble(std::string_view password, std::span<const uint8_t> nonce) {
  if (password.empty()) return {};
  Sha1Digest stage1 = sha1(password);
  Sha1Digest stage2 = sha1(stage1);
  Sha1 s;
  s.update(nonce);
  s.update(stage2);
  Sha1Digest mix = s.digest();
  Bytes out(stage1.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = stage1[i] ^ mix[i];
  return out;
}

Result<Bytes> handshake_response(const Handshake& server, const Credentials& credentials, uint32_t& capabilities) {
  if (!(server.capabilities & kClientProtocol41) || !(server.capabilities & kClientSecureConnection)) {
    return protocol_error("the server " + server.server_version +
                          " speaks neither protocol 4.1 nor secure connection (older than MySQL 4.1)");
  }
  capabilities = kClientCapabilities & server.capabilities;
  if (!credentials.database.empty()) capabilities |= kClientConnectWithDb;
  PayloadWriter w;
  w.fixed(capabilities, 4).fixed(kMaxPacketPayload, 4).u8(kUtf8mb4).zeros(23);
  w.nul_string(credentials.user);
  Bytes auth = native_password_scramble(credentials.password, server.nonce);
  if (capabilities & kClientPluginAuthLenencData) {
    w.lenenc(auth.size()).bytes(auth);
  } else {
    w.u8(static_cast<uint8_t>(auth.size())).bytes(auth);
  }
  if (capabilities & kClientConnectWithDb) w.nul_string(credentials.database);
  if (capabilities & kClientPluginAuth) w.nul_string("mysql_native_password");
  return w.take();
}

bool is_ok(std::span<const uint8_t> payload) { return !payload.empty() && payload[0] == 0x00; }
bool is_err(std::span<const uint8_t> payload) { return !payload.empty() && payload[0] == 0xff; }
bool is_eof(std::span<const uint8_t> payload) { return !payload.empty() && payload[0] == 0xfe && payload.size() < 9; }

Result<Ok> parse_ok(std::span<const uint8_t> payload) {
  PayloadReader r(payload, "OK packet");
  MYSQL_READ(header, r.u8("header"));
  if (header != 0x00 && header != 0xfe) {
    return protocol_error("OK packet: header " + std::to_string(header) + " (expected 0x00 or 0xfe)");
  }
  Ok ok;
  MYSQL_READ(affected, r.lenenc("affected rows"));
  MYSQL_READ(insert_id, r.lenenc("last insert id"));
  MYSQL_READ(status, r.u16("status flags"));
  MYSQL_READ(warnings, r.u16("warnings"));
  ok.affected_rows = affected, ok.last_insert_id = insert_id, ok.status = status, ok.warnings = warnings;
  ok.info = r.rest_string();
  return ok;
}

Error parse_err(std::span<const uint8_t> payload) {
  PayloadReader r(payload, "ERR packet");
  auto header = r.u8("header");
  if (!header) return header.error();
  if (*header != 0xff) return protocol_error("ERR packet: header is not 0xff").error();
  auto code = r.u16("error code");
  if (!code) return code.error();
  Error e{Error::Kind::Server, *code, {}, {}};
  if (r.peek() == uint8_t{'#'}) {
    (void)r.skip(1, "sql state marker");
    auto state = r.string(5, "sql state");
    if (!state) return state.error();
    e.sql_state = std::move(*state);
  }
  e.message = r.rest_string();
  return e;
}

Result<Column> parse_column(std::span<const uint8_t> payload) {
  PayloadReader r(payload, "column definition");
  Column c;
  MYSQL_READ(catalog, r.lenenc_string("catalog"));
  (void)catalog;
  MYSQL_READ(schema, r.lenenc_string("schema"));
  MYSQL_READ(table, r.lenenc_string("table"));
  MYSQL_READ(org_table, r.lenenc_string("org_table"));
  (void)org_table;
  MYSQL_READ(name, r.lenenc_string("name"));
  MYSQL_READ(org_name, r.lenenc_string("org_name"));
  (void)org_name;
  MYSQL_READ(fixed_size, r.lenenc("length of fixed fields"));
  if (fixed_size < 10 || fixed_size > 10 + r.left()) {
    return protocol_error("column definition: " + std::to_string(fixed_size) + " bytes of fixed fields (expected 12)");
  }
  MYSQL_READ(charset, r.u16("character set"));
  MYSQL_READ(length, r.u32("column length"));
  MYSQL_READ(type, r.u8("type"));
  MYSQL_READ(flags, r.u16("flags"));
  MYSQL_READ(decimals, r.u8("decimals"));
  MYSQL_CHECK(r.skip(static_cast<size_t>(fixed_size - 10), "filler"));
  c.schema = std::move(schema), c.table = std::move(table), c.name = std::move(name);
  c.charset = charset, c.length = length, c.type = static_cast<ColumnType>(type), c.flags = flags;
  c.decimals = decimals;
  return c;
}

Result<PrepareOk> parse_prepare_ok(std::span<const uint8_t> payload) {
  PayloadReader r(payload, "COM_STMT_PREPARE OK");
  MYSQL_READ(header, r.u8("status"));
  if (header != 0x00) return protocol_error("COM_STMT_PREPARE OK: status is not 0x00");
  PrepareOk p;
  MYSQL_READ(id, r.u32("statement id"));
  MYSQL_READ(columns, r.u16("number of columns"));
  MYSQL_READ(params, r.u16("number of params"));
  p.statement_id = id, p.columns = columns, p.params = params;
  if (r.left() >= 3) {
    (void)r.skip(1, "reserved");
    MYSQL_READ(warnings, r.u16("warnings"));
    p.warnings = warnings;
  }
  return p;
}

Result<Row> parse_text_row(std::span<const uint8_t> payload, const std::vector<Column>& columns) {
  PayloadReader r(payload, "text row");
  Row row;
  row.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    if (r.peek() == uint8_t{0xfb}) {
      (void)r.skip(1, "NULL");
      row.emplace_back(std::monostate{});
      continue;
    }
    MYSQL_READ(text, r.lenenc_string(columns[i].name));
    row.emplace_back(std::move(text));
  }
  if (!r.at_end()) {
    return protocol_error("text row: " + std::to_string(r.left()) + " bytes after its " +
                          std::to_string(columns.size()) + " columns");
  }
  return row;
}

Result<Row> parse_binary_row(std::span<const uint8_t> payload, const std::vector<Column>& columns) {
  PayloadReader r(payload, "binary row");
  MYSQL_READ(header, r.u8("header"));
  if (header != 0x00) return protocol_error("binary row: header is not 0x00");
  MYSQL_READ(nulls, r.bytes((columns.size() + 7 + 2) / 8, "NULL bitmap"));
  Row row;
  row.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    size_t bit = i + 2;
    if (nulls[bit / 8] & (1u << (bit % 8))) {
      row.emplace_back(std::monostate{});
      continue;
    }
    const Column& c = columns[i];
    bool is_unsigned = c.flags & kUnsignedFlag;
    size_t size = 0;
    switch (c.type) {
      case ColumnType::Tiny: size = 1; break;
      case ColumnType::Short:
      case ColumnType::Year: size = 2; break;
      case ColumnType::Long:
      case ColumnType::Int24: size = 4; break;
      case ColumnType::LongLong: size = 8; break;
      default: break;
    }
    if (size != 0) {
      MYSQL_READ(raw, r.fixed(size, c.name));
      row.push_back(integer(raw, size, is_unsigned));
    } else if (c.type == ColumnType::Float) {
      MYSQL_READ(raw, r.u32(c.name));
      row.emplace_back(static_cast<double>(std::bit_cast<float>(raw)));
    } else if (c.type == ColumnType::Double) {
      MYSQL_READ(raw, r.fixed(8, c.name));
      row.emplace_back(std::bit_cast<double>(raw));
    } else if (c.type == ColumnType::Date || c.type == ColumnType::DateTime || c.type == ColumnType::Timestamp) {
      MYSQL_READ(text, binary_datetime(r, c.type));
      row.emplace_back(std::move(text));
    } else if (c.type == ColumnType::Time) {
      MYSQL_READ(text, binary_time(r));
      row.emplace_back(std::move(text));
    } else if (c.type == ColumnType::Null) {
      row.emplace_back(std::monostate{});
    } else {
      MYSQL_READ(text, r.lenenc_string(c.name));
      row.emplace_back(std::move(text));
    }
  }
  if (!r.at_end()) {
    return protocol_error("binary row: " + std::to_string(r.left()) + " bytes after its " +
                          std::to_string(columns.size()) + " columns");
  }
  return row;
}

Bytes command(uint8_t command, std::string_view argument) {
  PayloadWriter w;
  w.u8(command).text(argument);
  return w.take();
}

Bytes statement_command(uint8_t command, uint32_t statement_id) {
  PayloadWriter w;
  w.u8(command).fixed(statement_id, 4);
  return w.take();
}

Result<Bytes> execute_command(const PrepareOk& statement, const std::vector<Value>& params) {
  if (params.size() != statement.params) {
    return usage_error("the statement takes " + std::to_string(statement.params) + " parameter" +
                       (statement.params == 1 ? "" : "s") + ", " + std::to_string(params.size()) + " given");
  }
  PayloadWriter w;
  w.u8(kComStmtExecute).fixed(statement.statement_id, 4).u8(0x00).fixed(1, 4);
  if (params.empty()) return w.take();
  Bytes nulls((params.size() + 7) / 8, 0);
  for (size_t i = 0; i < params.size(); ++i) {
    if (std::holds_alternative<std::monostate>(params[i])) nulls[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  w.bytes(nulls).u8(1);  // new-params-bound: the types follow
  for (const auto& p : params) {
    if (std::holds_alternative<std::monostate>(p)) {
      w.u8(static_cast<uint8_t>(ColumnType::Null)).u8(0);
    } else if (std::holds_alternative<int64_t>(p)) {
      w.u8(static_cast<uint8_t>(ColumnType::LongLong)).u8(0);
    } else if (std::holds_alternative<uint64_t>(p)) {
      w.u8(static_cast<uint8_t>(ColumnType::LongLong)).u8(0x80);
    } else if (std::holds_alternative<double>(p)) {
      w.u8(static_cast<uint8_t>(ColumnType::Double)).u8(0);
    } else {
      w.u8(static_cast<uint8_t>(ColumnType::VarString)).u8(0);
    }
  }
  for (const auto& p : params) {
    if (const auto* i = std::get_if<int64_t>(&p)) {
      w.fixed(static_cast<uint64_t>(*i), 8);
    } else if (const auto* u = std::get_if<uint64_t>(&p)) {
      w.fixed(*u, 8);
    } else if (const auto* d = std::get_if<double>(&p)) {
      w.fixed(std::bit_cast<uint64_t>(*d), 8);
    } else if (const auto* s = std::get_if<std::string>(&p)) {
      w.lenenc_string(*s);
    }
  }
  return w.take();
}

}  // namespace mysql
