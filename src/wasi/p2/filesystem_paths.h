// Resolving a guest's path under a directory descriptor without ever
// leaving it: the kernel does the walk (openat2 with RESOLVE_BENEATH), so
// `..`, absolute paths and symlinks that climb out or point anywhere
// absolute all fail instead of escaping. Errors are errno values; one that
// would escape comes back as EPERM (wasi:filesystem's not-permitted), never
// as openat2's EXDEV, which callers would take for cross-device.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "wasi/p2/streams.h"

namespace stratus::wasi::p2 {

// A value, or the errno saying why not.
template <class T>
struct OrErrno {
  T value{};
  int error = 0;
  bool ok() const { return error == 0; }
};

// 0 when `path` may be resolved at all; EPERM for an absolute path, EINVAL
// for one holding a NUL (which would cut it short), ENOENT when empty.
int check_relative_path(const std::string& path);

// openat2(dirfd, path, flags, mode) with RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS. Without openat2 (ENOSYS) this fails with ENOTSUP:
// there is no unsafe fallback.
OrErrno<std::shared_ptr<OwnedFd>> open_beneath(int dirfd, const std::string& path, int flags, mode_t mode = 0);

// The directory holding the last component of `path` (opened beneath
// `dirfd`) and that component, for the *at calls that act on a name without
// following it. `name` never holds '/' and is never "..": a path ending in
// "..", or in '/' when trailing slashes are kept, names a directory, and
// comes back as that directory and ".". With `strip_trailing_slashes`
// ("dir/" for mkdir, rmdir, rename) they are dropped and `trailing_slash`
// says there were some.
struct ParentDir {
  std::shared_ptr<OwnedFd> owned;  // null when the parent is `dirfd` itself
  int fd = -1;
  std::string name;
  bool trailing_slash = false;
};
OrErrno<ParentDir> open_parent(int dirfd, const std::string& path, bool strip_trailing_slashes);

}  // namespace stratus::wasi::p2
