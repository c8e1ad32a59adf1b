// The host side of wasi:io: what a guest can wait for (Pollable) and the
// byte streams behind input-stream and output-stream handles. Files,
// standard I/O and (later) sockets and HTTP bodies implement the streams.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace stratus::wasi::p2 {

// An open file descriptor, closed when the last owner lets go.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd();
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// What a pollable waits for: nothing (always ready), a point in time on the
// monotonic clock, or an event on a file descriptor. poll() turns a set of
// them into one poll(2) call, so waiting never spins.
struct Pollable {
  enum class Kind { Ready, Deadline, Readable, Writable };
  Kind kind = Kind::Ready;
  uint64_t deadline_ns = 0;        // Kind::Deadline: monotonic clock, ns
  std::shared_ptr<OwnedFd> owner;  // keeps `fd` open for Readable/Writable
  int fd = -1;

  // Ready now? Does not block.
  bool ready() const;
};

uint64_t monotonic_now_ns();

// Blocks until at least one of `pollables` is ready and returns the indices of
// those that are. Runs before_blocking() first when it is going to sleep.
std::vector<uint32_t> wait_any(const std::vector<const Pollable*>& pollables);

// Work the host defers until the guest waits: bytes the guest flushed that
// the host gathers to send together (a served response). While one of these
// lives, the thread's guest calls run it before they sleep (wait_any, a
// blocking read of a request body, a messaging request). Per thread, as a
// guest's calls run on the thread that called it; they nest.
class BeforeBlocking {
 public:
  explicit BeforeBlocking(std::function<void()> run);
  ~BeforeBlocking();
  BeforeBlocking(const BeforeBlocking&) = delete;
  BeforeBlocking& operator=(const BeforeBlocking&) = delete;

 private:
  std::function<void()> run_;
  BeforeBlocking* outer_;
  friend void before_blocking();
};
// Runs the innermost BeforeBlocking of this thread, if there is one.
void before_blocking();

// Why a stream operation did not happen: the stream is closed (end of file,
// peer gone), or the last operation failed with an OS error.
struct StreamFailure {
  bool closed = true;
  int error_code = 0;  // errno, when !closed
  std::string message;
  static StreamFailure end() { return StreamFailure{}; }
  static StreamFailure from_errno(int err, const std::string& what);
};

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Up to `len` bytes. Non-blocking: those available now (maybe none);
  // blocking: waits for at least one byte or the end.
  virtual std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool blocking) = 0;
  virtual Pollable subscribe() = 0;
};

class OutputStream {
 public:
  virtual ~OutputStream() = default;
  // How many bytes write() accepts now without blocking.
  virtual std::variant<uint64_t, StreamFailure> check_write() = 0;
  virtual std::optional<StreamFailure> write(std::span<const uint8_t> bytes) = 0;
  virtual std::optional<StreamFailure> flush() { return std::nullopt; }
  virtual Pollable subscribe() = 0;
};

// Streams over memory: a fixed input (stdin given as bytes, or nothing) and
// an output that collects what the guest wrote (tests, the wasi-testsuite
// runner), optionally up to a limit past which writes fail.
std::shared_ptr<InputStream> memory_input(std::vector<uint8_t> bytes);
class CapturedOutput : public OutputStream {
 public:
  std::variant<uint64_t, StreamFailure> check_write() override;
  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override;
  Pollable subscribe() override { return Pollable{}; }
  const std::string& contents() const { return contents_; }

 private:
  std::string contents_;
};
// Writes nowhere (an output the guest was not given).
std::shared_ptr<OutputStream> null_output();

// The process's own standard streams (not owned: never closed by us).
std::shared_ptr<InputStream> fd_input(int fd);
std::shared_ptr<OutputStream> fd_output(int fd);

// A regular file from `offset` on; output appends instead with `append`.
std::shared_ptr<InputStream> file_input(std::shared_ptr<OwnedFd> fd, uint64_t offset);
std::shared_ptr<OutputStream> file_output(std::shared_ptr<OwnedFd> fd, uint64_t offset, bool append);

}  // namespace stratus::wasi::p2
