// fd_* calls on files and directories: positions, metadata, sizes, times,
// flags, renumbering and directory listings. Each guest file has a host fd
// of its own, so its position is the host fd's.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

constexpr uint64_t kNanos = 1'000'000'000;

// Before 1970 cannot be expressed (timestamps are unsigned nanoseconds).
uint64_t timestamp(const timespec& ts) {
  if (ts.tv_sec < 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * kNanos + static_cast<uint64_t>(ts.tv_nsec);
}

// The file (not stdio, not a directory) behind `fd`, for calls that seek or
// size: stdio answers ESPIPE, a directory EISDIR.
Errno seekable(State& st, uint32_t fd, FdEntry*& out) {
  out = st.fd(fd);
  if (out == nullptr) return Errno::Badf;
  if (out->kind == FdEntry::Kind::Stdio) return Errno::Spipe;
  if (out->kind == FdEntry::Kind::Directory) return Errno::Isdir;
  return Errno::Success;
}

// A file or directory (not stdio) behind `fd`.
Errno file_or_directory(State& st, uint32_t fd, FdEntry*& out) {
  out = st.fd(fd);
  if (out == nullptr || out->kind == FdEntry::Kind::Stdio) return Errno::Badf;
  return Errno::Success;
}

Errno done(int rc) { return rc == 0 ? Errno::Success : errno_from_host(errno); }

}  // namespace

void store_filestat(const State& state, GuestMemory& mem, uint32_t ptr, const struct stat& st) {
  std::vector<uint8_t> zero(layout::kFilestatSize, 0);
  mem.store_bytes(ptr, zero);
  // One device for everything the guest sees, as Wasmtime reports: the
  // inode hash already tells files apart.
  mem.store<uint64_t>(ptr + layout::kFilestatDev, 1);
  mem.store<uint64_t>(ptr + layout::kFilestatIno, state.inode(st));
  mem.store<uint8_t>(ptr + layout::kFilestatFiletype, filetype_of(st.st_mode));
  mem.store<uint64_t>(ptr + layout::kFilestatNlink, static_cast<uint64_t>(st.st_nlink));
  mem.store<uint64_t>(ptr + layout::kFilestatFilesize, static_cast<uint64_t>(st.st_size));
  mem.store<uint64_t>(ptr + layout::kFilestatAtim, timestamp(st.st_atim));
  mem.store<uint64_t>(ptr + layout::kFilestatMtim, timestamp(st.st_mtim));
  mem.store<uint64_t>(ptr + layout::kFilestatCtim, timestamp(st.st_ctim));
}

Errno new_times(uint64_t atim, uint64_t mtim, uint32_t flags, std::array<timespec, 2>& out) {
  constexpr uint32_t kKnown = fstflags::kAtim | fstflags::kAtimNow | fstflags::kMtim | fstflags::kMtimNow;
  if ((flags & ~kKnown) != 0) return Errno::Inval;
  auto one = [&](uint64_t ns, bool set, bool now, timespec& ts) {
    if (set && now) return false;
    if (now) {
      ts = {0, UTIME_NOW};
    } else if (set) {
      ts = {static_cast<time_t>(ns / kNanos), static_cast<long>(ns % kNanos)};
    } else {
      ts = {0, UTIME_OMIT};
    }
    return true;
  };
  if (!one(atim, flags & fstflags::kAtim, flags & fstflags::kAtimNow, out[0])) return Errno::Inval;
  if (!one(mtim, flags & fstflags::kMtim, flags & fstflags::kMtimNow, out[1])) return Errno::Inval;
  return Errno::Success;
}

Outcome fd_seek(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = nullptr;
  if (Errno e = seekable(st, a[0].i32(), h); e != Errno::Success) return e;
  int64_t offset = a[1].i64();
  uint32_t how = a[2].i32();
  uint32_t out = a[3].i32();
  if (!mem.bytes(out, 8)) return Errno::Fault;
  int host_whence = SEEK_SET;
  switch (how) {
    case whence::kSet: host_whence = SEEK_SET; break;
    case whence::kCur: host_whence = SEEK_CUR; break;
    case whence::kEnd: host_whence = SEEK_END; break;
    default: return Errno::Inval;
  }
  off_t pos = ::lseek(h->host_fd, static_cast<off_t>(offset), host_whence);
  if (pos < 0) return errno_from_host(errno);
  mem.store<uint64_t>(out, static_cast<uint64_t>(pos));
  return Errno::Success;
}

Outcome fd_tell(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = nullptr;
  if (Errno e = seekable(st, a[0].i32(), h); e != Errno::Success) return e;
  uint32_t out = a[1].i32();
  if (!mem.bytes(out, 8)) return Errno::Fault;
  off_t pos = ::lseek(h->host_fd, 0, SEEK_CUR);
  if (pos < 0) return errno_from_host(errno);
  mem.store<uint64_t>(out, static_cast<uint64_t>(pos));
  return Errno::Success;
}

