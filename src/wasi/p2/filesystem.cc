// wasi:filesystem/types and wasi:filesystem/preopens over the host's
// filesystem, confined to the preopened directories: every guest path goes
// through filesystem_paths.h, never through the host's own lookup.
#include "wasi/p2/filesystem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "wasi/p2/filesystem_ops.h"
#include "wasi/p2/filesystem_paths.h"
#include "wasi/p2/hosts.h"

namespace stratus::wasi::p2 {
namespace {

namespace types = ::wasi::filesystem::types;
namespace preopens = ::wasi::filesystem::preopens;
namespace streams = ::wasi::io::streams;
using types::ErrorCode;
using wit::HostResult;
using wit::Unit;
using wit::WitResult;

template <class T>
using FsResult = HostResult<WitResult<T, ErrorCode>>;

// The most one `read` returns (the WIT allows short reads): the guest picks
// the length, the host must not allocate whatever it asks for.
constexpr uint64_t kMaxRead = 64 * 1024;

ErrorCode error_code(int err) {
  struct Mapping {
    int err;
    ErrorCode code;
  };
  static constexpr Mapping kMappings[] = {
      {EACCES, ErrorCode::kAccess},
      {EAGAIN, ErrorCode::kWouldBlock},
      {EALREADY, ErrorCode::kAlready},
      {EBADF, ErrorCode::kBadDescriptor},
      {EBUSY, ErrorCode::kBusy},
      {EDEADLK, ErrorCode::kDeadlock},
      {EDQUOT, ErrorCode::kQuota},
      {EEXIST, ErrorCode::kExist},
      {EFBIG, ErrorCode::kFileTooLarge},
      {EILSEQ, ErrorCode::kIllegalByteSequence},
      {EINPROGRESS, ErrorCode::kInProgress},
      {EINTR, ErrorCode::kInterrupted},
      {EINVAL, ErrorCode::kInvalid},
      {EIO, ErrorCode::kIo},
      {EISDIR, ErrorCode::kIsDirectory},
      {ELOOP, ErrorCode::kLoop},
      {EMLINK, ErrorCode::kTooManyLinks},
      {EMSGSIZE, ErrorCode::kMessageSize},
      {ENAMETOOLONG, ErrorCode::kNameTooLong},
      {ENODEV, ErrorCode::kNoDevice},
      {ENOENT, ErrorCode::kNoEntry},
      {ENOLCK, ErrorCode::kNoLock},
      {ENOMEM, ErrorCode::kInsufficientMemory},
      {ENOSPC, ErrorCode::kInsufficientSpace},
      {ENOTDIR, ErrorCode::kNotDirectory},
      {ENOTEMPTY, ErrorCode::kNotEmpty},
      {ENOTRECOVERABLE, ErrorCode::kNotRecoverable},
      {ENOTSUP, ErrorCode::kUnsupported},
      {EOPNOTSUPP, ErrorCode::kUnsupported},
      {ENOSYS, ErrorCode::kUnsupported},
      {ENOTTY, ErrorCode::kNoTty},
      {ENXIO, ErrorCode::kNoSuchDevice},
      {EOVERFLOW, ErrorCode::kOverflow},
      {EPERM, ErrorCode::kNotPermitted},
      {EPIPE, ErrorCode::kPipe},
      {EROFS, ErrorCode::kReadOnly},
      {ESPIPE, ErrorCode::kInvalidSeek},
      {ETXTBSY, ErrorCode::kTextFileBusy},
      {EXDEV, ErrorCode::kCrossDevice},
  };
  for (const auto& m : kMappings) {
    if (m.err == err) return m.code;
  }
  return ErrorCode::kIo;
}

// The error side of whichever result the method returns.
struct Fail {
  ErrorCode code;
  template <class T>
  operator FsResult<T>() const {  // NOLINT(google-explicit-constructor)
    return WitResult<T, ErrorCode>::err(code);
  }
};
Fail fail(int err) { return Fail{error_code(err)}; }

template <class T>
FsResult<T> ok(T value) {
  return WitResult<T, ErrorCode>::ok(std::move(value));
}
FsResult<Unit> ok() { return WitResult<Unit, ErrorCode>::ok(Unit{}); }

// The result of a syscall returning 0 or -1 with errno.
FsResult<Unit> done(int rc) {
  if (rc != 0) return fail(errno);
  return ok();
}

// The result of an operation returning 0 or an errno.
engine::Trap unknown_descriptor() { return guest_error("unknown descriptor"); }

types::DescriptorType type_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFBLK: return types::DescriptorType::kBlockDevice;
    case S_IFCHR: return types::DescriptorType::kCharacterDevice;
    case S_IFDIR: return types::DescriptorType::kDirectory;
    case S_IFIFO: return types::DescriptorType::kFifo;
    case S_IFLNK: return types::DescriptorType::kSymbolicLink;
    case S_IFREG: return types::DescriptorType::kRegularFile;
    case S_IFSOCK: return types::DescriptorType::kSocket;
    default: return types::DescriptorType::kUnknown;
  }
}

