#include "wasi/p2/http_exchange.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/system/system_error.hpp>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <limits>
#include <system_error>
#include <thread>

namespace stratus::wasi::p2 {
namespace {

namespace types = ::wasi::http::types;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Status = IoOutcome::Status;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kResponseBodyWindow = 256 * 1024;
constexpr uint32_t kHeaderLimit = 64 * 1024;

std::atomic<size_t> g_running{0};

void set_eventfd(const OwnedFd& fd) {
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd.get(), &one, sizeof one);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Headers that describe one connection, not the message: the host writes
// its own (and a response's are not the guest's to forward).
bool hop_by_hop(const std::string& lower_name) {
  static const char* kHop[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
                               "trailer",    "host",       "http2-settings"};
  for (const char* h : kHop)
    if (lower_name == h) return true;
  return false;
}

// Beast's SyncReadStream over an HttpConnection, with the deadline of the
// read under way; the last outcome says why a read failed.
class ConnectionReader {
 public:
  explicit ConnectionReader(HttpConnection& connection) : connection_(connection) {}
  Deadline deadline;
  IoOutcome last;

  template <class Buffers>
  size_t read_some(const Buffers& buffers, beast::error_code& ec) {
    asio::mutable_buffer b = *asio::buffer_sequence_begin(buffers);
    last = connection_.read_some(b.data(), b.size(), deadline);
    ec = {};
    switch (last.status) {
      case Status::Ok: return last.bytes;
      case Status::End: ec = asio::error::eof; break;
      case Status::Timeout: ec = asio::error::timed_out; break;
      case Status::Cancelled: ec = asio::error::operation_aborted; break;
      case Status::Failed: ec = asio::error::connection_reset; break;
    }
    return 0;
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  HttpConnection& connection_;
};

// A failed read of the response (`in_head`: before the head was whole) as
// an error-code.
HttpErrorCode read_error(const beast::error_code& ec, const IoOutcome& last, bool in_head) {
  if (ec == asio::error::timed_out) return types::ErrorCodeConnectionReadTimeout{};
  if (last.status == Status::Failed && last.error) return *last.error;
  if (ec == http::error::end_of_stream) {
    if (in_head) return types::ErrorCodeConnectionTerminated{};
    return types::ErrorCodeHttpResponseIncomplete{};
  }
  if (ec == http::error::partial_message) return types::ErrorCodeHttpResponseIncomplete{};
  if (ec == http::error::header_limit) return types::ErrorCodeHttpResponseHeaderSectionSize{std::nullopt};
  if (ec == http::error::bad_transfer_encoding) return types::ErrorCodeHttpResponseTransferCoding{std::nullopt};
  return types::ErrorCodeHttpProtocolError{};
}

// One request, start to end, on its own thread. Returns quietly when
// cancelled: nobody waits for the answer any more.
class RequestRun {
 public:
  RequestRun(std::shared_ptr<HttpExchange> exchange, OutboundRequest request)
      : x_(std::move(exchange)), req_(std::move(request)) {}

  ~RequestRun() {
    // Whatever the guest still writes into the request body fails now.
    if (req_.body) req_.body->drop_reader();
  }

  void run() {
    uint64_t start = monotonic_now_ns();
    auto connected = http_connect(req_.target, x_->cancel_fd(), start + req_.connect_timeout_ns);
    if (auto* error = std::get_if<HttpErrorCode>(&connected)) return x_->set_head(*error);
    conn_ = std::move(std::get<std::unique_ptr<HttpConnection>>(connected));
    if (!send_head() || !send_body()) return;
    receive();
  }

 private:
  bool write(std::string_view bytes) {
    auto r = conn_->write_all(bytes.data(), bytes.size(), monotonic_now_ns() + req_.between_bytes_timeout_ns);
    if (r.status == Status::Ok) return true;
    if (r.status == Status::Timeout) x_->set_head(types::ErrorCodeConnectionWriteTimeout{});
    if (r.status == Status::Failed) x_->set_head(r.error.value_or(types::ErrorCodeConnectionTerminated{}));
    if (r.status == Status::End) x_->set_head(types::ErrorCodeConnectionTerminated{});
    return false;
  }

