// One outbound wasi:http request on its own thread: what the thread is
// given (OutboundRequest) and what it and the guest share (HttpExchange: the
// response head, the trailers, each with an eventfd the guest's pollables
// wait on, and the eventfd that cancels the thread).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "observe/current_span.h"
#include "wasi/p2/byte_channel.h"
#include "wasi/p2/http.h"
#include "wasi/p2/http_transport.h"

namespace stratus::wasi::p2 {

struct OutboundRequest {
  std::string method, path, authority;
  HttpTarget target;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> headers;
  std::shared_ptr<ByteChannel> body;  // null: the request has none
  std::optional<uint64_t> content_length;
  // request-options, or the defaults (as Wasmtime's: 600 s each).
  uint64_t connect_timeout_ns = 600'000'000'000;
  uint64_t first_byte_timeout_ns = 600'000'000'000;
  uint64_t between_bytes_timeout_ns = 600'000'000'000;
};

class HttpExchange {
 public:
  struct Head {
    uint16_t status = 0;
    std::shared_ptr<HttpFields> headers;  // immutable
    std::shared_ptr<ByteChannel> body;
  };
  using HeadResult = std::variant<Head, HttpErrorCode>;
  // The trailers (null: none) or why the body did not end well.
  using TrailersResult = std::variant<std::shared_ptr<HttpFields>, HttpErrorCode>;

  // Null when the process is out of file descriptors.
  static std::shared_ptr<HttpExchange> create();
  HttpExchange(std::shared_ptr<OwnedFd> head_fd, std::shared_ptr<OwnedFd> trailers_fd,
               std::shared_ptr<OwnedFd> cancel_fd);

  // ---- the request's thread; each is set once (later calls are ignored)
  void set_head(HeadResult head);
  void set_trailers(TrailersResult trailers);
  int cancel_fd() const { return cancel_fd_->get(); }

  // ---- the guest
  std::optional<HeadResult> head() const;
  std::optional<TrailersResult> trailers() const;
  Pollable head_ready() const { return Pollable{Pollable::Kind::Readable, 0, head_fd_, head_fd_->get()}; }
  Pollable trailers_ready() const { return Pollable{Pollable::Kind::Readable, 0, trailers_fd_, trailers_fd_->get()}; }
  int head_fd() const { return head_fd_->get(); }
  int trailers_fd() const { return trailers_fd_->get(); }
  // Trailers to send after the request body (a chunked one; a body with a
  // content-length has no place for them): set before the body's channel
  // closes.
  void set_request_trailers(std::shared_ptr<HttpFields> trailers);
  std::shared_ptr<HttpFields> request_trailers() const;
  // Stops the request's thread at its next wait (they all watch cancel_fd).
  void cancel();
  // The request's client span (start_outbound): it ends with the head
  // (http.response.status_code, an error from 400 on) or the error that
  // came instead, or with the exchange.
  void set_span(observe::Span span);

  // Threads of requests still running, process-wide.
  static size_t running();

 private:
  mutable std::mutex mu_;
  std::optional<HeadResult> head_;
  std::optional<TrailersResult> trailers_;
  std::shared_ptr<HttpFields> request_trailers_;
  std::shared_ptr<OwnedFd> head_fd_, trailers_fd_, cancel_fd_;
  observe::Span span_;
};

// Starts `request`'s thread, which fills in `exchange`. An error message
// when no thread could be started.
std::optional<std::string> start_request(std::shared_ptr<HttpExchange> exchange, OutboundRequest request);

}  // namespace stratus::wasi::p2
