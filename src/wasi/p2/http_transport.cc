#include "wasi/p2/http_transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

#include "wasi/p2/streams.h"

namespace stratus::wasi::p2 {
namespace {

namespace types = ::wasi::http::types;
using Status = IoOutcome::Status;

IoOutcome outcome(Status status, size_t bytes = 0) { return IoOutcome{status, bytes, std::nullopt}; }
IoOutcome failed(HttpErrorCode error) { return IoOutcome{Status::Failed, 0, std::move(error)}; }

HttpErrorCode internal(const std::string& why) { return types::ErrorCodeInternalError{why}; }

// An errno from a connected socket, as an error-code.
HttpErrorCode socket_error(int err) {
  switch (err) {
    case ECONNREFUSED: return types::ErrorCodeConnectionRefused{};
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return types::ErrorCodeConnectionTerminated{};
    case ETIMEDOUT: return types::ErrorCodeConnectionTimeout{};
    case ENETUNREACH: return types::ErrorCodeDestinationIpUnroutable{};
    case EHOSTUNREACH:
    case EHOSTDOWN: return types::ErrorCodeDestinationUnavailable{};
    case EACCES:
    case EPERM: return types::ErrorCodeDestinationIpProhibited{};
    default: return internal(std::strerror(err));
  }
}

class PlainConnection final : public HttpConnection {
 public:
  PlainConnection(int fd, int cancel_fd) : fd_(fd), cancel_fd_(cancel_fd) {}
  ~PlainConnection() override { ::close(fd_); }

  IoOutcome read_some(void* data, size_t len, Deadline deadline) override {
    for (;;) {
      ssize_t n = ::recv(fd_, data, len, 0);
      if (n > 0) return outcome(Status::Ok, static_cast<size_t>(n));
      if (n == 0) return outcome(Status::End);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return failed(socket_error(errno));
      if (auto w = wait(POLLIN, deadline)) return *w;
    }
  }

  IoOutcome write_all(const void* data, size_t len, Deadline deadline) override {
    const auto* p = static_cast<const uint8_t*>(data);
    size_t done = 0;
    while (done < len) {
      ssize_t n = ::send(fd_, p + done, len - done, MSG_NOSIGNAL);
      if (n >= 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return failed(socket_error(errno));
      if (auto w = wait(POLLOUT, deadline)) return *w;
    }
    return outcome(Status::Ok, done);
  }

 private:
  std::optional<IoOutcome> wait(short events, Deadline deadline) {
    switch (wait_fd(fd_, events, cancel_fd_, deadline)) {
      case WaitResult::Ready: return std::nullopt;
      case WaitResult::Timeout: return outcome(Status::Timeout);
      case WaitResult::Cancelled: return outcome(Status::Cancelled);
    }
    return std::nullopt;
  }

  int fd_;
  int cancel_fd_;
};

// The TLS client context: the system's trust store, TLS 1.2 or later. Made
// once; OpenSSL's contexts are safe to share between threads.
SSL_CTX* tls_context() {
  static SSL_CTX* context = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    if (c == nullptr) return c;
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(c);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    // A peer that closes without close_notify ends the stream; HTTP's own
    // framing tells a cut-short body from a whole one.
    SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return c;
  }();
  return context;
}

// What OpenSSL's error queue says went wrong, as an error-code.
HttpErrorCode tls_error(SSL* ssl) {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (ssl != nullptr && SSL_get_verify_result(ssl) != X509_V_OK) return types::ErrorCodeTlsCertificateError{};
  int reason = ERR_GET_REASON(e);
  if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
    auto alert = static_cast<uint8_t>(reason - SSL_AD_REASON_OFFSET);
    return types::ErrorCodeTlsAlertReceived{{alert, std::string(SSL_alert_desc_string_long(alert))}};
  }
  return types::ErrorCodeTlsProtocolError{};
}

class TlsConnection final : public HttpConnection {
 public:
  TlsConnection(int fd, int cancel_fd, SSL* ssl) : fd_(fd), cancel_fd_(cancel_fd), ssl_(ssl) {}
  ~TlsConnection() override {
    SSL_free(ssl_);
    ::close(fd_);
  }

