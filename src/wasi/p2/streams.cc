#include "wasi/p2/streams.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

namespace stratus::wasi::p2 {
namespace {

// The most one read returns, and what check-write allows per step: large
// enough that copying is cheap per byte, small enough to bound a guest's
// single allocation request.
constexpr uint64_t kChunk = 64 * 1024;

bool fd_ready(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  if (timeout_ms != 0) before_blocking();
  int n = ::poll(&p, 1, timeout_ms);
  return n > 0;
}

class MemoryInput final : public InputStream {
 public:
  explicit MemoryInput(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool) override {
    if (pos_ >= bytes_.size()) return StreamFailure::end();
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, bytes_.size() - pos_));
    std::vector<uint8_t> out(bytes_.begin() + static_cast<ptrdiff_t>(pos_),
                             bytes_.begin() + static_cast<ptrdiff_t>(pos_ + n));
    pos_ += n;
    return out;
  }
  Pollable subscribe() override { return Pollable{}; }

 private:
  std::vector<uint8_t> bytes_;
  size_t pos_ = 0;
};

class NullOutput final : public OutputStream {
 public:
  std::variant<uint64_t, StreamFailure> check_write() override { return kChunk; }
  std::optional<StreamFailure> write(std::span<const uint8_t>) override { return std::nullopt; }
  Pollable subscribe() override { return Pollable{}; }
};

// Reads an fd the process shares with us (stdin): readiness by poll(2).
class FdInput final : public InputStream {
 public:
  explicit FdInput(int fd) : fd_(fd) {}
  std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool blocking) override {
    if (len == 0) return std::vector<uint8_t>{};
    if (!blocking && !fd_ready(fd_, POLLIN, 0)) return std::vector<uint8_t>{};
    std::vector<uint8_t> out(static_cast<size_t>(std::min(len, kChunk)));
    for (;;) {
      ssize_t n = ::read(fd_, out.data(), out.size());
      if (n > 0) {
        out.resize(static_cast<size_t>(n));
        return out;
      }
      if (n == 0) return StreamFailure::end();
      if (errno == EINTR) continue;
      if (errno == EAGAIN && blocking) {
        fd_ready(fd_, POLLIN, -1);
        continue;
      }
      if (errno == EAGAIN) return std::vector<uint8_t>{};
      return StreamFailure::from_errno(errno, "read");
    }
  }
  Pollable subscribe() override { return Pollable{Pollable::Kind::Readable, 0, nullptr, fd_}; }

 private:
  int fd_;
};

std::optional<StreamFailure> write_all(int fd, std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        fd_ready(fd, POLLOUT, -1);
        continue;
      }
      if (errno == EPIPE) return StreamFailure::end();
      return StreamFailure::from_errno(errno, "write");
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return std::nullopt;
}

class FdOutput final : public OutputStream {
 public:
  explicit FdOutput(int fd) : fd_(fd) {}
  std::variant<uint64_t, StreamFailure> check_write() override { return kChunk; }
  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override { return write_all(fd_, bytes); }
  Pollable subscribe() override { return Pollable{Pollable::Kind::Writable, 0, nullptr, fd_}; }

 private:
  int fd_;
};

