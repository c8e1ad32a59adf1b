#include "wasi/p2/filesystem_ops.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <span>

#include "support/hash.h"

namespace stratus::wasi::p2 {

int create_directory_at(int dirfd, const std::string& path) {
  auto parent = open_parent(dirfd, path, true);
  if (!parent.ok()) return parent.error;
  return ::mkdirat(parent.value.fd, parent.value.name.c_str(), 0777) == 0 ? 0 : errno;
}

int remove_directory_at(int dirfd, const std::string& path) {
  auto parent = open_parent(dirfd, path, true);
  if (!parent.ok()) return parent.error;
  return ::unlinkat(parent.value.fd, parent.value.name.c_str(), AT_REMOVEDIR) == 0 ? 0 : errno;
}

int unlink_file_at(int dirfd, const std::string& path) {
  auto parent = open_parent(dirfd, path, false);
  if (!parent.ok()) return parent.error;
  return ::unlinkat(parent.value.fd, parent.value.name.c_str(), 0) == 0 ? 0 : errno;
}

int rename_at(int old_dirfd, const std::string& old_path, int new_dirfd, const std::string& new_path) {
  auto old_parent = open_parent(old_dirfd, old_path, true);
  if (!old_parent.ok()) return old_parent.error;
  auto new_parent = open_parent(new_dirfd, new_path, true);
  if (!new_parent.ok()) return new_parent.error;
  const ParentDir& o = old_parent.value;
  const ParentDir& n = new_parent.value;
  if (o.trailing_slash || n.trailing_slash) {
    // "a/" names a directory; renameat, given "a", would not check.
    struct stat st {};
    if (::fstatat(o.fd, o.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
    if (!S_ISDIR(st.st_mode)) return ENOTDIR;
  }
  return ::renameat(o.fd, o.name.c_str(), n.fd, n.name.c_str()) == 0 ? 0 : errno;
}

int symlink_at(int dirfd, const std::string& target, const std::string& path) {
  if (!target.empty() && target.front() == '/') return EPERM;
  if (target.find('\0') != std::string::npos) return EINVAL;
  auto parent = open_parent(dirfd, path, false);
  if (!parent.ok()) return parent.error;
  return ::symlinkat(target.c_str(), parent.value.fd, parent.value.name.c_str()) == 0 ? 0 : errno;
}

int link_at(int old_dirfd, bool follow, const std::string& old_path, int new_dirfd, const std::string& new_path) {
  if (follow) return EINVAL;
  auto old_parent = open_parent(old_dirfd, old_path, false);
  if (!old_parent.ok()) return old_parent.error;
  auto new_parent = open_parent(new_dirfd, new_path, false);
  if (!new_parent.ok()) return new_parent.error;
  return ::linkat(old_parent.value.fd, old_parent.value.name.c_str(), new_parent.value.fd,
                  new_parent.value.name.c_str(), 0) == 0
             ? 0
             : errno;
}

OrErrno<std::string> readlink_at(int dirfd, const std::string& path) {
  auto parent = open_parent(dirfd, path, false);
  if (!parent.ok()) return {{}, parent.error};
  std::string target(PATH_MAX, '\0');
  ssize_t n = ::readlinkat(parent.value.fd, parent.value.name.c_str(), target.data(), target.size());
  if (n < 0) return {{}, errno};
  if (static_cast<size_t>(n) == target.size()) return {{}, ENAMETOOLONG};
  target.resize(static_cast<size_t>(n));
  if (!target.empty() && target.front() == '/') return {{}, EPERM};
  return {std::move(target), 0};
}

OrErrno<struct stat> stat_at(int dirfd, bool follow, const std::string& path) {
  auto target = open_beneath(dirfd, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
  if (!target.ok()) return {{}, target.error};
  struct stat st {};
  if (::fstat(target.value->get(), &st) != 0) return {{}, errno};
  return {st, 0};
}

int set_times_at(int dirfd, bool follow, const std::string& path, const std::array<timespec, 2>& times) {
  // Resolved beneath the directory first, then changed through that
  // descriptor: utimensat itself never walks the path.
  auto target = open_beneath(dirfd, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
  if (!target.ok()) return target.error;
  return ::utimensat(target.value->get(), "", times.data(), AT_EMPTY_PATH) == 0 ? 0 : errno;
}

IdentityHasher::IdentityHasher() {
  if (::getrandom(key_.data(), key_.size(), 0) != static_cast<ssize_t>(key_.size())) key_.fill(0);
}

std::array<uint64_t, 2> IdentityHasher::operator()(const struct stat& st) const {
  Sha256 h;
  h.update(std::span<const uint8_t>(key_));
  h.update(std::span(reinterpret_cast<const uint8_t*>(&st.st_dev), sizeof st.st_dev));
  h.update(std::span(reinterpret_cast<const uint8_t*>(&st.st_ino), sizeof st.st_ino));
  std::string hex = h.hex();
  return {std::strtoull(hex.substr(0, 16).c_str(), nullptr, 16),
          std::strtoull(hex.substr(16, 16).c_str(), nullptr, 16)};
}

OrErrno<Opened> open_at(int dirfd, const std::string& path, const OpenRequest& r) {
  if (r.create && r.directory) return {{}, EINVAL};
  // O_NONBLOCK only for the open itself: a FIFO without a writer would
  // otherwise hold the host here.
  int how = O_NOCTTY | O_NONBLOCK;
  if (r.write) {
    how |= r.read ? O_RDWR : O_WRONLY;
  } else {
    how |= O_RDONLY;
  }
  if (!r.follow) how |= O_NOFOLLOW;
  if (r.create) how |= O_CREAT | (r.exclusive ? O_EXCL : 0);
  if (r.directory) how |= O_DIRECTORY;
  if (r.truncate) how |= O_TRUNC;
  if (r.sync) how |= O_SYNC;
  if (r.dsync) how |= O_DSYNC;
  if (r.rsync) how |= O_RSYNC;
  auto opened = open_beneath(dirfd, path, how, 0666);
  if (!opened.ok()) return {{}, opened.error};
  Opened out;
  out.fd = std::move(opened.value);
  int fd = out.fd->get();
  int status = ::fcntl(fd, F_GETFL);
  if (status < 0 || ::fcntl(fd, F_SETFL, status & ~O_NONBLOCK) != 0) return {{}, errno};
  if (::fstat(fd, &out.st) != 0) return {{}, errno};
  return {std::move(out), 0};
}

}  // namespace stratus::wasi::p2
