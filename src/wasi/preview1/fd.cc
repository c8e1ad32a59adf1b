// fd_* calls on the stdio fds. Guest iovecs are validated in full before any
// host I/O, so a bad pointer gives EFAULT with nothing half written.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

// POSIX's IOV_MAX: more iovecs than this is EINVAL for writev/readv too.
constexpr uint32_t kMaxIovecs = 1024;

// Resolves the guest's iovec array into host iovecs over guest memory.
Errno gather(GuestMemory& mem, uint32_t iovs, uint32_t count, std::vector<iovec>& out) {
  if (count > kMaxIovecs) return Errno::Inval;
  if (!mem.bytes(iovs, uint64_t{count} * layout::kIovecSize)) return Errno::Fault;
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t at = uint64_t{iovs} + uint64_t{i} * layout::kIovecSize;
    auto buf = mem.load<uint32_t>(at);
    auto len = mem.load<uint32_t>(at + 4);
    if (!buf || !len) return Errno::Fault;
    auto span = mem.bytes(*buf, *len);
    if (!span) return Errno::Fault;
    total += *len;
    if (*len != 0) out.push_back(iovec{span->data(), span->size()});
  }
  // The byte count goes back to the guest as a u32.
  if (total > UINT32_MAX) return Errno::Inval;
  return Errno::Success;
}

}  // namespace

Errno errno_from_host(int host_errno) {
  struct Mapping {
    int host;
    Errno wasi;
  };
  static constexpr Mapping kMappings[] = {
      {E2BIG, Errno::TooBig},
      {EACCES, Errno::Acces},
      {EADDRINUSE, Errno::Addrinuse},
      {EADDRNOTAVAIL, Errno::Addrnotavail},
      {EAFNOSUPPORT, Errno::Afnosupport},
      {EAGAIN, Errno::Again},
      {EALREADY, Errno::Already},
      {EBADF, Errno::Badf},
      {EBADMSG, Errno::Badmsg},
      {EBUSY, Errno::Busy},
      {ECANCELED, Errno::Canceled},
      {ECHILD, Errno::Child},
      {ECONNABORTED, Errno::Connaborted},
      {ECONNREFUSED, Errno::Connrefused},
      {ECONNRESET, Errno::Connreset},
      {EDEADLK, Errno::Deadlk},
      {EDESTADDRREQ, Errno::Destaddrreq},
      {EDOM, Errno::Dom},
      {EDQUOT, Errno::Dquot},
      {EEXIST, Errno::Exist},
      {EFAULT, Errno::Fault},
      {EFBIG, Errno::Fbig},
      {EHOSTUNREACH, Errno::Hostunreach},
      {EIDRM, Errno::Idrm},
      {EILSEQ, Errno::Ilseq},
      {EINPROGRESS, Errno::Inprogress},
      {EINTR, Errno::Intr},
      {EINVAL, Errno::Inval},
      {EIO, Errno::Io},
      {EISCONN, Errno::Isconn},
      {EISDIR, Errno::Isdir},
      {ELOOP, Errno::Loop},
      {EMFILE, Errno::Mfile},
      {EMLINK, Errno::Mlink},
      {EMSGSIZE, Errno::Msgsize},
      {EMULTIHOP, Errno::Multihop},
      {ENAMETOOLONG, Errno::Nametoolong},
      {ENETDOWN, Errno::Netdown},
      {ENETRESET, Errno::Netreset},
      {ENETUNREACH, Errno::Netunreach},
      {ENFILE, Errno::Nfile},
      {ENOBUFS, Errno::Nobufs},
      {ENODEV, Errno::Nodev},
      {ENOENT, Errno::Noent},
      {ENOEXEC, Errno::Noexec},
      {ENOLCK, Errno::Nolck},
      {ENOLINK, Errno::Nolink},
      {ENOMEM, Errno::Nomem},
      {ENOMSG, Errno::Nomsg},
      {ENOPROTOOPT, Errno::Noprotoopt},
      {ENOSPC, Errno::Nospc},
      {ENOSYS, Errno::Nosys},
      {ENOTCONN, Errno::Notconn},
      {ENOTDIR, Errno::Notdir},
      {ENOTEMPTY, Errno::Notempty},
      {ENOTRECOVERABLE, Errno::Notrecoverable},
      {ENOTSOCK, Errno::Notsock},
      {ENOTSUP, Errno::Notsup},
      {ENOTTY, Errno::Notty},
      {ENXIO, Errno::Nxio},
      {EOVERFLOW, Errno::Overflow},
      {EOWNERDEAD, Errno::Ownerdead},
      {EPERM, Errno::Perm},
      {EPIPE, Errno::Pipe},
      {EPROTO, Errno::Proto},
      {EPROTONOSUPPORT, Errno::Protonosupport},
      {EPROTOTYPE, Errno::Prototype},
      {ERANGE, Errno::Range},
      {EROFS, Errno::Rofs},
      {ESPIPE, Errno::Spipe},
      {ESRCH, Errno::Srch},
      {ESTALE, Errno::Stale},
      {ETIMEDOUT, Errno::Timedout},
      {ETXTBSY, Errno::Txtbsy},
      {EXDEV, Errno::Xdev},
  };
  for (const auto& m : kMappings) {
    if (m.host == host_errno) return m.wasi;
  }
  return Errno::Io;
}

