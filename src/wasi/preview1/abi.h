// The wasi_snapshot_preview1 ABI as the guest sees it: errno values, enum
// codes and struct layouts (from the witx spec; wasi-libc's <wasi/api.h>
// asserts the same sizes and offsets).
#pragma once

#include <cstdint>

namespace stratus::wasi::preview1 {

enum class Errno : uint16_t {
  Success = 0,
  Again = 6,
  Badf = 8,
  Fault = 21,
  Intr = 27,
  Inval = 28,
  Io = 29,
  Nomem = 48,
  Nospc = 51,
  Nosys = 52,
  Notsup = 58,
  Overflow = 61,
  Pipe = 64,
  Spipe = 70,
  Notcapable = 76,
};

// Maps a host errno (from write(2), read(2), ...) to the nearest WASI errno.
Errno errno_from_host(int host_errno);

namespace clockid {
inline constexpr uint32_t kRealtime = 0;
inline constexpr uint32_t kMonotonic = 1;
inline constexpr uint32_t kProcessCputime = 2;
inline constexpr uint32_t kThreadCputime = 3;
}  // namespace clockid

namespace filetype {
inline constexpr uint8_t kUnknown = 0;
inline constexpr uint8_t kBlockDevice = 1;
inline constexpr uint8_t kCharacterDevice = 2;
inline constexpr uint8_t kDirectory = 3;
inline constexpr uint8_t kRegularFile = 4;
inline constexpr uint8_t kSocketStream = 6;
}  // namespace filetype

namespace rights {
inline constexpr uint64_t kFdRead = 1ull << 1;
inline constexpr uint64_t kFdSeek = 1ull << 2;
inline constexpr uint64_t kFdFdstatSetFlags = 1ull << 3;
inline constexpr uint64_t kFdTell = 1ull << 5;
inline constexpr uint64_t kFdWrite = 1ull << 6;
inline constexpr uint64_t kFdFilestatGet = 1ull << 21;
inline constexpr uint64_t kPollFdReadwrite = 1ull << 27;
}  // namespace rights

namespace eventtype {
inline constexpr uint8_t kClock = 0;
inline constexpr uint8_t kFdRead = 1;
inline constexpr uint8_t kFdWrite = 2;
}  // namespace eventtype

inline constexpr uint16_t kSubclockAbstime = 1;

// Struct sizes and field offsets, in bytes.
namespace layout {
inline constexpr uint32_t kIovecSize = 8;  // {u32 buf, u32 len}
inline constexpr uint32_t kFdstatSize = 24;
inline constexpr uint32_t kFdstatFiletype = 0, kFdstatFlags = 2, kFdstatRightsBase = 8, kFdstatRightsInheriting = 16;
inline constexpr uint32_t kSubscriptionSize = 48;
inline constexpr uint32_t kSubUserdata = 0, kSubTag = 8, kSubClockId = 16, kSubClockTimeout = 24,
                          kSubClockPrecision = 32, kSubClockFlags = 40, kSubFd = 16;
inline constexpr uint32_t kEventSize = 32;
inline constexpr uint32_t kEventUserdata = 0, kEventError = 8, kEventType = 10, kEventNbytes = 16, kEventFlags = 24;
}  // namespace layout

}  // namespace stratus::wasi::preview1
