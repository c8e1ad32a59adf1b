// wasi:filesystem's host objects: descriptors (an open file or directory
// under a preopen) and directory entry streams, and what a descriptor's
// rights allow: the rules WASI 0.2 and 0.3 both apply, in the types of
// neither (p2/filesystem.cc and p3/filesystem.cc turn errno values into
// their own error-code).
#pragma once

#include <dirent.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/result.h"
#include "wasi/p2/ctx.h"
#include "wasi/p2/filesystem_ops.h"
#include "wasi/p2/streams.h"

namespace stratus::wasi::p2 {

struct Descriptor {
  std::shared_ptr<OwnedFd> fd;
  bool is_directory = false;
  bool read = false;   // descriptor-flags.read
  bool write = false;  // descriptor-flags.write
  // May create, remove and rename entries below, change what is below, and
  // hand out descriptors that may (false under a read-only preopen, whatever
  // the guest asks for). Directories opened under this one inherit it.
  bool mutate_directory = false;
  // A directory: whether it was opened asking for mutate-directory (or is a
  // preopen that allows changes), which 0.3's get-flags reports; what it
  // may do is mutate_directory.
  bool asked_mutate_directory = false;
  // A file opened under a directory that allows changes: its times may be
  // set without the write right (as the owner of the file may).
  bool may_set_times = false;
  // What the guest asked for at open-at (O_SYNC, O_DSYNC, O_RSYNC), reported
  // back by get-flags.
  bool file_integrity_sync = false;
  bool data_integrity_sync = false;
  bool requested_write_sync = false;
  std::string guest_path;  // for messages
};

// Entries are read from the directory as the guest asks for them, so a large
// directory costs the host no more than one entry at a time.
struct DirectoryEntryStream {
  struct Closer {
    void operator()(DIR* dir) const { ::closedir(dir); }
  };
  std::unique_ptr<DIR, Closer> dir;
};

// Whether `d` is a directory paths may be resolved under, and allows
// mutating what is below when `mutates`: 0, or the errno saying why not.
int check_directory(const Descriptor& d, bool mutates);
// Whether `d` is a file that allows the operation (`allowed`, one of its
// read or write rights): 0, or the errno saying why not.
int check_file(const Descriptor& d, bool allowed);

// What open-at asks for beyond the path: the open itself (`request`: its
// read, write and sync fields are the descriptor-flags of the same names)
// and mutate-directory.
struct DescriptorOpen {
  OpenRequest request;
  bool mutate_directory = false;
};
// Opens `path` beneath the directory `dir` as a new descriptor, which may
// not do more than `dir` allows (EROFS for writes under a read-only one).
OrErrno<std::shared_ptr<Descriptor>> open_descriptor_at(const Descriptor& dir, const std::string& path,
                                                        const DescriptorOpen& open);

// A stream of the entries of the directory `d` from its first, on a
// descriptor of its own.
OrErrno<std::shared_ptr<DirectoryEntryStream>> open_directory_entries(const Descriptor& d);
// The next entry other than "." and "..", nullopt at the end. `type` is
// the entry's S_IFMT bits (asked of the filesystem when readdir does not
// say; 0 when it cannot tell). A name that is not UTF-8 is EILSEQ: a WIT
// string cannot hold it.
struct DirectoryEntryInfo {
  mode_t type = 0;
  std::string name;
};
OrErrno<std::optional<DirectoryEntryInfo>> next_directory_entry(DirectoryEntryStream& s);

bool valid_utf8(const std::string& s);

// The preopens' host directories, opened once when a linker is set up;
// each get-directories hands out new descriptors of them.
struct OpenPreopen {
  std::shared_ptr<OwnedFd> fd;
  Preopen preopen;
};
Result<std::vector<OpenPreopen>> open_preopens(const std::vector<Preopen>& dirs);
std::shared_ptr<Descriptor> preopen_descriptor(const OpenPreopen& dir);

}  // namespace stratus::wasi::p2
