// Linear memories and tables for generated code.
//
// A memory is one 8 GiB (+ guard) PROT_NONE reservation; growing makes more
// of it readable. wasm2c computes `data + (u64)i32_addr + offset`, which is
// always below 8 GiB + 8, so every out-of-bounds access lands on a PROT_NONE
// page and the fault handler (trap.c) turns it into a trap: no bounds checks
// in generated code, and `data` never moves, so host views stay valid.
//
// Freed reservations of small memories are kept for the next instance (a
// server makes one per request): zeroing what was accessible costs less than
// unmapping 8 GiB and mapping it again, which also makes every other CPU
// flush its TLB.
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "engine/aot/runtime/rt_internal.h"

namespace {

constexpr uint64_t kPageSize = 65536;
constexpr uint64_t kReservation = (8ull << 30) + kPageSize;
constexpr uint64_t kMaxPages = 65536;
// A memory is pooled when at most this much of it was accessible, and the
// pool holds at most this many reservations.
constexpr uint64_t kPooledBytes = 1ull << 20;
constexpr size_t kPoolSlots = 64;

struct Reservation {
  uint8_t* data;
  uint64_t accessible;  // bytes from data that are PROT_READ|PROT_WRITE, all zero
};

std::mutex g_pool_mu;
std::vector<Reservation>& pool() {
  static auto* slots = new std::vector<Reservation>();  // never destroyed: frees may come at exit
  return *slots;
}

// A zeroed reservation with exactly `bytes` accessible, or null.
uint8_t* take_pooled(uint64_t bytes) {
  Reservation r{};
  {
    std::lock_guard lock(g_pool_mu);
    auto& slots = pool();
    if (slots.empty()) return nullptr;
    size_t pick = slots.size() - 1;
    for (size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].accessible == bytes) pick = i;
    }
    r = slots[pick];
    slots[pick] = slots.back();
    slots.pop_back();
  }
  bool ok = true;
  if (r.accessible > bytes) {
    ok = mprotect(r.data + bytes, r.accessible - bytes, PROT_NONE) == 0 &&
         madvise(r.data + bytes, r.accessible - bytes, MADV_DONTNEED) == 0;
  } else if (r.accessible < bytes) {
    ok = mprotect(r.data + r.accessible, bytes - r.accessible, PROT_READ | PROT_WRITE) == 0;
  }
  if (!ok) {
    munmap(r.data, kReservation);
    return nullptr;
  }
  return r.data;
}

// Keeps the reservation for reuse when it is small and the pool has room.
bool give_back(uint8_t* data, uint64_t accessible) {
  if (accessible > kPooledBytes) return false;
  {
    std::lock_guard lock(g_pool_mu);
    if (pool().size() >= kPoolSlots) return false;
  }
  std::memset(data, 0, accessible);
  std::lock_guard lock(g_pool_mu);
  if (pool().size() >= kPoolSlots) return false;
  pool().push_back({data, accessible});
  return true;
}

// Bytes of linear memory that guests can reach now, over every memory of
// the process (the guest memory gauge of --metrics-addr).
std::atomic<uint64_t> g_accessible_bytes{0};

}  // namespace