// Before 1970 cannot be expressed (datetime seconds are unsigned).
std::optional<types::Datetime> datetime(const timespec& ts) {
  if (ts.tv_sec < 0) return std::nullopt;
  return types::Datetime{static_cast<uint64_t>(ts.tv_sec), static_cast<uint32_t>(ts.tv_nsec)};
}

types::DescriptorStat to_stat(const struct stat& st) {
  return types::DescriptorStat{type_of(st.st_mode),
                               static_cast<uint64_t>(st.st_nlink),
                               static_cast<uint64_t>(st.st_size),
                               datetime(st.st_atim),
                               datetime(st.st_mtim),
                               datetime(st.st_ctim)};
}

// false for a time the host cannot represent.
bool to_timespec(const types::NewTimestamp& t, timespec& out) {
  if (std::holds_alternative<types::NewTimestampNoChange>(t)) {
    out = {0, UTIME_OMIT};
  } else if (std::holds_alternative<types::NewTimestampNow>(t)) {
    out = {0, UTIME_NOW};
  } else {
    const auto& dt = std::get<types::NewTimestampTimestamp>(t).value;
    if (dt.seconds > static_cast<uint64_t>(INT64_MAX) || dt.nanoseconds >= 1'000'000'000u) return false;
    out = {static_cast<time_t>(dt.seconds), static_cast<long>(dt.nanoseconds)};
  }
  return true;
}

template <class Call>
ssize_t retry_eintr(Call call) {
  ssize_t n = 0;
  do {
    n = call();
  } while (n < 0 && errno == EINTR);
  return n;
}

class FilesystemHost final : public types::Host {
 public:
  explicit FilesystemHost(WasiCtx& ctx) : ctx_(ctx) {}

  // A path operation's error: one the sandbox makes (a path out of the
  // preopen, a change under a read-only mount or through a read-only
  // descriptor) is told to ctx.refused, naming `op` and `path`.
  Fail refuse(const char* op, const std::string& path, int err) {
    const char* why = nullptr;
    if (err == EPERM) why = "not-permitted (it would leave the preopen, or the descriptor may not do it)";
    if (err == EROFS) why = "read-only (the mount is read-only)";
    if (err == EACCES) why = "access";
    if (err == EBADF) why = "bad-descriptor (not opened for it)";
    if (why != nullptr) ctx_.refused(std::string("wasi:filesystem: ") + op + " `" + path + "` refused: " + why);
    return fail(err);
  }
  FsResult<Unit> path_done(const char* op, const std::string& path, int err) {
    if (err != 0) return refuse(op, path, err);
    return ok();
  }

  void drop_descriptor(uint32_t rep) override { ctx_.descriptors.remove(rep); }
  void drop_directory_entry_stream(uint32_t rep) override { ctx_.directory_streams.remove(rep); }

  FsResult<streams::InputStream> descriptor_read_via_stream(const types::DescriptorBorrow& self,
                                                            const types::Filesize& offset) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (int err = check_file(*d, d->read)) return fail(err);
    return ok(streams::InputStream{ctx_.input_streams.add(file_input(d->fd, offset))});
  }
  FsResult<streams::OutputStream> descriptor_write_via_stream(const types::DescriptorBorrow& self,
                                                              const types::Filesize& offset) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (int err = check_file(*d, d->write)) return refuse("write-via-stream", "(a descriptor)", err);
    return ok(streams::OutputStream{ctx_.output_streams.add(file_output(d->fd, offset, false))});
  }
  FsResult<streams::OutputStream> descriptor_append_via_stream(const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (int err = check_file(*d, d->write)) return refuse("append-via-stream", "(a descriptor)", err);
    return ok(streams::OutputStream{ctx_.output_streams.add(file_output(d->fd, 0, true))});
  }

  FsResult<Unit> descriptor_advise(const types::DescriptorBorrow& self, const types::Filesize& offset,
                                   const types::Filesize& length, const types::Advice& advice) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (int err = check_file(*d, true)) return fail(err);
    if (offset > INT64_MAX || length > INT64_MAX) return fail(EINVAL);
    int how = POSIX_FADV_NORMAL;
    switch (advice) {
      case types::Advice::kNormal: how = POSIX_FADV_NORMAL; break;
      case types::Advice::kSequential: how = POSIX_FADV_SEQUENTIAL; break;
      case types::Advice::kRandom: how = POSIX_FADV_RANDOM; break;
      case types::Advice::kWillNeed: how = POSIX_FADV_WILLNEED; break;
      case types::Advice::kDontNeed: how = POSIX_FADV_DONTNEED; break;
      case types::Advice::kNoReuse: how = POSIX_FADV_NOREUSE; break;
    }
    // posix_fadvise returns the error rather than setting errno.
    int err = ::posix_fadvise(d->fd->get(), static_cast<off_t>(offset), static_cast<off_t>(length), how);
    if (err != 0) return fail(err);
    return ok();
  }

  // Both succeed with no effect on a file not open for writing (the WIT says
  // so); a directory is synced so that entries made in it last.
  FsResult<Unit> descriptor_sync_data(const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (!d->is_directory && !d->write) return ok();
    return done(::fdatasync(d->fd->get()));
  }
  FsResult<Unit> descriptor_sync(const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (!d->is_directory && !d->write) return ok();
    return done(::fsync(d->fd->get()));
  }

  FsResult<types::DescriptorFlags> descriptor_get_flags(const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    types::DescriptorFlags flags;
    flags.read = d->read;
    flags.write = d->write;
    flags.file_integrity_sync = d->file_integrity_sync;
    flags.data_integrity_sync = d->data_integrity_sync;
    flags.requested_write_sync = d->requested_write_sync;
    flags.mutate_directory = d->is_directory && d->mutate_directory;
    return ok(flags);
  }

  FsResult<types::DescriptorType> descriptor_get_type(const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    struct stat st {};
    if (::fstat(d->fd->get(), &st) != 0) return fail(errno);
    return ok(type_of(st.st_mode));
  }

  FsResult<Unit> descriptor_set_size(const types::DescriptorBorrow& self, const types::Filesize& size) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (d->is_directory) return fail(EISDIR);
    if (!d->write) return fail(EPERM);
    if (size > INT64_MAX) return fail(EFBIG);
    return done(::ftruncate(d->fd->get(), static_cast<off_t>(size)));
  }

  FsResult<Unit> descriptor_set_times(const types::DescriptorBorrow& self, const types::NewTimestamp& atime,
                                      const types::NewTimestamp& mtime) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (d->is_directory && !d->mutate_directory) return refuse("set-times", "(a directory)", EROFS);
    if (!d->is_directory && !d->write) return refuse("set-times", "(a file)", EPERM);
    std::array<timespec, 2> times{};
    if (!to_timespec(atime, times[0]) || !to_timespec(mtime, times[1])) return fail(EINVAL);
    return done(::utimensat(d->fd->get(), "", times.data(), AT_EMPTY_PATH));
  }

  FsResult<std::tuple<std::vector<uint8_t>, bool>> descriptor_read(const types::DescriptorBorrow& self,
                                                                   const types::Filesize& length,
                                                                   const types::Filesize& offset) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (int err = check_file(*d, d->read)) return fail(err);
    if (offset > INT64_MAX) return fail(EINVAL);
    std::vector<uint8_t> bytes(static_cast<size_t>(std::min(length, kMaxRead)));
    if (bytes.empty()) return ok(std::make_tuple(std::move(bytes), false));
    int fd = d->fd->get();
    ssize_t n = retry_eintr([&] { return ::pread(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)); });
    if (n < 0) return fail(errno);
    bytes.resize(static_cast<size_t>(n));
    return ok(std::make_tuple(std::move(bytes), n == 0));
  }

  FsResult<types::Filesize> descriptor_write(const types::DescriptorBorrow& self, const std::vector<uint8_t>& buffer,
                                             const types::Filesize& offset) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (int err = check_file(*d, d->write)) return refuse("write", "(a descriptor)", err);
    if (offset > INT64_MAX) return fail(EFBIG);
    int fd = d->fd->get();
    ssize_t n = retry_eintr([&] { return ::pwrite(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset)); });
    if (n < 0) return fail(errno);
    return ok(static_cast<types::Filesize>(n));
  }

  FsResult<types::DirectoryEntryStream> descriptor_read_directory(const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    auto stream = open_directory_entries(*d);
    if (!stream.ok()) return fail(stream.error);
    return ok(types::DirectoryEntryStream{ctx_.directory_streams.add(std::move(stream.value))});
  }

  FsResult<Unit> descriptor_create_directory_at(const types::DescriptorBorrow& self, const std::string& path) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    int err = check_directory(*d, true);
    return path_done("create-directory-at", path, err != 0 ? err : create_directory_at(d->fd->get(), path));
  }

  FsResult<types::DescriptorStat> descriptor_stat(const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    struct stat st {};
    if (::fstat(d->fd->get(), &st) != 0) return fail(errno);
    return ok(to_stat(st));
  }

  FsResult<types::DescriptorStat> descriptor_stat_at(const types::DescriptorBorrow& self,
                                                     const types::PathFlags& path_flags,
                                                     const std::string& path) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    auto st = stat_beneath(*d, path_flags, path);
    if (!st.ok()) return fail(st.error);
    return ok(to_stat(st.value));
  }

  FsResult<Unit> descriptor_set_times_at(const types::DescriptorBorrow& self, const types::PathFlags& path_flags,
                                         const std::string& path, const types::NewTimestamp& atime,
                                         const types::NewTimestamp& mtime) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (int err = check_directory(*d, true)) return refuse("set-times-at", path, err);
    std::array<timespec, 2> times{};
    if (!to_timespec(atime, times[0]) || !to_timespec(mtime, times[1])) return fail(EINVAL);
    return path_done("set-times-at", path, set_times_at(d->fd->get(), path_flags.symlink_follow, path, times));
  }

  FsResult<Unit> descriptor_link_at(const types::DescriptorBorrow& self, const types::PathFlags& old_path_flags,
                                    const std::string& old_path, const types::DescriptorBorrow& new_descriptor,
                                    const std::string& new_path) override {
    auto from = ctx_.descriptors.get(self.rep);
    auto to = ctx_.descriptors.get(new_descriptor.rep);
    if (!from || !to) return unknown_descriptor();
    // Both sides must allow changes: a second name for a file under a
    // read-only directory would let it be written through the new one.
    if (old_path_flags.symlink_follow) {
      // The kernel would follow a last symlink without staying beneath the
      // preopen, and hard-link whatever file it names.
      ctx_.refused("wasi:filesystem: link-at `" + old_path +
                   "` following symlinks refused: invalid (a symlink may name a file outside the preopen)");
      return fail(EINVAL);
    }
    int err = check_directory(*from, true);
    if (err == 0) err = check_directory(*to, true);
    if (err == 0) err = link_at(from->fd->get(), old_path_flags.symlink_follow, old_path, to->fd->get(), new_path);
    return path_done("link-at", old_path + "` -> `" + new_path, err);
  }

  FsResult<types::Descriptor> descriptor_open_at(const types::DescriptorBorrow& self,
                                                 const types::PathFlags& path_flags, const std::string& path,
                                                 const types::OpenFlags& open_flags,
                                                 const types::DescriptorFlags& flags) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    DescriptorOpen open;
    OpenRequest& request = open.request;
    request.follow = path_flags.symlink_follow;
    request.create = open_flags.create;
    request.exclusive = open_flags.exclusive;
    request.directory = open_flags.directory;
    request.truncate = open_flags.truncate;
    request.read = flags.read;
    request.write = flags.write;
    request.sync = flags.file_integrity_sync;
    request.dsync = flags.data_integrity_sync;
    request.rsync = flags.requested_write_sync;
    open.mutate_directory = flags.mutate_directory;
    auto out = open_descriptor_at(*d, path, open);
    if (!out.ok()) return refuse("open-at", path, out.error);
    return ok(types::Descriptor{ctx_.descriptors.add(std::move(out.value))});
  }

  FsResult<std::string> descriptor_readlink_at(const types::DescriptorBorrow& self, const std::string& path) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    if (int err = check_directory(*d, false)) return fail(err);
    auto target = readlink_at(d->fd->get(), path);
    if (!target.ok()) return fail(target.error);
    // A WIT string is UTF-8; a target that is not cannot be passed on.
    if (!valid_utf8(target.value)) return fail(EILSEQ);
    return ok(std::move(target.value));
  }

  FsResult<Unit> descriptor_remove_directory_at(const types::DescriptorBorrow& self, const std::string& path) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    int err = check_directory(*d, true);
    return path_done("remove-directory-at", path, err != 0 ? err : remove_directory_at(d->fd->get(), path));
  }

  FsResult<Unit> descriptor_rename_at(const types::DescriptorBorrow& self, const std::string& old_path,
                                      const types::DescriptorBorrow& new_descriptor,
                                      const std::string& new_path) override {
    auto from = ctx_.descriptors.get(self.rep);
    auto to = ctx_.descriptors.get(new_descriptor.rep);
    if (!from || !to) return unknown_descriptor();
    int err = check_directory(*from, true);
    if (err == 0) err = check_directory(*to, true);
    if (err == 0) err = rename_at(from->fd->get(), old_path, to->fd->get(), new_path);
    return path_done("rename-at", old_path + "` -> `" + new_path, err);
  }

  FsResult<Unit> descriptor_symlink_at(const types::DescriptorBorrow& self, const std::string& old_path,
                                       const std::string& new_path) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    int err = check_directory(*d, true);
    return path_done("symlink-at", new_path + "` -> `" + old_path,
                     err != 0 ? err : symlink_at(d->fd->get(), old_path, new_path));
  }

  FsResult<Unit> descriptor_unlink_file_at(const types::DescriptorBorrow& self, const std::string& path) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    int err = check_directory(*d, true);
    return path_done("unlink-file-at", path, err != 0 ? err : unlink_file_at(d->fd->get(), path));
  }

  HostResult<bool> descriptor_is_same_object(const types::DescriptorBorrow& self,
                                             const types::DescriptorBorrow& other) override {
    auto a = ctx_.descriptors.get(self.rep);
    auto b = ctx_.descriptors.get(other.rep);
    if (!a || !b) return unknown_descriptor();
    struct stat sa {};
    struct stat sb {};
    if (::fstat(a->fd->get(), &sa) != 0 || ::fstat(b->fd->get(), &sb) != 0) return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  }

  FsResult<types::MetadataHashValue> descriptor_metadata_hash(const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    struct stat st {};
    if (::fstat(d->fd->get(), &st) != 0) return fail(errno);
    return ok(metadata_hash(st));
  }

  FsResult<types::MetadataHashValue> descriptor_metadata_hash_at(const types::DescriptorBorrow& self,
                                                                 const types::PathFlags& path_flags,
                                                                 const std::string& path) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    auto st = stat_beneath(*d, path_flags, path);
    if (!st.ok()) return fail(st.error);
    return ok(metadata_hash(st.value));
  }

  FsResult<std::optional<types::DirectoryEntry>> directory_entry_stream_read_directory_entry(
      const types::DirectoryEntryStreamBorrow& self) override {
    auto s = ctx_.directory_streams.get(self.rep);
    if (!s) return guest_error("unknown directory-entry-stream");
    auto entry = next_directory_entry(*s);
    if (!entry.ok()) return fail(entry.error);
    if (!entry.value) return ok(std::optional<types::DirectoryEntry>());
    return ok(std::optional(types::DirectoryEntry{type_of(entry.value->type), std::move(entry.value->name)}));
  }

  HostResult<std::optional<ErrorCode>> filesystem_error_code(const ::wasi::io::error::ErrorBorrow& err) override {
    auto e = ctx_.errors.get(err.rep);
    if (!e) return guest_error("unknown error");
    if (e->error_code == 0) return std::optional<ErrorCode>();
    return std::optional(error_code(e->error_code));
  }

 private:
  static OrErrno<struct stat> stat_beneath(const Descriptor& d, const types::PathFlags& path_flags,
                                           const std::string& path) {
    if (int err = check_directory(d, false)) return {{}, err};
    return stat_at(d.fd->get(), path_flags.symlink_follow, path);
  }

  // Agrees with is-same-object and stays put while the file changes (the
  // preview 1 adapter reports it as the inode number).
  types::MetadataHashValue metadata_hash(const struct stat& st) const {
    auto [lower, upper] = identity_(st);
    return types::MetadataHashValue{lower, upper};
  }

  WasiCtx& ctx_;
  IdentityHasher identity_;
};

