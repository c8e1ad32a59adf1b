// proc_exit, sched_yield and random_get.
#include <sched.h>
#include <sys/random.h>

#include <cerrno>
#include <string>

#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {

// Exit unwinds the guest as a trap; run_command turns it into the exit code.
Outcome proc_exit(State&, GuestMemory&, std::span<const engine::Value> a) {
  uint32_t code = a[0].i32();
  return engine::Trap{engine::TrapKind::Exit, "exit with code " + std::to_string(code), static_cast<int>(code)};
}

Outcome sched_yield(State&, GuestMemory&, std::span<const engine::Value>) {
  ::sched_yield();
  return Errno::Success;
}

Outcome random_get(State&, GuestMemory& mem, std::span<const engine::Value> a) {
  auto buf = mem.bytes(a[0].i32(), a[1].i32());
  if (!buf) return Errno::Fault;
  size_t done = 0;
  while (done < buf->size()) {
    ssize_t n = ::getrandom(buf->data() + done, buf->size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_from_host(errno);
    }
    done += static_cast<size_t>(n);
  }
  return Errno::Success;
}

}  // namespace stratus::wasi::preview1
