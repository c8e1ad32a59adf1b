// A component instance's table of resource handles (CanonicalABI.md:
// `Table`, `ResourceHandle`). Index 0 is never handed out; freed indices are
// reused last-in first-out, as the spec's free list does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "component/types.h"
#include "support/result.h"

namespace stratus::component {

// The callee side of a call: borrow handles lowered into the callee during
// it must all be dropped before it returns.
struct BorrowScope {
  uint32_t num_borrows = 0;
};

struct ResourceHandle {
  ResourceTypePtr resource;  // runtime type
  uint32_t rep = 0;
  bool own = true;
  BorrowScope* borrow_scope = nullptr;  // for borrows: the call they live in
  uint32_t num_lends = 0;               // borrows of this handle outstanding in calls
};

class HandleTable {
 public:
  static constexpr uint32_t kMaxLength = (1u << 28) - 1;

  HandleTable() : entries_(1) {}

  Result<uint32_t> add(ResourceHandle handle);
  // Error ("unknown handle index 5") when `index` holds nothing.
  Result<ResourceHandle*> get(uint32_t index);
  Result<ResourceHandle> remove(uint32_t index);
  // The handle at `index`, or null; never throws.
  ResourceHandle* find(uint32_t index) noexcept {
    return index < entries_.size() && entries_[index] ? &*entries_[index] : nullptr;
  }
  size_t live_count() const;

 private:
  std::vector<std::optional<ResourceHandle>> entries_;
  std::vector<uint32_t> free_;
};

}  // namespace stratus::component