Outcome fd_advise(State& st, GuestMemory&, std::span<const engine::Value> a) {
  FdEntry* h = nullptr;
  if (Errno e = seekable(st, a[0].i32(), h); e != Errno::Success) return e;
  auto offset = static_cast<uint64_t>(a[1].i64());
  auto len = static_cast<uint64_t>(a[2].i64());
  static constexpr int kAdvice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                    POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
  uint32_t advice = a[3].i32();
  if (advice >= std::size(kAdvice) || offset > INT64_MAX || len > INT64_MAX) return Errno::Inval;
  // posix_fadvise returns the error rather than setting errno.
  int err = ::posix_fadvise(h->host_fd, static_cast<off_t>(offset), static_cast<off_t>(len), kAdvice[advice]);
  return err == 0 ? Errno::Success : errno_from_host(err);
}

Outcome fd_allocate(State& st, GuestMemory&, std::span<const engine::Value> a) {
  FdEntry* h = nullptr;
  if (Errno e = seekable(st, a[0].i32(), h); e != Errno::Success) return e;
  if (!h->writable) return Errno::Badf;
  auto offset = static_cast<uint64_t>(a[1].i64());
  auto len = static_cast<uint64_t>(a[2].i64());
  if (offset > INT64_MAX || len > INT64_MAX - offset) return Errno::Fbig;
  int err = ::posix_fallocate(h->host_fd, static_cast<off_t>(offset), static_cast<off_t>(len));
  return err == 0 ? Errno::Success : errno_from_host(err);
}

Outcome fd_datasync(State& st, GuestMemory&, std::span<const engine::Value> a) {
  FdEntry* h = nullptr;
  if (Errno e = file_or_directory(st, a[0].i32(), h); e != Errno::Success) return e;
  return done(::fdatasync(h->host_fd));
}

Outcome fd_sync(State& st, GuestMemory&, std::span<const engine::Value> a) {
  FdEntry* h = nullptr;
  if (Errno e = file_or_directory(st, a[0].i32(), h); e != Errno::Success) return e;
  return done(::fsync(h->host_fd));
}

// Only append and nonblock may change after the open (as in Wasmtime); the
// sync flags are the open's. Reads and writes of files always block.
Outcome fd_fdstat_set_flags(State& st, GuestMemory&, std::span<const engine::Value> a) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr || h->kind != FdEntry::Kind::File) return Errno::Badf;
  uint32_t flags = a[1].i32();
  constexpr uint32_t kKnown =
      fdflags::kAppend | fdflags::kDsync | fdflags::kNonblock | fdflags::kRsync | fdflags::kSync;
  constexpr uint16_t kSyncFlags = fdflags::kDsync | fdflags::kRsync | fdflags::kSync;
  if ((flags & ~kKnown) != 0 || (flags & kSyncFlags) != (h->flags & kSyncFlags)) return Errno::Inval;
  int status = ::fcntl(h->host_fd, F_GETFL);
  if (status < 0) return errno_from_host(errno);
  status = (flags & fdflags::kAppend) != 0 ? (status | O_APPEND) : (status & ~O_APPEND);
  if (::fcntl(h->host_fd, F_SETFL, status) != 0) return errno_from_host(errno);
  h->flags = static_cast<uint16_t>(flags);
  return Errno::Success;
}

// Rights are reported (fd_fdstat_get) but never narrowed: like Wasmtime,
// what a descriptor may do is decided when it is opened.
Outcome fd_fdstat_set_rights(State& st, GuestMemory&, std::span<const engine::Value> a) {
  return st.fd(a[0].i32()) == nullptr ? Errno::Badf : Errno::Notsup;
}

Outcome fd_filestat_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  uint32_t ptr = a[1].i32();
  if (!mem.bytes(ptr, layout::kFilestatSize)) return Errno::Fault;
  struct stat sb {};
  if (::fstat(h->host_fd, &sb) != 0) return errno_from_host(errno);
  store_filestat(st, mem, ptr, sb);
  return Errno::Success;
}

Outcome fd_filestat_set_size(State& st, GuestMemory&, std::span<const engine::Value> a) {
  FdEntry* h = nullptr;
  if (Errno e = seekable(st, a[0].i32(), h); e != Errno::Success) return e;
  if (!h->writable) return Errno::Badf;
  auto size = static_cast<uint64_t>(a[1].i64());
  if (size > INT64_MAX) return Errno::Fbig;
  return done(::ftruncate(h->host_fd, static_cast<off_t>(size)));
}

