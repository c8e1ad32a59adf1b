// wasi:filesystem 0.3 (types, preopens) over the same descriptors, rights
// and path resolution as 0.2 (p2/filesystem.h, p2/filesystem_ops.h): no
// path leaves its preopen. The async functions do their (local, short)
// file I/O at once and answer inside the call; files are read and written
// through streams of bytes pumped as the guest takes or gives them
// (byte_pumps.h), and a directory is read as a stream of entries, a few at
// a time as the guest reads.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

#include "wasi/p2/filesystem.h"
#include "wasi/p2/filesystem_ops.h"
#include "wasi/p3/byte_pumps.h"
#include "wasi/p3/hosts.h"

namespace stratus::wasi::p3 {
namespace {

namespace types = ::p3::wasi::filesystem::types;
namespace preopens = ::p3::wasi::filesystem::preopens;
using component::CopyResult;
using component::HostElements;
using component::Val;
using p2::Descriptor;
using types::ErrorCode;
using wit::HostResult;
using wit::Reply;
using wit::Unit;
using wit::WitResult;

template <class T>
using FsResult = WitResult<T, ErrorCode>;
template <class T>
using FsReply = Reply<FsResult<T>>;
using StatusFuture = wit::Future<FsResult<Unit>>;

// The most entries one write to a directory stream offers.
constexpr size_t kEntriesPerWrite = 64;

ErrorCode error_code(int err) {
  struct Mapping {
    int err;
    ErrorCode code;
  };
  static const Mapping kMappings[] = {
      {EACCES, types::ErrorCodeAccess{}},
      {EALREADY, types::ErrorCodeAlready{}},
      {EBADF, types::ErrorCodeBadDescriptor{}},
      {EBUSY, types::ErrorCodeBusy{}},
      {EDEADLK, types::ErrorCodeDeadlock{}},
      {EDQUOT, types::ErrorCodeQuota{}},
      {EEXIST, types::ErrorCodeExist{}},
      {EFBIG, types::ErrorCodeFileTooLarge{}},
      {EILSEQ, types::ErrorCodeIllegalByteSequence{}},
      {EINPROGRESS, types::ErrorCodeInProgress{}},
      {EINTR, types::ErrorCodeInterrupted{}},
      {EINVAL, types::ErrorCodeInvalid{}},
      {EIO, types::ErrorCodeIo{}},
      {EISDIR, types::ErrorCodeIsDirectory{}},
      {ELOOP, types::ErrorCodeLoop{}},
      {EMLINK, types::ErrorCodeTooManyLinks{}},
      {EMSGSIZE, types::ErrorCodeMessageSize{}},
      {ENAMETOOLONG, types::ErrorCodeNameTooLong{}},
      {ENODEV, types::ErrorCodeNoDevice{}},
      {ENOENT, types::ErrorCodeNoEntry{}},
      {ENOLCK, types::ErrorCodeNoLock{}},
      {ENOMEM, types::ErrorCodeInsufficientMemory{}},
      {ENOSPC, types::ErrorCodeInsufficientSpace{}},
      {ENOTDIR, types::ErrorCodeNotDirectory{}},
      {ENOTEMPTY, types::ErrorCodeNotEmpty{}},
      {ENOTRECOVERABLE, types::ErrorCodeNotRecoverable{}},
      {ENOTSUP, types::ErrorCodeUnsupported{}},
      {ENOSYS, types::ErrorCodeUnsupported{}},
      {ENOTTY, types::ErrorCodeNoTty{}},
      {ENXIO, types::ErrorCodeNoSuchDevice{}},
      {EOVERFLOW, types::ErrorCodeOverflow{}},
      {EPERM, types::ErrorCodeNotPermitted{}},
      {EPIPE, types::ErrorCodePipe{}},
      {EROFS, types::ErrorCodeReadOnly{}},
      {ESPIPE, types::ErrorCodeInvalidSeek{}},
      {ETXTBSY, types::ErrorCodeTextFileBusy{}},
      {EXDEV, types::ErrorCodeCrossDevice{}},
  };
  for (const auto& m : kMappings) {
    if (m.err == err) return m.code;
  }
  // 0.3 names what it has no case for (0.2 said io).
  return types::ErrorCodeOther{std::string(std::strerror(err))};
}

template <class T>
void answer_ok(const FsReply<T>& reply, T value) {
  reply(FsResult<T>::ok(std::move(value)));
}
void answer_ok(const FsReply<Unit>& reply) { reply(FsResult<Unit>::ok(Unit{})); }
template <class T>
void answer_errno(const FsReply<T>& reply, int err) {
  reply(FsResult<T>::err(error_code(err)));
}
// The answer to an operation that returned 0 or an errno.
void answer(const FsReply<Unit>& reply, int err) {
  if (err != 0) {
    answer_errno(reply, err);
  } else {
    answer_ok(reply);
  }
}
// The answer to a syscall that returned 0 or -1 with errno.
void answer_syscall(const FsReply<Unit>& reply, int rc) { answer(reply, rc == 0 ? 0 : errno); }

engine::Trap unknown_descriptor() { return p2::guest_error("unknown descriptor"); }

types::DescriptorType type_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFBLK: return types::DescriptorTypeBlockDevice{};
    case S_IFCHR: return types::DescriptorTypeCharacterDevice{};
    case S_IFDIR: return types::DescriptorTypeDirectory{};
    case S_IFIFO: return types::DescriptorTypeFifo{};
    case S_IFLNK: return types::DescriptorTypeSymbolicLink{};
    case S_IFREG: return types::DescriptorTypeRegularFile{};
    case S_IFSOCK: return types::DescriptorTypeSocket{};
    default: return types::DescriptorTypeOther{};
  }
}

