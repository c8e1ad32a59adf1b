// path_* calls: everything a guest names by a path beneath one of its
// directory fds. Paths are resolved by the same code as wasi:filesystem's
// (p2/filesystem_ops.h), so neither preview leaves a preopen by `..`, an
// absolute path or a symbolic link.
#include <fcntl.h>

#include <cerrno>
#include <string>

#include "wasi/p2/filesystem_ops.h"
#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

// The directory behind `fd` that a path is resolved beneath; `mutates` when
// the call changes what is below it (EROFS under a read-only preopen).
Errno directory(State& st, uint32_t fd, bool mutates, FdEntry*& out) {
  out = st.fd(fd);
  if (out == nullptr) return Errno::Badf;
  if (out->kind != FdEntry::Kind::Directory) return Errno::Notdir;
  if (mutates && !out->mutate_directory) return Errno::Rofs;
  return Errno::Success;
}

// The guest's path bytes (preview 1 paths need not be UTF-8).
Errno path(GuestMemory& mem, uint32_t ptr, uint32_t len, std::string& out) {
  auto bytes = mem.bytes(ptr, len);
  if (!bytes) return Errno::Fault;
  out.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  return Errno::Success;
}

Errno result(int err) { return err == 0 ? Errno::Success : errno_from_host(err); }

// Resolves the directory and path arguments at (fd, ptr, len) in one go.
struct Target {
  FdEntry* dir = nullptr;
  std::string path;
};
Errno target(State& st, GuestMemory& mem, uint32_t fd, uint32_t ptr, uint32_t len, bool mutates, Target& out) {
  if (Errno e = path(mem, ptr, len, out.path); e != Errno::Success) return e;
  return directory(st, fd, mutates, out.dir);
}

}  // namespace

Outcome path_create_directory(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  Target t;
  if (Errno e = target(st, mem, a[0].i32(), a[1].i32(), a[2].i32(), true, t); e != Errno::Success) return e;
  return result(p2::create_directory_at(t.dir->host_fd, t.path));
}

Outcome path_remove_directory(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  Target t;
  if (Errno e = target(st, mem, a[0].i32(), a[1].i32(), a[2].i32(), true, t); e != Errno::Success) return e;
  return result(p2::remove_directory_at(t.dir->host_fd, t.path));
}

Outcome path_unlink_file(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  Target t;
  if (Errno e = target(st, mem, a[0].i32(), a[1].i32(), a[2].i32(), true, t); e != Errno::Success) return e;
  return result(p2::unlink_file_at(t.dir->host_fd, t.path));
}

Outcome path_filestat_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  Target t;
  if (Errno e = target(st, mem, a[0].i32(), a[2].i32(), a[3].i32(), false, t); e != Errno::Success) return e;
  uint32_t out = a[4].i32();
  if (!mem.bytes(out, layout::kFilestatSize)) return Errno::Fault;
  auto sb = p2::stat_at(t.dir->host_fd, (a[1].i32() & kLookupSymlinkFollow) != 0, t.path);
  if (!sb.ok()) return errno_from_host(sb.error);
  store_filestat(st, mem, out, sb.value);
  return Errno::Success;
}

Outcome path_filestat_set_times(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  std::array<timespec, 2> times{};
  if (Errno e = new_times(static_cast<uint64_t>(a[4].i64()), static_cast<uint64_t>(a[5].i64()), a[6].i32(), times);
      e != Errno::Success)
    return e;
  Target t;
  if (Errno e = target(st, mem, a[0].i32(), a[2].i32(), a[3].i32(), true, t); e != Errno::Success) return e;
  return result(p2::set_times_at(t.dir->host_fd, (a[1].i32() & kLookupSymlinkFollow) != 0, t.path, times));
}

// Both directories must allow changes: a second name for a file under a
// read-only directory would let it be written through the new one.
Outcome path_link(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  Target from;
  Target to;
  if (Errno e = target(st, mem, a[0].i32(), a[2].i32(), a[3].i32(), true, from); e != Errno::Success) return e;
  if (Errno e = target(st, mem, a[4].i32(), a[5].i32(), a[6].i32(), true, to); e != Errno::Success) return e;
  return result(
      p2::link_at(from.dir->host_fd, (a[1].i32() & kLookupSymlinkFollow) != 0, from.path, to.dir->host_fd, to.path));
}

