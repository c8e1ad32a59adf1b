// The connection of one outbound wasi:http request: TCP, and TLS (OpenSSL,
// the system's trust store) for https, over a non-blocking socket. Every
// wait is one poll(2) that also watches a cancel eventfd and ends at a
// deadline, so the thread using it can always be stopped. Failures come
// back as wasi:http error-codes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "wasi_p2_bindings.h"

namespace stratus::wasi::p2 {

using HttpErrorCode = ::wasi::http::types::ErrorCode;

// A point on the monotonic clock (ns), or never.
using Deadline = std::optional<uint64_t>;

enum class WaitResult { Ready, Timeout, Cancelled };
// Waits for `events` on `fd`, the cancel eventfd, or the deadline.
WaitResult wait_fd(int fd, short events, int cancel_fd, Deadline deadline);

// How a read or write ended: Ok, or why not. `error` is set for Failed.
struct IoOutcome {
  enum class Status { Ok, End, Timeout, Cancelled, Failed };
  Status status = Status::Ok;
  size_t bytes = 0;
  std::optional<HttpErrorCode> error;
};

class HttpConnection {
 public:
  virtual ~HttpConnection() = default;
  // At least one byte (Ok), the peer's end (End), or why not, by `deadline`.
  virtual IoOutcome read_some(void* data, size_t len, Deadline deadline) = 0;
  // All of it, or why not.
  virtual IoOutcome write_all(const void* data, size_t len, Deadline deadline) = 0;
};

struct HttpTarget {
  std::string host;  // a name or an address (IPv6 without brackets)
  uint16_t port = 80;
  bool tls = false;
};

// Resolves `target`, connects (and for TLS, handshakes and checks the
// certificate against the name) by `deadline`: the connection, or the
// error-code for what failed (DNS-error, connection-refused,
// connection-timeout, TLS-certificate-error, ...).
std::variant<std::unique_ptr<HttpConnection>, HttpErrorCode> http_connect(const HttpTarget& target, int cancel_fd,
                                                                          Deadline deadline);

// The name of an error-code case as the WIT spells it ("connection-refused"),
// with its payload when it has one.
std::string describe_http_error(const HttpErrorCode& error);

}  // namespace stratus::wasi::p2
