// Internal to preview1/: the state the host functions share and the table of
// implemented calls. Each call is a plain function over (state, guest memory,
// args), so it can be tested and read without any engine plumbing.
#pragma once

#include <sys/stat.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/engine.h"
#include "wasi/p2/filesystem_ops.h"
#include "wasi/p2/streams.h"
#include "wasi/preview1/abi.h"
#include "wasi/preview1/guest_memory.h"
#include "wasi/preview1/preview1.h"

namespace stratus::wasi::preview1 {

// A guest fd: stdio (a borrowed host fd), or a file or directory opened
// beneath a preopen (a host fd of its own, so each has its own position).
struct FdEntry {
  enum class Kind : uint8_t { Stdio, File, Directory };
  Kind kind = Kind::Stdio;
  std::shared_ptr<p2::OwnedFd> owned;  // files and directories
  int host_fd = -1;
  bool readable = false;  // files and stdio
  bool writable = false;
  uint16_t flags = 0;  // fdflags as the guest set them (append is also the host fd's O_APPEND)
  // Directories: may create, remove, rename and change what is below (false
  // under a read-only preopen); directories opened below inherit it.
  bool mutate_directory = false;
  std::optional<std::string> preopen;  // a preopened directory's guest path
};

struct State {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::map<uint32_t, FdEntry> fds;
  std::string error;  // why a preopen could not be opened, if one could not
  p2::IdentityHasher identity;

  explicit State(const Preview1Config& config);
  // nullptr when `fd` is not an open guest fd.
  FdEntry* fd(uint32_t fd);
  // The lowest free guest fd, or nullopt past kMaxFds open ones.
  std::optional<uint32_t> add(FdEntry entry);
  // What the guest sees as an inode number: the identity hash's first half,
  // stable for the instance, revealing neither device nor inode.
  uint64_t inode(const struct stat& st) const;
};

// Open guest fds an instance may hold (its host fds count against the
// process's limit too).
inline constexpr size_t kMaxFds = 4096;

// A call returns an errno for the guest, or a Trap that ends the guest (proc_exit).
using Outcome = std::variant<Errno, engine::Trap>;
using CallFn = Outcome (*)(State& state, GuestMemory& memory, std::span<const engine::Value> args);

struct CallSpec {
  std::string_view name;
  engine::FuncType type;
  CallFn fn;
};

// Every implemented call with its witx signature.
const std::vector<CallSpec>& implemented_calls();

// The calls, grouped by file.
Outcome args_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome args_sizes_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome environ_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome environ_sizes_get(State&, GuestMemory&, std::span<const engine::Value>);

Outcome clock_res_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome clock_time_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome poll_oneoff(State&, GuestMemory&, std::span<const engine::Value>);

Outcome fd_write(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_read(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_close(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_fdstat_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_seek(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_prestat_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_prestat_dir_name(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_pread(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_pwrite(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_tell(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_advise(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_allocate(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_datasync(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_sync(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_fdstat_set_flags(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_fdstat_set_rights(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_filestat_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_filestat_set_size(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_filestat_set_times(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_renumber(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_readdir(State&, GuestMemory&, std::span<const engine::Value>);

Outcome path_create_directory(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_filestat_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_filestat_set_times(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_link(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_open(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_readlink(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_remove_directory(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_rename(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_symlink(State&, GuestMemory&, std::span<const engine::Value>);
Outcome path_unlink_file(State&, GuestMemory&, std::span<const engine::Value>);

Outcome sock_accept(State&, GuestMemory&, std::span<const engine::Value>);
Outcome sock_recv(State&, GuestMemory&, std::span<const engine::Value>);
Outcome sock_send(State&, GuestMemory&, std::span<const engine::Value>);
Outcome sock_shutdown(State&, GuestMemory&, std::span<const engine::Value>);

Outcome proc_exit(State&, GuestMemory&, std::span<const engine::Value>);
Outcome sched_yield(State&, GuestMemory&, std::span<const engine::Value>);
Outcome random_get(State&, GuestMemory&, std::span<const engine::Value>);

// The file type of a host file mode.
uint8_t filetype_of(mode_t mode);
// Writes the filestat of `st` at `ptr` (checked by the caller).
void store_filestat(const State& state, GuestMemory& memory, uint32_t ptr, const struct stat& st);
// The access and modification times fd_filestat_set_times and
// path_filestat_set_times ask for, as utimensat takes them; EINVAL for
// unknown flags, or a time both given and "now".
Errno new_times(uint64_t atim, uint64_t mtim, uint32_t fstflags, std::array<timespec, 2>& out);

// Clock reading shared by clock_time_get and poll_oneoff.
bool read_clock(uint32_t id, uint64_t& out_ns);

}  // namespace stratus::wasi::preview1
