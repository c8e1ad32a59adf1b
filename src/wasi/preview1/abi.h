// The wasi_snapshot_preview1 ABI as the guest sees it: errno values, enum
// codes and struct layouts (from the witx spec; wasi-libc's <wasi/api.h>
// asserts the same sizes and offsets).
#pragma once

#include <cstdint>

namespace stratus::wasi::preview1 {

// Every errno of the witx spec, with its value.
enum class Errno : uint16_t {
  Success = 0,
  TooBig = 1,
  Acces = 2,
  Addrinuse = 3,
  Addrnotavail = 4,
  Afnosupport = 5,
  Again = 6,
  Already = 7,
  Badf = 8,
  Badmsg = 9,
  Busy = 10,
  Canceled = 11,
  Child = 12,
  Connaborted = 13,
  Connrefused = 14,
  Connreset = 15,
  Deadlk = 16,
  Destaddrreq = 17,
  Dom = 18,
  Dquot = 19,
  Exist = 20,
  Fault = 21,
  Fbig = 22,
  Hostunreach = 23,
  Idrm = 24,
  Ilseq = 25,
  Inprogress = 26,
  Intr = 27,
  Inval = 28,
  Io = 29,
  Isconn = 30,
  Isdir = 31,
  Loop = 32,
  Mfile = 33,
  Mlink = 34,
  Msgsize = 35,
  Multihop = 36,
  Nametoolong = 37,
  Netdown = 38,
  Netreset = 39,
  Netunreach = 40,
  Nfile = 41,
  Nobufs = 42,
  Nodev = 43,
  Noent = 44,
  Noexec = 45,
  Nolck = 46,
  Nolink = 47,
  Nomem = 48,
  Nomsg = 49,
  Noprotoopt = 50,
  Nospc = 51,
  Nosys = 52,
  Notconn = 53,
  Notdir = 54,
  Notempty = 55,
  Notrecoverable = 56,
  Notsock = 57,
  Notsup = 58,
  Notty = 59,
  Nxio = 60,
  Overflow = 61,
  Ownerdead = 62,
  Perm = 63,
  Pipe = 64,
  Proto = 65,
  Protonosupport = 66,
  Prototype = 67,
  Range = 68,
  Rofs = 69,
  Spipe = 70,
  Srch = 71,
  Stale = 72,
  Timedout = 73,
  Txtbsy = 74,
  Xdev = 75,
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
inline constexpr uint8_t kSocketDgram = 5;
inline constexpr uint8_t kSocketStream = 6;
inline constexpr uint8_t kSymbolicLink = 7;
}  // namespace filetype

namespace rights {
inline constexpr uint64_t kFdDatasync = 1ull << 0;
inline constexpr uint64_t kFdRead = 1ull << 1;
inline constexpr uint64_t kFdSeek = 1ull << 2;
inline constexpr uint64_t kFdFdstatSetFlags = 1ull << 3;
inline constexpr uint64_t kFdSync = 1ull << 4;
inline constexpr uint64_t kFdTell = 1ull << 5;
inline constexpr uint64_t kFdWrite = 1ull << 6;
inline constexpr uint64_t kFdAdvise = 1ull << 7;
inline constexpr uint64_t kFdAllocate = 1ull << 8;
inline constexpr uint64_t kPathCreateDirectory = 1ull << 9;
inline constexpr uint64_t kPathCreateFile = 1ull << 10;
inline constexpr uint64_t kPathLinkSource = 1ull << 11;
inline constexpr uint64_t kPathLinkTarget = 1ull << 12;
inline constexpr uint64_t kPathOpen = 1ull << 13;
inline constexpr uint64_t kFdReaddir = 1ull << 14;
inline constexpr uint64_t kPathReadlink = 1ull << 15;
inline constexpr uint64_t kPathRenameSource = 1ull << 16;
inline constexpr uint64_t kPathRenameTarget = 1ull << 17;
inline constexpr uint64_t kPathFilestatGet = 1ull << 18;
inline constexpr uint64_t kPathFilestatSetSize = 1ull << 19;
inline constexpr uint64_t kPathFilestatSetTimes = 1ull << 20;
inline constexpr uint64_t kFdFilestatGet = 1ull << 21;
inline constexpr uint64_t kFdFilestatSetSize = 1ull << 22;
inline constexpr uint64_t kFdFilestatSetTimes = 1ull << 23;
inline constexpr uint64_t kPathSymlink = 1ull << 24;
inline constexpr uint64_t kPathRemoveDirectory = 1ull << 25;
inline constexpr uint64_t kPathUnlinkFile = 1ull << 26;
inline constexpr uint64_t kPollFdReadwrite = 1ull << 27;
inline constexpr uint64_t kSockShutdown = 1ull << 28;
inline constexpr uint64_t kSockAccept = 1ull << 29;
inline constexpr uint64_t kAll = (1ull << 30) - 1;
}  // namespace rights

namespace fdflags {
inline constexpr uint16_t kAppend = 1;
inline constexpr uint16_t kDsync = 2;
inline constexpr uint16_t kNonblock = 4;
inline constexpr uint16_t kRsync = 8;
inline constexpr uint16_t kSync = 16;
}  // namespace fdflags

namespace oflags {
inline constexpr uint16_t kCreat = 1;
inline constexpr uint16_t kDirectory = 2;
inline constexpr uint16_t kExcl = 4;
inline constexpr uint16_t kTrunc = 8;
}  // namespace oflags

inline constexpr uint32_t kLookupSymlinkFollow = 1;

namespace fstflags {
inline constexpr uint16_t kAtim = 1;
inline constexpr uint16_t kAtimNow = 2;
inline constexpr uint16_t kMtim = 4;
inline constexpr uint16_t kMtimNow = 8;
}  // namespace fstflags

namespace whence {
inline constexpr uint8_t kSet = 0;
inline constexpr uint8_t kCur = 1;
inline constexpr uint8_t kEnd = 2;
}  // namespace whence

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
inline constexpr uint32_t kFilestatSize = 64;
inline constexpr uint32_t kFilestatDev = 0, kFilestatIno = 8, kFilestatFiletype = 16, kFilestatNlink = 24,
                          kFilestatFilesize = 32, kFilestatAtim = 40, kFilestatMtim = 48, kFilestatCtim = 56;
inline constexpr uint32_t kDirentSize = 24;
inline constexpr uint32_t kDirentNext = 0, kDirentIno = 8, kDirentNamlen = 16, kDirentType = 20;
inline constexpr uint32_t kPrestatSize = 8;
inline constexpr uint32_t kPrestatTag = 0, kPrestatNameLen = 4;
}  // namespace layout

}  // namespace stratus::wasi::preview1