  // The handshake, by `deadline`; the certificate must name `host`.
  std::optional<HttpErrorCode> handshake(Deadline deadline) {
    for (;;) {
      ERR_clear_error();
      int r = SSL_connect(ssl_);
      if (r == 1) return std::nullopt;
      auto w = retry(r, deadline);
      if (!w) continue;
      if (w->status == Status::Timeout) return types::ErrorCodeConnectionTimeout{};
      if (w->status == Status::Cancelled) return internal("cancelled");
      if (w->status == Status::End) return types::ErrorCodeConnectionTerminated{};
      return w->error.value_or(types::ErrorCodeTlsProtocolError{});
    }
  }

  IoOutcome read_some(void* data, size_t len, Deadline deadline) override {
    for (;;) {
      ERR_clear_error();
      size_t n = 0;
      int r = SSL_read_ex(ssl_, data, len, &n);
      if (r == 1) return outcome(Status::Ok, n);
      if (auto w = retry(r, deadline)) return *w;
    }
  }

  IoOutcome write_all(const void* data, size_t len, Deadline deadline) override {
    const auto* p = static_cast<const uint8_t*>(data);
    size_t done = 0;
    while (done < len) {
      ERR_clear_error();
      size_t n = 0;
      int r = SSL_write_ex(ssl_, p + done, len - done, &n);
      if (r == 1) {
        done += n;
        continue;
      }
      if (auto w = retry(r, deadline)) return *w;
    }
    return outcome(Status::Ok, done);
  }

