// fd_* calls on the stdio fds. Guest iovecs are validated in full before any
// host I/O, so a bad pointer gives EFAULT with nothing half written.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

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
  switch (host_errno) {
    case EBADF: return Errno::Badf;
    case EFAULT: return Errno::Fault;
    case EINTR: return Errno::Intr;
    case EAGAIN: return Errno::Again;
    case EPIPE: return Errno::Pipe;
    case ENOSPC: return Errno::Nospc;
    case EINVAL: return Errno::Inval;
    case ENOMEM: return Errno::Nomem;
    case ESPIPE: return Errno::Spipe;
    default: return Errno::Io;
  }
}

Outcome fd_write(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  HostFd* h = st.fd(a[0].i32());
  if (h == nullptr || !h->writable) return Errno::Badf;
  uint32_t nwritten_ptr = a[3].i32();
  if (!mem.bytes(nwritten_ptr, 4)) return Errno::Fault;
  std::vector<iovec> iov;
  if (Errno e = gather(mem, a[1].i32(), a[2].i32(), iov); e != Errno::Success) return e;

  // Write everything (the guest's stdio expects whole writes), advancing over
  // short writes; an error after some bytes reports the bytes written.
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
  HostFd* h = st.fd(a[0].i32());
  if (h == nullptr || !h->readable) return Errno::Badf;
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

// Closing a stdio fd closes the guest's view of it; the host fd is borrowed.
Outcome fd_close(State& st, GuestMemory&, std::span<const engine::Value> a) {
  HostFd* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  h->open = false;
  return Errno::Success;
}

Outcome fd_fdstat_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  HostFd* h = st.fd(a[0].i32());
  if (h == nullptr) return Errno::Badf;
  uint32_t ptr = a[1].i32();
  if (!mem.bytes(ptr, layout::kFdstatSize)) return Errno::Fault;

  // wasi-libc's isatty() is "character device without seek/tell rights", so
  // report the host's file type and never grant seeking on stdio.
  uint8_t type = filetype::kUnknown;
  struct stat sb {};
  if (::fstat(h->host_fd, &sb) == 0) {
    if (S_ISCHR(sb.st_mode))
      type = filetype::kCharacterDevice;
    else if (S_ISREG(sb.st_mode))
      type = filetype::kRegularFile;
    else if (S_ISSOCK(sb.st_mode))
      type = filetype::kSocketStream;
    else if (S_ISBLK(sb.st_mode))
      type = filetype::kBlockDevice;
  }
  uint16_t flags = 0;
  int fl = ::fcntl(h->host_fd, F_GETFL);
  if (fl >= 0 && (fl & O_APPEND)) flags |= 1;    // FDFLAGS_APPEND
  if (fl >= 0 && (fl & O_NONBLOCK)) flags |= 4;  // FDFLAGS_NONBLOCK
  uint64_t base = rights::kPollFdReadwrite;
  if (h->readable) base |= rights::kFdRead;
  if (h->writable) base |= rights::kFdWrite;

  std::vector<uint8_t> zero(layout::kFdstatSize, 0);
  mem.store_bytes(ptr, zero);
  mem.store<uint8_t>(ptr + layout::kFdstatFiletype, type);
  mem.store<uint16_t>(ptr + layout::kFdstatFlags, flags);
  mem.store<uint64_t>(ptr + layout::kFdstatRightsBase, base);
  mem.store<uint64_t>(ptr + layout::kFdstatRightsInheriting, 0);
  return Errno::Success;
}

Outcome fd_seek(State& st, GuestMemory&, std::span<const engine::Value> a) {
  return st.fd(a[0].i32()) == nullptr ? Errno::Badf : Errno::Spipe;
}

// No preopened directories yet: wasi-libc probes fds 3, 4, ... until EBADF.
Outcome fd_prestat_get(State&, GuestMemory&, std::span<const engine::Value>) { return Errno::Badf; }
Outcome fd_prestat_dir_name(State&, GuestMemory&, std::span<const engine::Value>) { return Errno::Badf; }

}  // namespace stratus::wasi::preview1