// Regular files are always ready (poll(2) says so too); reads and writes go
// at an offset of their own, as the stream's position is not the fd's.
class FileInput final : public InputStream {
 public:
  FileInput(std::shared_ptr<OwnedFd> fd, uint64_t offset) : fd_(std::move(fd)), offset_(offset) {}
  std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool) override {
    std::vector<uint8_t> out(static_cast<size_t>(std::min(len, kChunk)));
    if (out.empty()) return out;
    for (;;) {
      ssize_t n = ::pread(fd_->get(), out.data(), out.size(), static_cast<off_t>(offset_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return StreamFailure::from_errno(errno, "read");
      if (n == 0) return StreamFailure::end();
      offset_ += static_cast<uint64_t>(n);
      out.resize(static_cast<size_t>(n));
      return out;
    }
  }
  Pollable subscribe() override { return Pollable{}; }

 private:
  std::shared_ptr<OwnedFd> fd_;
  uint64_t offset_;
};

class FileOutput final : public OutputStream {
 public:
  FileOutput(std::shared_ptr<OwnedFd> fd, uint64_t offset, bool append)
      : fd_(std::move(fd)), offset_(offset), append_(append) {}
  std::variant<uint64_t, StreamFailure> check_write() override { return kChunk; }
  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override {
    if (append_) {
      struct stat st {};
      if (::fstat(fd_->get(), &st) != 0) return StreamFailure::from_errno(errno, "fstat");
      offset_ = static_cast<uint64_t>(st.st_size);
    }
    while (!bytes.empty()) {
      ssize_t n = ::pwrite(fd_->get(), bytes.data(), bytes.size(), static_cast<off_t>(offset_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return StreamFailure::from_errno(errno, "write");
      offset_ += static_cast<uint64_t>(n);
      bytes = bytes.subspan(static_cast<size_t>(n));
    }
    return std::nullopt;
  }
  Pollable subscribe() override { return Pollable{}; }

 private:
  std::shared_ptr<OwnedFd> fd_;
  uint64_t offset_;
  bool append_;
};

}  // namespace

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t monotonic_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

bool Pollable::ready() const {
  switch (kind) {
    case Kind::Ready: return true;
    case Kind::Deadline: return monotonic_now_ns() >= deadline_ns;
    case Kind::Readable: return fd_ready(fd, POLLIN, 0);
    case Kind::Writable: return fd_ready(fd, POLLOUT, 0);
  }
  return true;
}

namespace {
thread_local BeforeBlocking* innermost_before_blocking = nullptr;
}  // namespace

BeforeBlocking::BeforeBlocking(std::function<void()> run) : run_(std::move(run)), outer_(innermost_before_blocking) {
  innermost_before_blocking = this;
}

BeforeBlocking::~BeforeBlocking() { innermost_before_blocking = outer_; }

void before_blocking() {
  if (innermost_before_blocking != nullptr && innermost_before_blocking->run_) innermost_before_blocking->run_();
}

std::vector<uint32_t> wait_any(const std::vector<const Pollable*>& pollables) {
  for (;;) {
    std::vector<uint32_t> ready;
    std::vector<pollfd> fds;
    std::optional<uint64_t> earliest;
    uint64_t now = monotonic_now_ns();
    for (uint32_t i = 0; i < pollables.size(); ++i) {
      const Pollable& p = *pollables[i];
      switch (p.kind) {
        case Pollable::Kind::Ready: ready.push_back(i); break;
        case Pollable::Kind::Deadline:
          if (now >= p.deadline_ns) {
            ready.push_back(i);
          } else if (!earliest || p.deadline_ns < *earliest) {
            earliest = p.deadline_ns;
          }
          break;
        case Pollable::Kind::Readable: fds.push_back(pollfd{p.fd, POLLIN, 0}); break;
        case Pollable::Kind::Writable: fds.push_back(pollfd{p.fd, POLLOUT, 0}); break;
      }
    }
    // One poll(2): with something ready already it only checks the fds;
    // otherwise it sleeps until an fd event or the earliest deadline.
    int timeout_ms = -1;
    if (!ready.empty()) {
      timeout_ms = 0;
    } else if (earliest) {
      uint64_t wait_ns = *earliest - now;
      timeout_ms = static_cast<int>(std::min<uint64_t>((wait_ns + 999'999) / 1'000'000, INT_MAX));
    }
    if (!fds.empty() || timeout_ms != 0) {
      if (timeout_ms != 0) before_blocking();
      int n = ::poll(fds.data(), fds.size(), timeout_ms);
      if (n < 0 && errno != EINTR) return ready;  // nothing sensible to wait on; report what is ready
    }
    size_t k = 0;
    for (uint32_t i = 0; i < pollables.size(); ++i) {
      auto kind = pollables[i]->kind;
      if (kind != Pollable::Kind::Readable && kind != Pollable::Kind::Writable) continue;
      if (fds[k++].revents != 0) ready.push_back(i);
    }
    if (ready.empty()) {
      now = monotonic_now_ns();
      for (uint32_t i = 0; i < pollables.size(); ++i)
        if (pollables[i]->kind == Pollable::Kind::Deadline && now >= pollables[i]->deadline_ns) ready.push_back(i);
    }
    if (!ready.empty()) {
      std::sort(ready.begin(), ready.end());
      return ready;
    }
  }
}

StreamFailure StreamFailure::from_errno(int err, const std::string& what) {
  return StreamFailure{false, err, what + ": " + std::strerror(err)};
}

std::variant<uint64_t, StreamFailure> CapturedOutput::check_write() { return kChunk; }

std::optional<StreamFailure> CapturedOutput::write(std::span<const uint8_t> bytes) {
  contents_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return std::nullopt;
}

std::shared_ptr<InputStream> memory_input(std::vector<uint8_t> bytes) {
  return std::make_shared<MemoryInput>(std::move(bytes));
}
std::shared_ptr<OutputStream> null_output() { return std::make_shared<NullOutput>(); }
std::shared_ptr<InputStream> fd_input(int fd) { return std::make_shared<FdInput>(fd); }
std::shared_ptr<OutputStream> fd_output(int fd) { return std::make_shared<FdOutput>(fd); }
std::shared_ptr<InputStream> file_input(std::shared_ptr<OwnedFd> fd, uint64_t offset) {
  return std::make_shared<FileInput>(std::move(fd), offset);
}
std::shared_ptr<OutputStream> file_output(std::shared_ptr<OwnedFd> fd, uint64_t offset, bool append) {
  return std::make_shared<FileOutput>(std::move(fd), offset, append);
}

}  // namespace stratus::wasi::p2
