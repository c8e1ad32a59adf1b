// A connection to a MySQL or MariaDB server over any byte transport (the
// guest's wasi:sockets TCP stream; canned bytes in the tests): the
// handshake with mysql_native_password, COM_QUERY with text result sets,
// prepared statements with binary result sets, COM_PING and COM_QUIT.
//
// An Io or Protocol error breaks the connection (usable() is false from
// then on: open another); a Server error (an ERR packet) does not.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "protocol.h"

namespace mysql {

class Transport {
 public:
  virtual ~Transport() = default;
  // Some bytes (at least one), or an Io error (closed, reset, timed out).
  virtual Result<Bytes> read() = 0;
  virtual Result<void> write(std::span<const uint8_t> bytes) = 0;
  // Without blocking: whether the peer has closed the connection or sent
  // something nobody asked for (a server going down says goodbye so).
  virtual bool peer_gone() { return false; }
};

// What a statement gave: rows (when it has columns), else its OK packet.
struct ResultSet {
  std::vector<Column> columns;
  std::vector<Row> rows;
  Ok ok;
};

struct PreparedStatement {
  PrepareOk prepared;
  std::vector<Column> params;
  std::vector<Column> columns;
};

class Connection {
 public:
  // Reads the server's handshake and logs in. Errors: Io, Protocol, or
  // Server (access denied, unknown database, ...), each saying so.
  static Result<std::unique_ptr<Connection>> open(std::unique_ptr<Transport> transport, const Credentials& credentials);

  const Handshake& server() const { return server_; }

  // COM_QUERY: for statements without user data (user data goes in
  // parameters of prepare()d statements).
  Result<ResultSet> query(std::string_view sql);
  Result<PreparedStatement> prepare(std::string_view sql);
  Result<ResultSet> execute(const PreparedStatement& statement, const std::vector<Value>& params);
  Result<void> close(const PreparedStatement& statement);
  Result<void> ping();
  // COM_QUIT, without waiting; the connection is not usable after.
  void quit();

  // Whether another command may be sent: no error broke the connection and
  // the server has neither closed it nor spoken unasked since.
  bool usable();

 private:
  explicit Connection(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

  Result<void> log_in(const Credentials& credentials);
  Result<void> send(std::span<const uint8_t> payload);  // a command: sequence 0
  Result<Bytes> read_payload();
  Result<std::vector<Column>> read_columns(size_t count);
  Result<void> read_eof(std::string_view after);
  Result<ResultSet> read_result(bool binary);
  Result<ResultSet> read_results(bool binary);
  // Marks the connection broken when `r` is an error that breaks it.
  template <class T>
  Result<T> checked(Result<T> r) {
    if (!r && !r.error().connection_usable()) broken_ = true;
    return r;
  }

  std::unique_ptr<Transport> transport_;
  PacketReader reader_;
  Handshake server_;
  uint32_t capabilities_ = 0;
  bool broken_ = false;
};

}  // namespace mysql