extern "C" {

uint64_t stratus_rt_memory_bytes(void) { return g_accessible_bytes.load(std::memory_order_relaxed); }

bool stratus_rt_memory_init(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages, uint64_t limit_bytes) {
  std::memset(mem, 0, sizeof *mem);
  uint64_t bytes = uint64_t{initial_pages} * kPageSize;
  void* addr = bytes <= kPooledBytes ? take_pooled(bytes) : nullptr;
  if (addr == nullptr) {
    addr = mmap(nullptr, kReservation, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (addr == MAP_FAILED) return false;
    if (bytes && mprotect(addr, bytes, PROT_READ | PROT_WRITE) != 0) {
      munmap(addr, kReservation);
      return false;
    }
  }
  uint64_t limit = max_pages < kMaxPages ? max_pages : kMaxPages;
  if (limit_bytes / kPageSize < limit) limit = limit_bytes / kPageSize;
  mem->data = static_cast<uint8_t*>(addr);
  mem->pages = initial_pages;
  mem->max_pages = max_pages;
  mem->size = bytes;
  mem->limit_pages = limit;
  g_accessible_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return true;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages) {
  // The instance's byte cap travels in thread-local state set by the engine
  // around instantiation (generated code has no way to pass it).
  uint64_t limit = stratus_rt_thread.pending_memory_limit;
  if (limit == 0) limit = UINT64_MAX;
  if (!stratus_rt_memory_init(mem, initial_pages, max_pages, limit)) wasm_rt_trap(WASM_RT_TRAP_RESOURCE);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* mem, uint32_t delta) {
  uint64_t old_pages = mem->pages;
  uint64_t new_pages = old_pages + delta;
  if (new_pages > mem->limit_pages) return UINT32_MAX;
  if (delta == 0) return static_cast<uint32_t>(old_pages);
  if (mprotect(mem->data + old_pages * kPageSize, uint64_t{delta} * kPageSize, PROT_READ | PROT_WRITE) != 0)
    return UINT32_MAX;
  mem->pages = static_cast<uint32_t>(new_pages);
  mem->size = new_pages * kPageSize;
  g_accessible_bytes.fetch_add(uint64_t{delta} * kPageSize, std::memory_order_relaxed);
  return static_cast<uint32_t>(old_pages);
}

void wasm_rt_free_memory(wasm_rt_memory_t* mem) {
  if (mem->data) g_accessible_bytes.fetch_sub(mem->size, std::memory_order_relaxed);
  if (mem->data && !give_back(mem->data, mem->size)) munmap(mem->data, kReservation);
  mem->data = nullptr;
  mem->size = 0;
  mem->pages = 0;
}

// Tables: plain heap arrays (realloc on grow; nothing outside the runtime
// keeps a pointer into them).
#define STRATUS_TABLE_OPS(type)                                                                                   \
  bool stratus_rt_table_init_##type(wasm_rt_##type##_table_t* t, uint32_t elements, uint32_t max_elements) {      \
    t->size = 0;                                                                                                  \
    t->max_size = max_elements;                                                                                   \
    t->data = static_cast<wasm_rt_##type##_t*>(std::calloc(elements ? elements : 1, sizeof(wasm_rt_##type##_t))); \
    if (!t->data) return false;                                                                                   \
    t->size = elements;                                                                                           \
    return true;                                                                                                  \
  }                                                                                                               \
  void wasm_rt_allocate_##type##_table(wasm_rt_##type##_table_t* t, uint32_t elements, uint32_t max_elements) {   \
    if (!stratus_rt_table_init_##type(t, elements, max_elements)) wasm_rt_trap(WASM_RT_TRAP_RESOURCE);            \
  }                                                                                                               \
  void wasm_rt_free_##type##_table(wasm_rt_##type##_table_t* t) {                                                 \
    std::free(t->data);                                                                                           \
    t->data = nullptr;                                                                                            \
    t->size = 0;                                                                                                  \
  }                                                                                                               \
  uint32_t wasm_rt_grow_##type##_table(wasm_rt_##type##_table_t* t, uint32_t delta, wasm_rt_##type##_t init) {    \
    uint32_t old = t->size;                                                                                       \
    uint64_t grown = uint64_t{old} + delta;                                                                       \
    if (grown > t->max_size || grown > (1u << 24)) return UINT32_MAX;                                             \
    if (delta == 0) return old;                                                                                   \
    void* data = std::realloc(t->data, grown * sizeof(wasm_rt_##type##_t));                                       \
    if (!data) return UINT32_MAX;                                                                                 \
    t->data = static_cast<wasm_rt_##type##_t*>(data);                                                             \
    for (uint64_t i = old; i < grown; ++i) t->data[i] = init;                                                     \
    t->size = static_cast<uint32_t>(grown);                                                                       \
    return old;                                                                                                   \
  }

STRATUS_TABLE_OPS(funcref)
STRATUS_TABLE_OPS(externref)

}  // extern "C"
