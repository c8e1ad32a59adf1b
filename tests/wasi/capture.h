// Test helper: an in-memory file (memfd) that stands in for a guest's stdio.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <string>

namespace stratus::testing {

class CapturedFd {
 public:
  explicit CapturedFd(const char* name, std::string contents = {}) : fd_(::memfd_create(name, MFD_CLOEXEC)) {
    if (!contents.empty() && ::write(fd_, contents.data(), contents.size()) < 0) return;
    ::lseek(fd_, 0, SEEK_SET);
  }
  ~CapturedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  CapturedFd(const CapturedFd&) = delete;
  CapturedFd& operator=(const CapturedFd&) = delete;

  int fd() const { return fd_; }
  // Everything written so far.
  std::string text() const {
    std::string out;
    char buf[4096];
    for (off_t at = 0;;) {
      ssize_t n = ::pread(fd_, buf, sizeof buf, at);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      at += n;
    }
    return out;
  }

 private:
  int fd_;
};

}  // namespace stratus::testing