types::Instant instant(const timespec& ts) {
  return types::Instant{static_cast<int64_t>(ts.tv_sec), static_cast<uint32_t>(ts.tv_nsec)};
}

types::DescriptorStat to_stat(const struct stat& st) {
  return types::DescriptorStat{type_of(st.st_mode),
                               static_cast<uint64_t>(st.st_nlink),
                               static_cast<uint64_t>(st.st_size),
                               instant(st.st_atim),
                               instant(st.st_mtim),
                               instant(st.st_ctim)};
}

// false for a time the host cannot represent.
bool to_timespec(const types::NewTimestamp& t, timespec& out) {
  if (std::holds_alternative<types::NewTimestampNoChange>(t)) {
    out = {0, UTIME_OMIT};
  } else if (std::holds_alternative<types::NewTimestampNow>(t)) {
    out = {0, UTIME_NOW};
  } else {
    const auto& at = std::get<types::NewTimestampTimestamp>(t).value;
    if (at.nanoseconds >= 1'000'000'000u) return false;
    out = {static_cast<time_t>(at.seconds), static_cast<long>(at.nanoseconds)};
  }
  return true;
}

Val status_val(std::optional<ErrorCode> error) {
  wit::HostResourcesScope none(nullptr);
  return wit::to_val(error ? FsResult<Unit>::err(*error) : FsResult<Unit>::ok(Unit{}));
}

// Answers a stream's future with how its pump ended.
PumpDone answer_status(std::shared_ptr<component::HostWriteEnd> future) {
  return [future](std::optional<p2::StreamFailure> failure) {
    std::optional<ErrorCode> error;
    if (failure) error = error_code(failure->closed ? EPIPE : failure->error_code);
    answer_future(future, status_val(error));
  };
}

// A stream that fails before it starts: the guest's end is let go unread
// (its writes end DROPPED) and the future says why.
StatusFuture refuse(component::HostReadEnd data, int err) {
  data.drop();
  auto [done, future] = StatusFuture::make();
  answer_future(std::make_shared<component::HostWriteEnd>(std::move(done)), status_val(error_code(err)));
  return future;
}

// Fills a stream of directory-entry from a directory, as InputPump does
// bytes: nothing until the guest reads, then a few entries at a time.
class DirectoryPump : public std::enable_shared_from_this<DirectoryPump> {
 public:
  DirectoryPump(component::HostWriteEnd data, std::shared_ptr<p2::DirectoryEntryStream> dir, PumpDone done)
      : data_(std::move(data)), dir_(std::move(dir)), done_(std::move(done)) {}

  void wait_for_reader() {
    auto self = shared_from_this();
    auto ok = data_.write(HostElements::of_count(0), [self](CopyResult r, uint32_t) {
      if (r == CopyResult::Completed) {
        self->offer_entries();
      } else {
        self->finish(std::nullopt);
      }
    });
    if (!ok.ok()) finish(p2::StreamFailure::from_errno(EIO, ok.error().message));
  }

 private:
  void offer_entries() {
    auto entries = std::make_shared<std::vector<Val>>();
    wit::HostResourcesScope none(nullptr);
    while (entries->size() < kEntriesPerWrite) {
      auto next = p2::next_directory_entry(*dir_);
      if (!next.ok()) {
        finish(p2::StreamFailure::from_errno(next.error, "read-directory"));
        return;
      }
      if (!next.value) {
        at_end_ = true;
        break;
      }
      entries->push_back(types::to_val(types::DirectoryEntry{type_of(next.value->type), next.value->name}));
    }
    if (entries->empty()) {
      finish(std::nullopt);
      return;
    }
    write_rest(entries, 0);
  }

  void write_rest(const std::shared_ptr<std::vector<Val>>& entries, size_t from) {
    auto self = shared_from_this();
    std::vector<Val> rest(entries->begin() + static_cast<std::ptrdiff_t>(from), entries->end());
    auto ok = data_.write(HostElements::of_values(std::move(rest)), [self, entries, from](CopyResult r, uint32_t n) {
      bool more = r == CopyResult::Completed && (from + n < entries->size() || !self->at_end_);
      if (!more) {
        self->finish(std::nullopt);  // the guest let go of its end, or has every entry
      } else if (from + n < entries->size()) {
        self->write_rest(entries, from + n);
      } else {
        self->wait_for_reader();
      }
    });
    if (!ok.ok()) finish(p2::StreamFailure::from_errno(EIO, ok.error().message));
  }

  void finish(std::optional<p2::StreamFailure> failure) {
    data_.drop();
    if (done_) std::exchange(done_, nullptr)(std::move(failure));
  }

  component::HostWriteEnd data_;
  std::shared_ptr<p2::DirectoryEntryStream> dir_;
  PumpDone done_;
  bool at_end_ = false;
};

class FilesystemHost final : public types::Host {
 public:
  explicit FilesystemHost(WasiCtx& ctx) : ctx_(ctx) {}

  void drop_descriptor(uint32_t rep) override { ctx_.descriptors.remove(rep); }

  HostResult<std::tuple<wit::Stream<uint8_t>, StatusFuture>> descriptor_read_via_stream(
      const types::DescriptorBorrow& self, const types::Filesize& offset) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    auto [data, stream] = wit::Stream<uint8_t>::make();
    auto [done, future] = StatusFuture::make();
    auto finish = answer_status(std::make_shared<component::HostWriteEnd>(std::move(done)));
    int err = p2::check_file(*d, d->read);
    if (err == 0 && offset > INT64_MAX) err = EINVAL;
    if (err != 0) {
      data.drop();
      finish(p2::StreamFailure::from_errno(err, "read-via-stream"));
    } else {
      pump_from_input(std::move(data), p2::file_input(d->fd, offset), std::move(finish));
    }
    return std::make_tuple(stream, future);
  }

  HostResult<StatusFuture> descriptor_write_via_stream(const types::DescriptorBorrow& self,
                                                       const wit::Stream<uint8_t>& data,
                                                       const types::Filesize& offset) override {
    return write(self, data, offset, false);
  }
  HostResult<StatusFuture> descriptor_append_via_stream(const types::DescriptorBorrow& self,
                                                        const wit::Stream<uint8_t>& data) override {
    return write(self, data, 0, true);
  }

  void descriptor_advise(const types::DescriptorBorrow& self, const types::Filesize& offset,
                         const types::Filesize& length, const types::Advice& advice, FsReply<Unit> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    // A directory is no file to advise about: bad-descriptor (0.2 said
    // is-directory).
    if (d->is_directory) return answer_errno(reply, EBADF);
    if (offset > INT64_MAX || length > INT64_MAX) return answer_errno(reply, EINVAL);
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
    answer(reply, ::posix_fadvise(d->fd->get(), static_cast<off_t>(offset), static_cast<off_t>(length), how));
  }

  // Both succeed with no effect on a file not open for writing; a
  // directory is synced so that entries made in it last.
  void descriptor_sync_data(const types::DescriptorBorrow& self, FsReply<Unit> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    if (!d->is_directory && !d->write) return answer_ok(reply);
    answer_syscall(reply, ::fdatasync(d->fd->get()));
  }
  void descriptor_sync(const types::DescriptorBorrow& self, FsReply<Unit> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    if (!d->is_directory && !d->write) return answer_ok(reply);
    answer_syscall(reply, ::fsync(d->fd->get()));
  }

  void descriptor_get_flags(const types::DescriptorBorrow& self, FsReply<types::DescriptorFlags> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    types::DescriptorFlags flags;
    flags.read = d->read;
    flags.write = d->write;
    flags.file_integrity_sync = d->file_integrity_sync;
    flags.data_integrity_sync = d->data_integrity_sync;
    flags.requested_write_sync = d->requested_write_sync;
    flags.mutate_directory = d->is_directory && d->asked_mutate_directory;
    answer_ok(reply, flags);
  }

  void descriptor_get_type(const types::DescriptorBorrow& self, FsReply<types::DescriptorType> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    struct stat st {};
    if (::fstat(d->fd->get(), &st) != 0) return answer_errno(reply, errno);
    answer_ok(reply, type_of(st.st_mode));
  }

  void descriptor_set_size(const types::DescriptorBorrow& self, const types::Filesize& size,
                           FsReply<Unit> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    if (d->is_directory) return answer_errno(reply, EISDIR);
    if (!d->write) return answer_errno(reply, EBADF);
    if (size > INT64_MAX) return answer_errno(reply, EFBIG);
    answer_syscall(reply, ::ftruncate(d->fd->get(), static_cast<off_t>(size)));
  }

  void descriptor_set_times(const types::DescriptorBorrow& self, const types::NewTimestamp& atime,
                            const types::NewTimestamp& mtime, FsReply<Unit> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    if (d->is_directory && !d->mutate_directory) return answer_errno(reply, EROFS);
    if (!d->is_directory && !d->write && !d->may_set_times) return answer_errno(reply, EBADF);
    std::array<timespec, 2> times{};
    if (!to_timespec(atime, times[0]) || !to_timespec(mtime, times[1])) return answer_errno(reply, EINVAL);
    answer_syscall(reply, ::utimensat(d->fd->get(), "", times.data(), AT_EMPTY_PATH));
  }

  HostResult<std::tuple<wit::Stream<types::DirectoryEntry>, StatusFuture>> descriptor_read_directory(
      const types::DescriptorBorrow& self) override {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    auto [data, stream] = wit::Stream<types::DirectoryEntry>::make();
    auto [done, future] = StatusFuture::make();
    auto finish = answer_status(std::make_shared<component::HostWriteEnd>(std::move(done)));
    auto entries = p2::open_directory_entries(*d);
    if (!entries.ok()) {
      data.drop();
      finish(p2::StreamFailure::from_errno(entries.error, "read-directory"));
    } else {
      std::make_shared<DirectoryPump>(std::move(data), std::move(entries.value), std::move(finish))->wait_for_reader();
    }
    return std::make_tuple(stream, future);
  }

  void descriptor_create_directory_at(const types::DescriptorBorrow& self, const std::string& path,
                                      FsReply<Unit> reply) override {
    auto d = directory(self, true, reply);
    if (!d) return;
    answer(reply, p2::create_directory_at(d->fd->get(), path));
  }

  void descriptor_stat(const types::DescriptorBorrow& self, FsReply<types::DescriptorStat> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    struct stat st {};
    if (::fstat(d->fd->get(), &st) != 0) return answer_errno(reply, errno);
    answer_ok(reply, to_stat(st));
  }

  void descriptor_stat_at(const types::DescriptorBorrow& self, const types::PathFlags& path_flags,
                          const std::string& path, FsReply<types::DescriptorStat> reply) override {
    auto d = directory(self, false, reply);
    if (!d) return;
    auto st = p2::stat_at(d->fd->get(), path_flags.symlink_follow, path);
    if (!st.ok()) return answer_errno(reply, st.error);
    answer_ok(reply, to_stat(st.value));
  }

  void descriptor_set_times_at(const types::DescriptorBorrow& self, const types::PathFlags& path_flags,
                               const std::string& path, const types::NewTimestamp& atime,
                               const types::NewTimestamp& mtime, FsReply<Unit> reply) override {
    auto d = directory(self, true, reply);
    if (!d) return;
    std::array<timespec, 2> times{};
    if (!to_timespec(atime, times[0]) || !to_timespec(mtime, times[1])) return answer_errno(reply, EINVAL);
    answer(reply, p2::set_times_at(d->fd->get(), path_flags.symlink_follow, path, times));
  }

  void descriptor_link_at(const types::DescriptorBorrow& self, const types::PathFlags& old_path_flags,
                          const std::string& old_path, const types::DescriptorBorrow& new_descriptor,
                          const std::string& new_path, FsReply<Unit> reply) override {
    // Both sides must allow changes: a second name for a file under a
    // read-only directory would let it be written through the new one.
    auto from = directory(self, true, reply);
    if (!from) return;
    auto to = directory(new_descriptor, true, reply);
    if (!to) return;
    answer(reply, p2::link_at(from->fd->get(), old_path_flags.symlink_follow, old_path, to->fd->get(), new_path));
  }

  void descriptor_open_at(const types::DescriptorBorrow& self, const types::PathFlags& path_flags,
                          const std::string& path, const types::OpenFlags& open_flags,
                          const types::DescriptorFlags& flags, FsReply<types::Descriptor> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    p2::DescriptorOpen open;
    p2::OpenRequest& request = open.request;
    request.follow = path_flags.symlink_follow;
    request.create = open_flags.create;
    request.exclusive = open_flags.exclusive;
    request.directory = open_flags.directory;
    request.truncate = open_flags.truncate;
    // 0.3's defaults: create implies write, and a descriptor asked for
    // neither read nor write reads.
    request.write = flags.write || open_flags.create;
    request.read = flags.read || !flags.write;
    request.sync = flags.file_integrity_sync;
    request.dsync = flags.data_integrity_sync;
    request.rsync = flags.requested_write_sync;
    open.mutate_directory = flags.mutate_directory;
    auto out = p2::open_descriptor_at(*d, path, open);
    if (!out.ok()) return answer_errno(reply, out.error);
    answer_ok(reply, types::Descriptor{ctx_.descriptors.add(std::move(out.value))});
  }

  void descriptor_readlink_at(const types::DescriptorBorrow& self, const std::string& path,
                              FsReply<std::string> reply) override {
    auto d = directory(self, false, reply);
    if (!d) return;
    auto target = p2::readlink_at(d->fd->get(), path);
    if (!target.ok()) return answer_errno(reply, target.error);
    // A WIT string is UTF-8; a target that is not cannot be passed on.
    if (!p2::valid_utf8(target.value)) return answer_errno(reply, EILSEQ);
    answer_ok(reply, std::move(target.value));
  }

  void descriptor_remove_directory_at(const types::DescriptorBorrow& self, const std::string& path,
                                      FsReply<Unit> reply) override {
    auto d = directory(self, true, reply);
    if (!d) return;
    answer(reply, p2::remove_directory_at(d->fd->get(), path));
  }

  void descriptor_rename_at(const types::DescriptorBorrow& self, const std::string& old_path,
                            const types::DescriptorBorrow& new_descriptor, const std::string& new_path,
                            FsReply<Unit> reply) override {
    auto from = directory(self, true, reply);
    if (!from) return;
    auto to = directory(new_descriptor, true, reply);
    if (!to) return;
    answer(reply, p2::rename_at(from->fd->get(), old_path, to->fd->get(), new_path));
  }

  void descriptor_symlink_at(const types::DescriptorBorrow& self, const std::string& old_path,
                             const std::string& new_path, FsReply<Unit> reply) override {
    auto d = directory(self, true, reply);
    if (!d) return;
    answer(reply, p2::symlink_at(d->fd->get(), old_path, new_path));
  }

  void descriptor_unlink_file_at(const types::DescriptorBorrow& self, const std::string& path,
                                 FsReply<Unit> reply) override {
    auto d = directory(self, true, reply);
    if (!d) return;
    answer(reply, p2::unlink_file_at(d->fd->get(), path));
  }

  void descriptor_is_same_object(const types::DescriptorBorrow& self, const types::DescriptorBorrow& other,
                                 Reply<bool> reply) override {
    auto a = descriptor(self, reply);
    if (!a) return;
    auto b = descriptor(other, reply);
    if (!b) return;
    struct stat sa {};
    struct stat sb {};
    if (::fstat(a->fd->get(), &sa) != 0 || ::fstat(b->fd->get(), &sb) != 0) return reply(false);
    reply(sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
  }

  void descriptor_metadata_hash(const types::DescriptorBorrow& self, FsReply<types::MetadataHashValue> reply) override {
    auto d = descriptor(self, reply);
    if (!d) return;
    struct stat st {};
    if (::fstat(d->fd->get(), &st) != 0) return answer_errno(reply, errno);
    answer_ok(reply, metadata_hash(st));
  }

  void descriptor_metadata_hash_at(const types::DescriptorBorrow& self, const types::PathFlags& path_flags,
                                   const std::string& path, FsReply<types::MetadataHashValue> reply) override {
    auto d = directory(self, false, reply);
    if (!d) return;
    auto st = p2::stat_at(d->fd->get(), path_flags.symlink_follow, path);
    if (!st.ok()) return answer_errno(reply, st.error);
    answer_ok(reply, metadata_hash(st.value));
  }

 private:
  // The descriptor behind `handle`; a handle the host does not know traps
  // the caller (nullptr then).
  template <class R>
  std::shared_ptr<Descriptor> descriptor(const types::DescriptorBorrow& handle, const R& reply) {
    auto d = ctx_.descriptors.get(handle.rep);
    if (!d) reply.trap(unknown_descriptor());
    return d;
  }

  // The same, for a directory paths are resolved under (that allows
  // changes below it when `mutates`); otherwise answers the error, and
  // nullptr.
  template <class T>
  std::shared_ptr<Descriptor> directory(const types::DescriptorBorrow& handle, bool mutates, const FsReply<T>& reply) {
    auto d = descriptor(handle, reply);
    if (!d) return nullptr;
    if (int err = p2::check_directory(*d, mutates)) {
      answer_errno(reply, err);
      return nullptr;
    }
    return d;
  }

  HostResult<StatusFuture> write(const types::DescriptorBorrow& self, const wit::Stream<uint8_t>& data,
                                 types::Filesize offset, bool append) {
    auto d = ctx_.descriptors.get(self.rep);
    if (!d) return unknown_descriptor();
    auto reader = data.reader();
    if (!reader.ok()) return p2::guest_error("write-via-stream: " + reader.error().message);
    int err = p2::check_file(*d, d->write);
    if (err == 0 && offset > INT64_MAX) err = EFBIG;
    if (err != 0) return refuse(std::move(*reader), err);
    auto [done, future] = StatusFuture::make();
    pump_to_output(std::move(*reader), p2::file_output(d->fd, offset, append),
                   answer_status(std::make_shared<component::HostWriteEnd>(std::move(done))));
    return future;
  }

  // Agrees with is-same-object and stays put while the file changes.
  types::MetadataHashValue metadata_hash(const struct stat& st) const {
    auto [lower, upper] = identity_(st);
    return types::MetadataHashValue{lower, upper};
  }

  WasiCtx& ctx_;
  p2::IdentityHasher identity_;
};

class PreopensHost final : public preopens::Host {
 public:
  PreopensHost(WasiCtx& ctx, std::vector<p2::OpenPreopen> dirs) : ctx_(ctx), dirs_(std::move(dirs)) {}

  // Each call hands out new handles to the same open directories.
  HostResult<std::vector<std::tuple<types::Descriptor, std::string>>> get_directories() override {
    std::vector<std::tuple<types::Descriptor, std::string>> out;
    for (const auto& dir : dirs_) {
      out.emplace_back(types::Descriptor{ctx_.descriptors.add(p2::preopen_descriptor(dir))}, dir.preopen.guest_path);
    }
    return out;
  }

 private:
  WasiCtx& ctx_;
  std::vector<p2::OpenPreopen> dirs_;
};

}  // namespace

Result<void> define_filesystem(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources,
                               HostObjects& keep) {
  auto dirs = p2::open_preopens(ctx.config.dirs);
  if (!dirs.ok()) return std::move(dirs).error();
  auto& fs = keep.keep(std::make_shared<FilesystemHost>(ctx));
  STRATUS_TRY(define_versions(linker, types::kInterface, types::make_host_instance(fs, resources)));
  auto& pre = keep.keep(std::make_shared<PreopensHost>(ctx, std::move(*dirs)));
  STRATUS_TRY(define_versions(linker, preopens::kInterface, preopens::make_host_instance(pre, resources)));
  return {};
}

}  // namespace stratus::wasi::p3
