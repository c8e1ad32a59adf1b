// wasi:filesystem's host objects: descriptors (an open file or directory
// under a preopen) and directory entry streams.
#pragma once

#include <dirent.h>

#include <memory>
#include <string>

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

}  // namespace stratus::wasi::p2