 private:
  // After an SSL call returned `r`: nothing (wait done, call again), or how
  // the operation ended.
  std::optional<IoOutcome> retry(int r, Deadline deadline) {
    int e = SSL_get_error(ssl_, r);
    short events = 0;
    if (e == SSL_ERROR_WANT_READ) events = POLLIN;
    if (e == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    if (events == 0) {
      if (e == SSL_ERROR_ZERO_RETURN) return outcome(Status::End);
      if (e == SSL_ERROR_SYSCALL && errno != 0) return failed(socket_error(errno));
      if (e == SSL_ERROR_SYSCALL) return outcome(Status::End);
      return failed(tls_error(ssl_));
    }
    switch (wait_fd(fd_, events, cancel_fd_, deadline)) {
      case WaitResult::Ready: return std::nullopt;
      case WaitResult::Timeout: return outcome(Status::Timeout);
      case WaitResult::Cancelled: return outcome(Status::Cancelled);
    }
    return std::nullopt;
  }

  int fd_;
  int cancel_fd_;
  SSL* ssl_;
};

// One non-blocking connect to `addr`, by `deadline`: the socket or the error.
std::variant<int, HttpErrorCode> connect_one(const addrinfo& addr, int cancel_fd, Deadline deadline) {
  int fd = ::socket(addr.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return internal(std::string("socket: ") + std::strerror(errno));
  int r = ::connect(fd, addr.ai_addr, addr.ai_addrlen);
  if (r != 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    return socket_error(err);
  }
  if (r != 0) {
    auto w = wait_fd(fd, POLLOUT, cancel_fd, deadline);
    if (w != WaitResult::Ready) {
      ::close(fd);
      if (w == WaitResult::Timeout) return types::ErrorCodeConnectionTimeout{};
      return internal("cancelled");
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ::close(fd);
      return socket_error(err);
    }
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

WaitResult wait_fd(int fd, short events, int cancel_fd, Deadline deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      uint64_t now = monotonic_now_ns();
      if (now >= *deadline) return WaitResult::Timeout;
      timeout_ms = static_cast<int>(std::min<uint64_t>((*deadline - now + 999'999) / 1'000'000, INT_MAX));
    }
    std::array<pollfd, 2> fds{pollfd{fd, events, 0}, pollfd{cancel_fd, POLLIN, 0}};
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) return WaitResult::Cancelled;  // cannot wait: give up as if cancelled
    if (fds[1].revents != 0) return WaitResult::Cancelled;
    if (n > 0 && fds[0].revents != 0) return WaitResult::Ready;
  }
}

std::variant<std::unique_ptr<HttpConnection>, HttpErrorCode> http_connect(const HttpTarget& target, int cancel_fd,
                                                                          Deadline deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  std::string port = std::to_string(target.port);
  // getaddrinfo cannot be cancelled: a cancelled request waits for the
  // resolver's own timeout before its thread ends (addresses resolve at once).
  int gai = ::getaddrinfo(target.host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) {
    if (gai == EAI_AGAIN) return types::ErrorCodeDnsTimeout{};
    if (gai == EAI_SYSTEM) return internal(std::string("getaddrinfo: ") + std::strerror(errno));
    return types::ErrorCodeDnsError{{std::string(::gai_strerror(gai)), std::nullopt}};
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  HttpErrorCode last = types::ErrorCodeDestinationNotFound{};
  int fd = -1;
  for (const addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    auto r = connect_one(*a, cancel_fd, deadline);
    if (auto* error = std::get_if<HttpErrorCode>(&r)) {
      last = *error;
      if (std::holds_alternative<types::ErrorCodeConnectionTimeout>(last)) break;
    } else {
      fd = std::get<int>(r);
    }
  }
  if (fd < 0) return last;
  if (!target.tls) return std::make_unique<PlainConnection>(fd, cancel_fd);

  SSL_CTX* context = tls_context();
  SSL* ssl = context != nullptr ? SSL_new(context) : nullptr;
  if (ssl == nullptr) {
    ::close(fd);
    return internal("cannot set up TLS (OpenSSL)");
  }
  auto tls = std::make_unique<TlsConnection>(fd, cancel_fd, ssl);
  SSL_set_fd(ssl, fd);
  in6_addr ip{};
  bool is_address =
      ::inet_pton(AF_INET, target.host.c_str(), &ip) == 1 || ::inet_pton(AF_INET6, target.host.c_str(), &ip) == 1;
  if (is_address) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, target.host.c_str());
    SSL_set1_host(ssl, target.host.c_str());
  }
  if (auto error = tls->handshake(deadline)) return *error;
  return std::unique_ptr<HttpConnection>(std::move(tls));
}

std::string describe_http_error(const HttpErrorCode& error) {
  static const char* kNames[] = {"DNS-timeout",
                                 "DNS-error",
                                 "destination-not-found",
                                 "destination-unavailable",
                                 "destination-IP-prohibited",
                                 "destination-IP-unroutable",
                                 "connection-refused",
                                 "connection-terminated",
                                 "connection-timeout",
                                 "connection-read-timeout",
                                 "connection-write-timeout",
                                 "connection-limit-reached",
                                 "TLS-protocol-error",
                                 "TLS-certificate-error",
                                 "TLS-alert-received",
                                 "HTTP-request-denied",
                                 "HTTP-request-length-required",
                                 "HTTP-request-body-size",
                                 "HTTP-request-method-invalid",
                                 "HTTP-request-URI-invalid",
                                 "HTTP-request-URI-too-long",
                                 "HTTP-request-header-section-size",
                                 "HTTP-request-header-size",
                                 "HTTP-request-trailer-section-size",
                                 "HTTP-request-trailer-size",
                                 "HTTP-response-incomplete",
                                 "HTTP-response-header-section-size",
                                 "HTTP-response-header-size",
                                 "HTTP-response-body-size",
                                 "HTTP-response-trailer-section-size",
                                 "HTTP-response-trailer-size",
                                 "HTTP-response-transfer-coding",
                                 "HTTP-response-content-coding",
                                 "HTTP-response-timeout",
                                 "HTTP-upgrade-failed",
                                 "HTTP-protocol-error",
                                 "loop-detected",
                                 "configuration-error",
                                 "internal-error"};
  static_assert(std::size(kNames) == std::variant_size_v<HttpErrorCode>);
  std::string name = kNames[error.index()];
  if (const auto* e = std::get_if<types::ErrorCodeInternalError>(&error); e && e->value) name += ": " + *e->value;
  if (const auto* e = std::get_if<types::ErrorCodeDnsError>(&error); e && e->value.rcode)
    name += ": " + *e->value.rcode;
  if (const auto* e = std::get_if<types::ErrorCodeTlsAlertReceived>(&error); e && e->value.alert_message)
    name += ": " + *e->value.alert_message;
  return name;
}

}  // namespace stratus::wasi::p2
