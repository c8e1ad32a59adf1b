// What wasi:filesystem and preview 1 both do beneath a directory: each
// operation resolves its paths with filesystem_paths.h (never leaving
// `dirfd`) and returns 0 or an errno. None checks what the caller's
// descriptor may do; callers check their own rights first.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <array>
#include <memory>
#include <string>

#include "wasi/p2/filesystem_paths.h"

namespace stratus::wasi::p2 {

int create_directory_at(int dirfd, const std::string& path);
int remove_directory_at(int dirfd, const std::string& path);
int unlink_file_at(int dirfd, const std::string& path);
int rename_at(int old_dirfd, const std::string& old_path, int new_dirfd, const std::string& new_path);
// `target` is stored as given; an absolute one is EPERM (it could only
// point out of the sandbox).
int symlink_at(int dirfd, const std::string& target, const std::string& path);
// Following a symlink at `old_path` is EINVAL: linkat would follow it
// outside the sandbox by itself.
int link_at(int old_dirfd, bool follow, const std::string& old_path, int new_dirfd, const std::string& new_path);
// The link's target; an absolute one is EPERM (the guest has no business
// knowing host paths).
OrErrno<std::string> readlink_at(int dirfd, const std::string& path);
OrErrno<struct stat> stat_at(int dirfd, bool follow, const std::string& path);
// times[0] is the access time, times[1] the modification time, as for
// utimensat (UTIME_NOW and UTIME_OMIT allowed).
int set_times_at(int dirfd, bool follow, const std::string& path, const std::array<timespec, 2>& times);

struct OpenRequest {
  bool follow = false;  // follow a symlink in the last component
  bool create = false;
  bool exclusive = false;
  bool directory = false;
  bool truncate = false;
  bool read = false;
  bool write = false;
  bool sync = false;   // O_SYNC
  bool dsync = false;  // O_DSYNC
  bool rsync = false;  // O_RSYNC
};
struct Opened {
  std::shared_ptr<OwnedFd> fd;
  struct stat st {};
};
// Opens `path` beneath `dirfd` in blocking mode (a FIFO without a writer
// does not hold the host in the open itself). create with directory is EINVAL.
OrErrno<Opened> open_at(int dirfd, const std::string& path, const OpenRequest& request);

// A keyed hash of what identifies a file (its device and inode): stable
// while the file changes, the same for two names of one file, and revealing
// neither number. wasi:filesystem's metadata-hash and preview 1's inode
// numbers. Each hasher has a random key; losing it to a getrandom failure
// (an all-zero key) loses only the hiding.
class IdentityHasher {
 public:
  IdentityHasher();
  std::array<uint64_t, 2> operator()(const struct stat& st) const;

 private:
  std::array<uint8_t, 32> key_{};
};

}  // namespace stratus::wasi::p2