Outcome fd_write(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  if (h->kind == FdEntry::Kind::Directory) return Errno::Isdir;
  if (!h->writable) return Errno::Badf;
  uint32_t nwritten_ptr = a[3].i32();
  if (!mem.bytes(nwritten_ptr, 4)) return Errno::Fault;
  std::vector<iovec> iov;
  if (Errno e = gather(mem, a[1].i32(), a[2].i32(), iov); e != Errno::Success) return e;

  // Write everything (the guest's stdio expects whole writes), advancing over
  // short writes; an error after some bytes reports the bytes written. A
  // file opened with fdflags.append has O_APPEND on its host fd.
  uint64_t written = 0;
  size_t first = 0;
  while (first < iov.size()) {
    ssize_t n = ::writev(h->host_fd, &iov[first], static_cast<int>(iov.size() - first));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (written > 0) break;
      return errno_from_host(errno);
    }
    written += static_cast<uint64_t>(n);
    auto left = static_cast<size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (first < iov.size()) {
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  mem.store<uint32_t>(nwritten_ptr, static_cast<uint32_t>(written));
  return Errno::Success;
}

Outcome fd_read(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  if (h->kind == FdEntry::Kind::Directory) return Errno::Isdir;
  if (!h->readable) return Errno::Badf;
  uint32_t nread_ptr = a[3].i32();
  if (!mem.bytes(nread_ptr, 4)) return Errno::Fault;
  std::vector<iovec> iov;
  if (Errno e = gather(mem, a[1].i32(), a[2].i32(), iov); e != Errno::Success) return e;
  ssize_t n = 0;
  if (!iov.empty()) {
    do {
      n = ::readv(h->host_fd, iov.data(), static_cast<int>(iov.size()));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno_from_host(errno);
  }
  mem.store<uint32_t>(nread_ptr, static_cast<uint32_t>(n));
  return Errno::Success;
}

namespace {

// fd_pread and fd_pwrite: (fd, iovs, iovs_len, offset, result pointer).
// Stdio cannot be read or written at an offset (ESPIPE), a directory not
// at all; the result pointer is checked before any I/O.
Outcome positional(State& st, GuestMemory& mem, std::span<const engine::Value> a, bool write) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  if (h->kind == FdEntry::Kind::Directory) return Errno::Isdir;
  if (h->kind == FdEntry::Kind::Stdio) return Errno::Spipe;
  if (write ? !h->writable : !h->readable) return Errno::Badf;
  auto offset = static_cast<uint64_t>(a[3].i64());
  uint32_t done_ptr = a[4].i32();
  if (!mem.bytes(done_ptr, 4)) return Errno::Fault;
  if (offset > INT64_MAX) return Errno::Inval;
  std::vector<iovec> iov;
  if (Errno e = gather(mem, a[1].i32(), a[2].i32(), iov); e != Errno::Success) return e;
  ssize_t n = 0;
  if (!iov.empty()) {
    do {
      n = write ? ::pwritev(h->host_fd, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(offset))
                : ::preadv(h->host_fd, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno_from_host(errno);
  }
  mem.store<uint32_t>(done_ptr, static_cast<uint32_t>(n));
  return Errno::Success;
}

}  // namespace

Outcome fd_pread(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  return positional(st, mem, a, false);
}

// Linux writes at the end of a file opened with append whatever the offset;
// POSIX says at the offset. wasi-testsuite accepts either.
Outcome fd_pwrite(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  return positional(st, mem, a, true);
}

// Closing a stdio fd closes the guest's view of it (the host fd is
// borrowed); a file's or directory's host fd closes with its last user.
Outcome fd_close(State& st, GuestMemory&, std::span<const engine::Value> a) {
  if (st.fds.erase(a[0].i32()) == 0) return Errno::Badf;
  return Errno::Success;
}

uint8_t filetype_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFBLK: return filetype::kBlockDevice;
    case S_IFCHR: return filetype::kCharacterDevice;
    case S_IFDIR: return filetype::kDirectory;
    case S_IFREG: return filetype::kRegularFile;
    case S_IFSOCK: return filetype::kSocketStream;
    case S_IFLNK: return filetype::kSymbolicLink;
    default: return filetype::kUnknown;  // FIFOs have no preview 1 type
  }
}

namespace {

// What a directory allows below it, as preview 1 rights (most userlands
// read these from a preopen before they open anything).
constexpr uint64_t kDirectoryReadRights = rights::kPathOpen | rights::kFdReaddir | rights::kPathReadlink |
                                          rights::kPathFilestatGet | rights::kFdFilestatGet | rights::kPathLinkSource |
                                          rights::kPathRenameSource;
constexpr uint64_t kDirectoryWriteRights = rights::kPathCreateDirectory | rights::kPathCreateFile |
                                           rights::kPathLinkTarget | rights::kPathRenameTarget | rights::kPathSymlink |
                                           rights::kPathRemoveDirectory | rights::kPathUnlinkFile |
                                           rights::kPathFilestatSetTimes | rights::kFdFilestatSetTimes;
constexpr uint64_t kFileRights = rights::kFdDatasync | rights::kFdRead | rights::kFdSeek | rights::kFdFdstatSetFlags |
                                 rights::kFdSync | rights::kFdTell | rights::kFdWrite | rights::kFdAdvise |
                                 rights::kFdAllocate | rights::kFdFilestatGet | rights::kFdFilestatSetSize |
                                 rights::kFdFilestatSetTimes | rights::kPollFdReadwrite;

}  // namespace

Outcome fd_fdstat_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  uint32_t ptr = a[1].i32();
  if (!mem.bytes(ptr, layout::kFdstatSize)) return Errno::Fault;

  // wasi-libc's isatty() is "character device without seek/tell rights", so
  // report the host's file type and never grant seeking on stdio.
  uint8_t type = filetype::kUnknown;
  struct stat sb {};
  if (::fstat(h->host_fd, &sb) == 0) type = filetype_of(sb.st_mode);
  uint16_t flags = h->flags;
  uint64_t base = 0;
  uint64_t inheriting = 0;
  switch (h->kind) {
    case FdEntry::Kind::Stdio: {
      int fl = ::fcntl(h->host_fd, F_GETFL);
      if (fl >= 0 && (fl & O_APPEND)) flags |= fdflags::kAppend;
      if (fl >= 0 && (fl & O_NONBLOCK)) flags |= fdflags::kNonblock;
      base = rights::kPollFdReadwrite;
      if (h->readable) base |= rights::kFdRead;
      if (h->writable) base |= rights::kFdWrite;
      break;
    }
    case FdEntry::Kind::File:
      base = kFileRights;
      if (!h->readable) base &= ~rights::kFdRead;
      if (!h->writable) base &= ~(rights::kFdWrite | rights::kFdFilestatSetSize | rights::kFdAllocate);
      inheriting = base;
      break;
    case FdEntry::Kind::Directory:
      base = kDirectoryReadRights | (h->mutate_directory ? kDirectoryWriteRights : 0);
      inheriting = base | kFileRights;
      if (!h->mutate_directory) inheriting &= ~(rights::kFdWrite | rights::kFdFilestatSetSize | rights::kFdAllocate);
      break;
  }

  std::vector<uint8_t> zero(layout::kFdstatSize, 0);
  mem.store_bytes(ptr, zero);
  mem.store<uint8_t>(ptr + layout::kFdstatFiletype, type);
  mem.store<uint16_t>(ptr + layout::kFdstatFlags, flags);
  mem.store<uint64_t>(ptr + layout::kFdstatRightsBase, base);
  mem.store<uint64_t>(ptr + layout::kFdstatRightsInheriting, inheriting);
  return Errno::Success;
}

Outcome fd_prestat_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr || !h->preopen) return Errno::Badf;
  uint32_t ptr = a[1].i32();
  if (!mem.bytes(ptr, layout::kPrestatSize)) return Errno::Fault;
  mem.store<uint32_t>(ptr + layout::kPrestatTag, 0);  // preopentype dir, and zeroed padding
  mem.store<uint32_t>(ptr + layout::kPrestatNameLen, static_cast<uint32_t>(h->preopen->size()));
  return Errno::Success;
}

Outcome fd_prestat_dir_name(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  FdEntry* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  if (!h->preopen) return Errno::Notdir;
  uint32_t ptr = a[1].i32();
  uint32_t len = a[2].i32();
  if (h->preopen->size() > len) return Errno::Nametoolong;
  if (!mem.store_string(ptr, *h->preopen)) return Errno::Fault;
  return Errno::Success;
}

}  // namespace stratus::wasi::preview1
