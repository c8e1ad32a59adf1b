// The byte streams of a connected TCP socket (finish-connect, accept).
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "wasi/p2/sockets.h"

namespace stratus::wasi::p2 {
namespace {

// The most one read returns and what check-write allows at a time: the
// guest picks lengths, the host must not allocate whatever it asks for.
constexpr uint64_t kChunk = 64 * 1024;

bool wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  if (timeout_ms != 0) before_blocking();
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

// A peer that went away ends the stream; other errors are the stream's
// last-operation-failed (network-error-code maps them).
StreamFailure failure_of(int err, const char* what) {
  if (err == EPIPE) return StreamFailure::end();
  return StreamFailure::from_errno(err, what);
}

class TcpInput final : public InputStream {
 public:
  explicit TcpInput(std::shared_ptr<OwnedFd> fd) : fd_(std::move(fd)) {}

  std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool blocking) override {
    if (failed_) return *failed_;
    if (len == 0) return std::vector<uint8_t>{};
    std::vector<uint8_t> out(static_cast<size_t>(std::min(len, kChunk)));
    for (;;) {
      ssize_t n = ::recv(fd_->get(), out.data(), out.size(), MSG_DONTWAIT);
      if (n > 0) {
        out.resize(static_cast<size_t>(n));
        return out;
      }
      if (n == 0) {
        failed_ = StreamFailure::end();
        return *failed_;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!blocking) return std::vector<uint8_t>{};
        wait_fd(fd_->get(), POLLIN, -1);
        continue;
      }
      failed_ = failure_of(errno, "recv");
      return *failed_;
    }
  }

  Pollable subscribe() override { return Pollable{Pollable::Kind::Readable, 0, fd_, fd_->get()}; }

 private:
  std::shared_ptr<OwnedFd> fd_;
  std::optional<StreamFailure> failed_;
};

class TcpOutput final : public OutputStream {
 public:
  explicit TcpOutput(std::shared_ptr<OwnedFd> fd) : fd_(std::move(fd)) {}

  std::variant<uint64_t, StreamFailure> check_write() override {
    drain();
    if (failed_) return *failed_;
    if (!pending_.empty() || !wait_fd(fd_->get(), POLLOUT, 0)) return uint64_t{0};
    return kChunk;
  }

  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override {
    if (failed_) return failed_;
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    drain();
    return failed_;
  }

  std::optional<StreamFailure> flush() override {
    drain();
    while (!pending_.empty() && !failed_) {
      wait_fd(fd_->get(), POLLOUT, -1);
      drain();
    }
    return failed_;
  }

  Pollable subscribe() override { return Pollable{Pollable::Kind::Writable, 0, fd_, fd_->get()}; }

 private:
  // Sends what the socket takes now.
  void drain() {
    while (!pending_.empty() && !failed_) {
      ssize_t n = ::send(fd_->get(), pending_.data(), pending_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) {
        pending_.erase(pending_.begin(), pending_.begin() + n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      failed_ = failure_of(errno, "send");
    }
  }

  std::shared_ptr<OwnedFd> fd_;
  std::vector<uint8_t> pending_;
  std::optional<StreamFailure> failed_;
};

}  // namespace

std::shared_ptr<InputStream> tcp_input(std::shared_ptr<OwnedFd> fd) {
  return std::make_shared<TcpInput>(std::move(fd));
}
std::shared_ptr<OutputStream> tcp_output(std::shared_ptr<OwnedFd> fd) {
  return std::make_shared<TcpOutput>(std::move(fd));
}

}  // namespace stratus::wasi::p2
