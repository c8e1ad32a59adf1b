#include "wasi/p2/filesystem_paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace stratus::wasi::p2 {
namespace {

// openat2 fails with EAGAIN when a rename or mount raced the walk; the walk
// is safe to repeat, a few times.
constexpr int kRaceRetries = 8;

}  // namespace

int check_relative_path(const std::string& path) {
  if (path.empty()) return ENOENT;
  if (path.front() == '/') return EPERM;
  if (path.find('\0') != std::string::npos) return EINVAL;
  return 0;
}

OrErrno<std::shared_ptr<OwnedFd>> open_beneath(int dirfd, const std::string& path, int flags, mode_t mode) {
  if (int err = check_relative_path(path)) return {nullptr, err};
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return {std::make_shared<OwnedFd>(static_cast<int>(fd)), 0};
    int err = errno;
    if (err == EINTR || (err == EAGAIN && attempt < kRaceRetries)) continue;
    if (err == EXDEV) return {nullptr, EPERM};
    // No openat2 (before Linux 5.6, or filtered by seccomp): resolving
    // paths any other way is where sandboxes leak, so refuse.
    if (err == ENOSYS || err == E2BIG) return {nullptr, ENOTSUP};
    return {nullptr, err};
  }
}

OrErrno<ParentDir> open_parent(int dirfd, const std::string& path, bool strip_trailing_slashes) {
  if (int err = check_relative_path(path)) return {{}, err};
  ParentDir out;
  std::string p = path;
  if (strip_trailing_slashes) {
    // Not absolute, so at least one character other than '/' stays.
    while (p.back() == '/') {
      p.pop_back();
      out.trailing_slash = true;
    }
  }
  std::string parent;
  if (p.back() == '/') {
    parent = p;
    out.name = ".";
  } else {
    size_t slash = p.rfind('/');
    parent = slash == std::string::npos ? "" : p.substr(0, slash + 1);
    out.name = p.substr(slash == std::string::npos ? 0 : slash + 1);
    if (out.name == "..") {
      parent = p;
      out.name = ".";
    }
  }
  if (parent.empty()) {
    out.fd = dirfd;
    return {std::move(out), 0};
  }
  auto dir = open_beneath(dirfd, parent, O_PATH | O_DIRECTORY);
  if (!dir.ok()) return {{}, dir.error};
  out.owned = std::move(dir.value);
  out.fd = out.owned->get();
  return {std::move(out), 0};
}

}  // namespace stratus::wasi::p2
