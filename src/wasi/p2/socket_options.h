// Socket options as both WASI versions of wasi:sockets read and set them:
// at errno level (each version turns errno into its own error-code), in the
// WIT's units (nanoseconds for the keep-alive times) within Linux's limits.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <variant>

namespace stratus::wasi::p2 {

inline constexpr uint64_t kNanosPerSecond = 1'000'000'000;
// Linux's limits for the keep-alive options (MAX_TCP_KEEPIDLE and kin).
inline constexpr uint64_t kMaxKeepAliveSeconds = 32767;
inline constexpr uint32_t kMaxKeepAliveCount = 127;

inline bool fd_ready(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, 0) > 0;
}

// An int option's value as T, or the errno of the failed call.
template <class T>
std::variant<T, int> get_option(int fd, int level, int name) {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, level, name, &value, &len) != 0) return errno;
  return static_cast<T>(value);
}

// 0, or the errno of the failed call.
inline int set_int_option(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

// A duration in whole seconds for the keep-alive options: rounded up, within
// what the kernel takes.
inline int keep_alive_seconds(uint64_t nanos) {
  uint64_t seconds = nanos / kNanosPerSecond + (nanos % kNanosPerSecond != 0 ? 1 : 0);
  return static_cast<int>(std::clamp<uint64_t>(seconds, 1, kMaxKeepAliveSeconds));
}

inline int clamp_int(uint64_t v) { return static_cast<int>(std::min<uint64_t>(v, INT_MAX)); }

// SO_RCVBUF and SO_SNDBUF: Linux doubles the size it is given (room for its
// bookkeeping) and reports the doubled size; halved, a guest reads back what
// it set. A size beyond the kernel's maximum is a hint it clamps, not an error.
inline std::variant<uint64_t, int> get_buffer_size(int fd, int name) {
  auto v = get_option<uint64_t>(fd, SOL_SOCKET, name);
  if (auto* size = std::get_if<uint64_t>(&v)) return *size / 2;
  return v;
}
inline int set_buffer_size(int fd, int name, uint64_t size) {
  return set_int_option(fd, SOL_SOCKET, name, clamp_int(std::min<uint64_t>(size, INT_MAX / 2)));
}

}  // namespace stratus::wasi::p2