  bool send_head() {
    std::string head = req_.method + " " + req_.path + " HTTP/1.1\r\nhost: " + req_.authority + "\r\n";
    for (const auto& [name, value] : req_.headers) {
      std::string n = lower(name);
      // Framing is ours: content-length only as the body's (checked at finish).
      if (hop_by_hop(n) || (n == "content-length" && !req_.body)) continue;
      head += name + ": " + std::string(value.begin(), value.end()) + "\r\n";
    }
    chunked_ = req_.body && !req_.content_length;
    if (chunked_) head += "transfer-encoding: chunked\r\n";
    if (!req_.body && (req_.method == "POST" || req_.method == "PUT" || req_.method == "PATCH"))
      head += "content-length: 0\r\n";
    // One connection per request: the response ends at its framing or at
    // the connection's end.
    head += "connection: close\r\n\r\n";
    return write(head);
  }

  // The body as the guest writes it; waiting for the guest has no deadline.
  bool send_body() {
    if (!req_.body) return true;
    for (;;) {
      auto taken = req_.body->take(kReadChunk);
      if (auto* failure = std::get_if<StreamFailure>(&taken)) {
        if (failure->closed) break;
        uint64_t written = req_.body->total_pushed();
        if (req_.content_length && written != *req_.content_length)
          x_->set_head(types::ErrorCodeHttpRequestBodySize{written});
        else
          x_->set_head(types::ErrorCodeInternalError{failure->message});
        return false;
      }
      auto& bytes = std::get<std::vector<uint8_t>>(taken);
      if (bytes.empty()) {
        if (wait_fd(req_.body->data_fd(), POLLIN, x_->cancel_fd(), std::nullopt) != WaitResult::Ready) return false;
        continue;
      }
      std::string_view piece(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      if (chunked_) {
        char size[24];
        std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
        if (!write(size) || !write(piece) || !write("\r\n")) return false;
      } else if (!write(piece)) {
        return false;
      }
    }
    if (!chunked_) return true;
    std::string end = "0\r\n";
    if (auto trailers = x_->request_trailers())
      for (const auto& [name, value] : trailers->entries)
        end += name + ": " + std::string(value.begin(), value.end()) + "\r\n";
    return write(end + "\r\n");
  }

  void receive() {
    ConnectionReader reader(*conn_);
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::buffer_body>> head_parser;
    beast::error_code ec;
    // Informational (1xx) heads come before the response; skip them.
    for (;;) {
      head_parser.emplace();
      head_parser->header_limit(kHeaderLimit);
      head_parser->body_limit(std::numeric_limits<uint64_t>::max());
      if (req_.method == "HEAD") head_parser->skip(true);
      reader.deadline = monotonic_now_ns() + req_.first_byte_timeout_ns;
      http::read_header(reader, buffer, *head_parser, ec);
      if (ec == asio::error::operation_aborted) return;
      if (ec) return x_->set_head(read_error(ec, reader.last, true));
      int status = head_parser->get().result_int();
      if (status >= 200 || status == 101) break;
    }
    auto& parser = *head_parser;

    auto headers = std::make_shared<HttpFields>();
    size_t head_fields = 0;
    for (const auto& field : parser.get()) {
      ++head_fields;
      std::string name(field.name_string());
      if (hop_by_hop(lower(name))) continue;
      headers->entries.emplace_back(name, std::vector<uint8_t>(field.value().begin(), field.value().end()));
    }
    headers->immutable = true;
    auto body = ByteChannel::create(kResponseBodyWindow);
    if (!body) return x_->set_head(types::ErrorCodeInternalError{std::string("out of file descriptors")});
    x_->set_head(HttpExchange::Head{static_cast<uint16_t>(parser.get().result_int()), headers, body});
    // However this ends, the trailers resolve: a guest that stopped reading
    // the body may still wait for them (set_trailers keeps the first answer).
    struct ResolveTrailers {
      HttpExchange& exchange;
      ByteChannel& body;
      ~ResolveTrailers() {
        body.close(StreamFailure{false, 0, "the response body was not received to its end"});
        exchange.set_trailers(types::ErrorCodeHttpResponseIncomplete{});
      }
    } resolve{*x_, *body};

    std::vector<char> chunk(kReadChunk);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      reader.deadline = monotonic_now_ns() + req_.between_bytes_timeout_ns;
      http::read_some(reader, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        auto error = read_error(ec, reader.last, false);
        body->close(StreamFailure{false, 0, "reading the response body: " + describe_http_error(error)});
        return x_->set_trailers(error);
      }
      size_t n = chunk.size() - parser.get().body().size;
      if (n == 0) continue;
      // Wait for the guest to make room; a reader that went away ends it.
      for (;;) {
        auto room = body->room();
        if (std::holds_alternative<StreamFailure>(room)) return;
        if (std::get<uint64_t>(room) > 0) break;
        if (wait_fd(body->room_fd(), POLLIN, x_->cancel_fd(), std::nullopt) != WaitResult::Ready) return;
      }
      body->push(std::span(reinterpret_cast<const uint8_t*>(chunk.data()), n));
    }

    // Fields after the head's are the chunked body's trailers.
    std::shared_ptr<HttpFields> trailers;
    size_t i = 0;
    for (const auto& field : parser.get()) {
      if (i++ < head_fields) continue;
      if (!trailers) trailers = std::make_shared<HttpFields>();
      trailers->entries.emplace_back(std::string(field.name_string()),
                                     std::vector<uint8_t>(field.value().begin(), field.value().end()));
    }
    if (trailers) trailers->immutable = true;
    body->close();
    x_->set_trailers(trailers);
  }

