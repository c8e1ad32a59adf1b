// The client side of the MySQL/MariaDB protocol's messages, as pure
// functions from payloads to values and back (the connection in client.h
// does the I/O): the v10 handshake and its response, mysql_native_password,
// OK/ERR/EOF packets, column definitions, text and binary result rows, and
// the prepared-statement commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "wire.h"

namespace mysql {

// Capability flags (the protocol's names).
inline constexpr uint32_t kClientLongPassword = 1u << 0;
inline constexpr uint32_t kClientFoundRows = 1u << 1;
inline constexpr uint32_t kClientLongFlag = 1u << 2;
inline constexpr uint32_t kClientConnectWithDb = 1u << 3;
inline constexpr uint32_t kClientProtocol41 = 1u << 9;
inline constexpr uint32_t kClientTransactions = 1u << 13;
inline constexpr uint32_t kClientSecureConnection = 1u << 15;
inline constexpr uint32_t kClientMultiResults = 1u << 17;
inline constexpr uint32_t kClientPluginAuth = 1u << 19;
inline constexpr uint32_t kClientPluginAuthLenencData = 1u << 21;
inline constexpr uint32_t kClientDeprecateEof = 1u << 24;

// Commands.
inline constexpr uint8_t kComQuit = 0x01;
inline constexpr uint8_t kComQuery = 0x03;
inline constexpr uint8_t kComPing = 0x0e;
inline constexpr uint8_t kComStmtPrepare = 0x16;
inline constexpr uint8_t kComStmtExecute = 0x17;
inline constexpr uint8_t kComStmtClose = 0x19;

// Column types (enum_field_types).
enum class ColumnType : uint8_t {
  Decimal = 0x00,
  Tiny = 0x01,
  Short = 0x02,
  Long = 0x03,
  Float = 0x04,
  Double = 0x05,
  Null = 0x06,
  Timestamp = 0x07,
  LongLong = 0x08,
  Int24 = 0x09,
  Date = 0x0a,
  Time = 0x0b,
  DateTime = 0x0c,
  Year = 0x0d,
  VarChar = 0x0f,
  Bit = 0x10,
  Json = 0xf5,
  NewDecimal = 0xf6,
  Enum = 0xf7,
  Set = 0xf8,
  TinyBlob = 0xf9,
  MediumBlob = 0xfa,
  LongBlob = 0xfb,
  Blob = 0xfc,
  VarString = 0xfd,
  String = 0xfe,
  Geometry = 0xff,
};

inline constexpr uint16_t kUnsignedFlag = 0x20;

// A value in a row, or a statement parameter. Text result sets give
// strings (or NULL); binary ones give integers and floating point numbers
// as such, and temporal values as their text ("2024-01-31 12:00:00").
using Value = std::variant<std::monostate, int64_t, uint64_t, double, std::string>;
using Row = std::vector<Value>;

struct Handshake {
  uint8_t protocol_version = 0;
  std::string server_version;
  uint32_t connection_id = 0;
  Bytes nonce;  // the 20 bytes of auth-plugin-data the scramble uses
  uint32_t capabilities = 0;
  uint8_t charset = 0;
  uint16_t status = 0;
  std::string auth_plugin;  // "mysql_native_password", ...
};

struct Ok {
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t status = 0;
  uint16_t warnings = 0;
  std::string info;
};

struct Column {
  std::string schema, table, name;
  uint16_t charset = 0;
  uint32_t length = 0;
  ColumnType type = ColumnType::Null;
  uint16_t flags = 0;
  uint8_t decimals = 0;
};

struct PrepareOk {
  uint32_t statement_id = 0;
  uint16_t columns = 0;
  uint16_t params = 0;
  uint16_t warnings = 0;
};

// What the client asks for in its handshake response.
struct Credentials {
  std::string user;
  std::string password;
  std::string database;  // empty: none
};

// The capabilities this client asks for (of those the server offers).
inline constexpr uint32_t kClientCapabilities = kClientLongPassword | kClientFoundRows | kClientLongFlag |
                                                kClientProtocol41 | kClientTransactions | kClientSecureConnection |
                                                kClientMultiResults | kClientPluginAuth | kClientPluginAuthLenencData;
// utf8mb4_general_ci, which MariaDB and MySQL both know.
inline constexpr uint8_t kUtf8mb4 = 45;

Result<Handshake> parse_handshake(std::span<const uint8_t> payload);

// mysql_native_password: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))),
// empty for an empty password.
Bytes native_password_scramble(std::string_view password, std::span<const uint8_t> nonce);

// The HandshakeResponse41 payload for `server`, with the capabilities both
// sides have (`capabilities` of kClientCapabilities, plus CONNECT_WITH_DB
// when a database is named). Errors: a server without PROTOCOL_41 or
// SECURE_CONNECTION (older than MySQL 4.1).
Result<Bytes> handshake_response(const Handshake& server, const Credentials& credentials, uint32_t& capabilities);

// Kinds of response packet, by their first byte and size.
bool is_ok(std::span<const uint8_t> payload);
bool is_err(std::span<const uint8_t> payload);
bool is_eof(std::span<const uint8_t> payload);  // 0xfe and shorter than 9 bytes

Result<Ok> parse_ok(std::span<const uint8_t> payload);
// The ERR packet as an Error of kind Server; a malformed one as a Protocol error.
Error parse_err(std::span<const uint8_t> payload);
Result<Column> parse_column(std::span<const uint8_t> payload);
Result<PrepareOk> parse_prepare_ok(std::span<const uint8_t> payload);

// A text result set's row: one length-encoded string or 0xfb (NULL) per column.
Result<Row> parse_text_row(std::span<const uint8_t> payload, const std::vector<Column>& columns);
// A binary result set's row: 0x00, the NULL bitmap (offset 2), the values by type.
Result<Row> parse_binary_row(std::span<const uint8_t> payload, const std::vector<Column>& columns);

Bytes command(uint8_t command, std::string_view argument = {});
Bytes statement_command(uint8_t command, uint32_t statement_id);  // COM_STMT_CLOSE, ...
// COM_STMT_EXECUTE with `params` bound (types sent every time). Errors: a
// parameter count other than the statement's.
Result<Bytes> execute_command(const PrepareOk& statement, const std::vector<Value>& params);

}  // namespace mysql
