// Errors as values: the guest is built without exceptions, and a malformed
// packet must end in an error that says what was wrong, never a crash.
#pragma once

#include <cstdint>
#include <expected>
#include <string>

namespace mysql {

struct Error {
  enum class Kind {
    Io,        // the connection failed or closed: open a new one
    Protocol,  // the server sent what the protocol does not allow: open a new one
    Server,    // an ERR packet (code, sql_state): the connection goes on
    Usage,     // the caller asked for what cannot be sent (a bad parameter count, ...)
  };
  Kind kind = Kind::Protocol;
  uint16_t code = 0;      // Kind::Server: the server's error number (1146: no such table, ...)
  std::string sql_state;  // Kind::Server: "42S02", ...; empty when the server sent none
  std::string message;

  // Whether the connection that gave this error can still be used.
  bool connection_usable() const { return kind == Kind::Server || kind == Kind::Usage; }
  // "ERROR 1146 (42S02): Table 'todo.x' doesn't exist", or the message.
  std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> protocol_error(std::string message) {
  return std::unexpected(Error{Error::Kind::Protocol, 0, {}, std::move(message)});
}
inline std::unexpected<Error> io_error(std::string message) {
  return std::unexpected(Error{Error::Kind::Io, 0, {}, std::move(message)});
}
inline std::unexpected<Error> usage_error(std::string message) {
  return std::unexpected(Error{Error::Kind::Usage, 0, {}, std::move(message)});
}

}  // namespace mysql