// A directory's times change only where it may change what is below it; a
// file's only when it is open for writing (as wasi:filesystem's set-times).
Outcome fd_filestat_set_times(State& st, GuestMemory&, std::span<const engine::Value> a) {
  std::array<timespec, 2> times{};
  if (Errno e = new_times(static_cast<uint64_t>(a[1].i64()), static_cast<uint64_t>(a[2].i64()), a[3].i32(), times);
      e != Errno::Success)
    return e;
  FdEntry* h = nullptr;
  if (Errno e = file_or_directory(st, a[0].i32(), h); e != Errno::Success) return e;
  if (h->kind == FdEntry::Kind::Directory && !h->mutate_directory) return Errno::Rofs;
  if (h->kind == FdEntry::Kind::File && !h->writable) return Errno::Perm;
  return done(::utimensat(h->host_fd, "", times.data(), AT_EMPTY_PATH));
}

// The target must be open (wasi-libc's dup2 is not built on this); what was
// there, a preopen even, is closed.
Outcome fd_renumber(State& st, GuestMemory&, std::span<const engine::Value> a) {
  uint32_t from = a[0].i32();
  uint32_t to = a[1].i32();
  if (st.fd(from) == nullptr || st.fd(to) == nullptr) return Errno::Badf;
  if (from == to) return Errno::Success;
  st.fds[to] = std::move(st.fds[from]);
  st.fds.erase(from);
  return Errno::Success;
}

// Entries are ".", ".." and then the directory's own in readdir's order;
// entry i's cookie (d_next) is i + 1, so a listing resumes where the guest
// left it. The last entry is cut short when the buffer ends, as the witx
// spec says (the guest sees bufused == buf_len and reads again).
Outcome fd_readdir(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  if (h->kind != FdEntry::Kind::Directory) return Errno::Notdir;
  uint32_t buf = a[1].i32();
  uint32_t buf_len = a[2].i32();
  auto cookie = static_cast<uint64_t>(a[3].i64());
  uint32_t used_ptr = a[4].i32();
  if (!mem.bytes(buf, buf_len) || !mem.bytes(used_ptr, 4)) return Errno::Fault;

  // A descriptor of its own, so every call lists from the start.
  int fd = ::openat(h->host_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_from_host(errno);
  struct Closer {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  std::unique_ptr<DIR, Closer> dir(::fdopendir(fd));
  if (!dir) {
    int err = errno;
    ::close(fd);
    return errno_from_host(err);
  }
  struct stat self {};
  if (::fstat(fd, &self) != 0) return errno_from_host(errno);

  uint32_t used = 0;
  uint64_t index = 0;
  // Writes one entry, or as much of it as fits; false once the buffer is full.
  auto emit = [&](const std::string& name, uint64_t ino, uint8_t type) {
    uint64_t this_index = index++;
    if (this_index < cookie) return true;
    std::array<uint8_t, layout::kDirentSize> head{};
    uint64_t next = this_index + 1;
    auto namlen = static_cast<uint32_t>(name.size());
    std::memcpy(head.data() + layout::kDirentNext, &next, 8);
    std::memcpy(head.data() + layout::kDirentIno, &ino, 8);
    std::memcpy(head.data() + layout::kDirentNamlen, &namlen, 4);
    head[layout::kDirentType] = type;
    for (auto part :
         {std::span<const uint8_t>(head), std::span(reinterpret_cast<const uint8_t*>(name.data()), name.size())}) {
      uint32_t n = std::min<uint32_t>(buf_len - used, static_cast<uint32_t>(part.size()));
      mem.store_bytes(uint64_t{buf} + used, part.first(n));
      used += n;
      if (used == buf_len) return false;
    }
    return true;
  };
  uint64_t self_ino = st.inode(self);
  bool more = emit(".", self_ino, filetype::kDirectory) && emit("..", self_ino, filetype::kDirectory);
  while (more) {
    errno = 0;
    const dirent* e = ::readdir(dir.get());
    if (e == nullptr) {
      if (errno != 0) return errno_from_host(errno);
      break;
    }
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (index < cookie) {  // skipped: no need to stat it
      ++index;
      continue;
    }
    // A name read from this directory is one component: it cannot leave it.
    struct stat es {};
    uint64_t ino = 0;
    uint8_t type = filetype::kUnknown;
    if (::fstatat(::dirfd(dir.get()), e->d_name, &es, AT_SYMLINK_NOFOLLOW) == 0) {
      ino = st.inode(es);
      type = filetype_of(es.st_mode);
    }
    more = emit(name, ino, type);
  }
  mem.store<uint32_t>(used_ptr, used);
  return Errno::Success;
}

}  // namespace stratus::wasi::preview1
