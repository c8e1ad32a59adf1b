// args_* and environ_*: the guest gets NUL-terminated strings in one buffer
// and an array of pointers into it, as C's argv/environ.
#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

Outcome strings_sizes(const std::vector<std::string>& strings, GuestMemory& mem, uint32_t count_ptr,
                      uint32_t size_ptr) {
  uint64_t total = 0;
  for (const auto& s : strings) total += s.size() + 1;
  if (total > UINT32_MAX || strings.size() > UINT32_MAX) return Errno::Overflow;
  if (!mem.store<uint32_t>(count_ptr, static_cast<uint32_t>(strings.size()))) return Errno::Fault;
  if (!mem.store<uint32_t>(size_ptr, static_cast<uint32_t>(total))) return Errno::Fault;
  return Errno::Success;
}

Outcome strings_get(const std::vector<std::string>& strings, GuestMemory& mem, uint32_t ptrs, uint32_t buf) {
  uint64_t offset = buf;
  for (size_t i = 0; i < strings.size(); ++i) {
    // A pointer past 4 GiB cannot be stored in the guest's u32 slot.
    if (offset > UINT32_MAX) return Errno::Fault;
    if (!mem.store<uint32_t>(uint64_t{ptrs} + 4 * i, static_cast<uint32_t>(offset))) return Errno::Fault;
    const auto& s = strings[i];
    if (!mem.store_string(offset, s) || !mem.store<uint8_t>(offset + s.size(), 0)) return Errno::Fault;
    offset += s.size() + 1;
  }
  return Errno::Success;
}

}  // namespace

Outcome args_sizes_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  return strings_sizes(st.args, mem, a[0].i32(), a[1].i32());
}
Outcome args_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  return strings_get(st.args, mem, a[0].i32(), a[1].i32());
}
Outcome environ_sizes_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  return strings_sizes(st.env, mem, a[0].i32(), a[1].i32());
}
Outcome environ_get(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  return strings_get(st.env, mem, a[0].i32(), a[1].i32());
}

}  // namespace stratus::wasi::preview1