class PreopensHost final : public preopens::Host {
 public:
  PreopensHost(WasiCtx& ctx, std::vector<OpenPreopen> dirs) : ctx_(ctx), dirs_(std::move(dirs)) {}

  // Each call hands out new handles to the same open directories.
  HostResult<std::vector<std::tuple<types::Descriptor, std::string>>> get_directories() override {
    std::vector<std::tuple<types::Descriptor, std::string>> out;
    for (const auto& dir : dirs_) {
      auto d = preopen_descriptor(dir);
      out.emplace_back(types::Descriptor{ctx_.descriptors.add(std::move(d))}, dir.preopen.guest_path);
    }
    return out;
  }

 private:
  WasiCtx& ctx_;
  std::vector<OpenPreopen> dirs_;
};

}  // namespace

Result<void> define_filesystem(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources,
                               HostObjects& keep) {
  auto dirs = open_preopens(ctx.config.dirs);
  if (!dirs.ok()) return std::move(dirs).error();
  STRATUS_TRY(types::define(linker, keep.keep(std::make_shared<FilesystemHost>(ctx)), resources));
  STRATUS_TRY(preopens::define(linker, keep.keep(std::make_shared<PreopensHost>(ctx, std::move(*dirs))), resources));
  return {};
}

}  // namespace stratus::wasi::p2