  std::shared_ptr<HttpExchange> x_;
  OutboundRequest req_;
  std::unique_ptr<HttpConnection> conn_;
  bool chunked_ = false;
};

}  // namespace

std::shared_ptr<HttpExchange> HttpExchange::create() {
  std::shared_ptr<OwnedFd> fds[3];
  for (auto& fd : fds) {
    int e = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (e < 0) return nullptr;
    fd = std::make_shared<OwnedFd>(e);
  }
  return std::make_shared<HttpExchange>(fds[0], fds[1], fds[2]);
}

HttpExchange::HttpExchange(std::shared_ptr<OwnedFd> head_fd, std::shared_ptr<OwnedFd> trailers_fd,
                           std::shared_ptr<OwnedFd> cancel_fd)
    : head_fd_(std::move(head_fd)), trailers_fd_(std::move(trailers_fd)), cancel_fd_(std::move(cancel_fd)) {}

void HttpExchange::set_head(HeadResult head) {
  std::lock_guard lock(mu_);
  if (head_) return;
  // A request that failed has no body, so no trailers either.
  if (std::holds_alternative<HttpErrorCode>(head) && !trailers_) {
    trailers_ = std::get<HttpErrorCode>(head);
    set_eventfd(*trailers_fd_);
  }
  if (span_.active()) {
    if (const auto* h = std::get_if<Head>(&head)) {
      span_.attributes().emplace_back("http.response.status_code", static_cast<int64_t>(h->status));
      if (h->status >= 400) span_.fail("", std::to_string(h->status));
    } else {
      span_.fail(describe_http_error(std::get<HttpErrorCode>(head)), "_OTHER");
    }
    span_.end();
  }
  head_ = std::move(head);
  set_eventfd(*head_fd_);
}

void HttpExchange::set_span(observe::Span span) {
  std::lock_guard lock(mu_);
  if (!head_) span_ = std::move(span);
}

void HttpExchange::set_trailers(TrailersResult trailers) {
  std::lock_guard lock(mu_);
  if (trailers_) return;
  trailers_ = std::move(trailers);
  set_eventfd(*trailers_fd_);
}

std::optional<HttpExchange::HeadResult> HttpExchange::head() const {
  std::lock_guard lock(mu_);
  return head_;
}

std::optional<HttpExchange::TrailersResult> HttpExchange::trailers() const {
  std::lock_guard lock(mu_);
  return trailers_;
}

void HttpExchange::set_request_trailers(std::shared_ptr<HttpFields> trailers) {
  std::lock_guard lock(mu_);
  request_trailers_ = std::move(trailers);
}

std::shared_ptr<HttpFields> HttpExchange::request_trailers() const {
  std::lock_guard lock(mu_);
  return request_trailers_;
}

void HttpExchange::cancel() { set_eventfd(*cancel_fd_); }

size_t HttpExchange::running() { return g_running.load(); }

std::optional<std::string> start_request(std::shared_ptr<HttpExchange> exchange, OutboundRequest request) {
  auto run = std::make_shared<RequestRun>(std::move(exchange), std::move(request));
  g_running++;
  try {
    std::thread([run]() mutable {
      // A peer that closed makes writes fail with EPIPE, never kill the
      // process (OpenSSL writes without MSG_NOSIGNAL).
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      run->run();
      run.reset();
      g_running--;
    }).detach();
  } catch (const std::system_error& e) {
    g_running--;
    return std::string("cannot start a thread for the request: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace stratus::wasi::p2