Outcome path_rename(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  Target from;
  Target to;
  if (Errno e = target(st, mem, a[0].i32(), a[1].i32(), a[2].i32(), true, from); e != Errno::Success) return e;
  if (Errno e = target(st, mem, a[3].i32(), a[4].i32(), a[5].i32(), true, to); e != Errno::Success) return e;
  return result(p2::rename_at(from.dir->host_fd, from.path, to.dir->host_fd, to.path));
}

Outcome path_symlink(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  std::string link_target;
  if (Errno e = path(mem, a[0].i32(), a[1].i32(), link_target); e != Errno::Success) return e;
  Target t;
  if (Errno e = target(st, mem, a[2].i32(), a[3].i32(), a[4].i32(), true, t); e != Errno::Success) return e;
  return result(p2::symlink_at(t.dir->host_fd, link_target, t.path));
}

// A target longer than the buffer is cut to it, as the witx spec says.
Outcome path_readlink(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  Target t;
  if (Errno e = target(st, mem, a[0].i32(), a[1].i32(), a[2].i32(), false, t); e != Errno::Success) return e;
  uint32_t buf = a[3].i32();
  uint32_t buf_len = a[4].i32();
  uint32_t used_ptr = a[5].i32();
  if (!mem.bytes(buf, buf_len) || !mem.bytes(used_ptr, 4)) return Errno::Fault;
  auto link = p2::readlink_at(t.dir->host_fd, t.path);
  if (!link.ok()) return errno_from_host(link.error);
  if (link.value.size() > buf_len) link.value.resize(buf_len);
  mem.store_string(buf, link.value);
  mem.store<uint32_t>(used_ptr, static_cast<uint32_t>(link.value.size()));
  return Errno::Success;
}

// What the file may do is decided here, from the rights asked for: FD_READ
// and FD_WRITE (as Wasmtime reads them). Creating, truncating or writing
// needs a directory that may change.
Outcome path_open(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  uint32_t lookup = a[1].i32();
  uint32_t open_flags = a[4].i32();
  auto base = static_cast<uint64_t>(a[5].i64());
  uint32_t fd_flags = a[7].i32();
  uint32_t out = a[8].i32();
  constexpr uint32_t kKnownOflags = oflags::kCreat | oflags::kDirectory | oflags::kExcl | oflags::kTrunc;
  if ((open_flags & ~kKnownOflags) != 0) return Errno::Inval;

  p2::OpenRequest request;
  request.follow = (lookup & kLookupSymlinkFollow) != 0;
  request.create = (open_flags & oflags::kCreat) != 0;
  request.exclusive = (open_flags & oflags::kExcl) != 0;
  request.directory = (open_flags & oflags::kDirectory) != 0;
  request.truncate = (open_flags & oflags::kTrunc) != 0;
  request.read = (base & rights::kFdRead) != 0;
  // Asking to write a directory is EISDIR, as open(2) says.
  request.write = (base & rights::kFdWrite) != 0;
  request.sync = (fd_flags & fdflags::kSync) != 0;
  request.dsync = (fd_flags & fdflags::kDsync) != 0;
  request.rsync = (fd_flags & fdflags::kRsync) != 0;

  Target t;
  bool mutates = request.write || request.create || request.truncate;
  if (Errno e = target(st, mem, a[0].i32(), a[2].i32(), a[3].i32(), mutates, t); e != Errno::Success) return e;
  if (!mem.bytes(out, 4)) return Errno::Fault;
  auto opened = p2::open_at(t.dir->host_fd, t.path, request);
  if (!opened.ok()) return errno_from_host(opened.error);

  FdEntry e;
  e.owned = std::move(opened.value.fd);
  e.host_fd = e.owned->get();
  if (S_ISDIR(opened.value.st.st_mode)) {
    e.kind = FdEntry::Kind::Directory;
    e.readable = true;
    e.mutate_directory = t.dir->mutate_directory;
  } else {
    e.kind = FdEntry::Kind::File;
    e.readable = request.read;
    e.writable = request.write;
    constexpr uint32_t kKept =
        fdflags::kAppend | fdflags::kDsync | fdflags::kNonblock | fdflags::kRsync | fdflags::kSync;
    e.flags = static_cast<uint16_t>(fd_flags & kKept);
    if ((fd_flags & fdflags::kAppend) != 0) {
      int status = ::fcntl(e.host_fd, F_GETFL);
      if (status < 0 || ::fcntl(e.host_fd, F_SETFL, status | O_APPEND) != 0) return errno_from_host(errno);
    }
  }
  auto fd = st.add(std::move(e));
  if (!fd) return Errno::Mfile;
  mem.store<uint32_t>(out, *fd);
  return Errno::Success;
}

}  // namespace stratus::wasi::preview1
