#include "component/runtime/handle_table.h"

namespace stratus::component {

Result<uint32_t> HandleTable::add(ResourceHandle handle) {
  if (!free_.empty()) {
    uint32_t index = free_.back();
    free_.pop_back();
    entries_[index] = std::move(handle);
    return index;
  }
  if (entries_.size() > kMaxLength) return make_error("handle table is full");
  entries_.push_back(std::move(handle));
  return static_cast<uint32_t>(entries_.size() - 1);
}

Result<ResourceHandle*> HandleTable::get(uint32_t index) {
  if (index >= entries_.size() || !entries_[index]) return make_error("unknown handle index " + std::to_string(index));
  return &*entries_[index];
}

Result<ResourceHandle> HandleTable::remove(uint32_t index) {
  auto entry = get(index);
  if (!entry.ok()) return std::move(entry).error();
  ResourceHandle out = std::move(**entry);
  entries_[index].reset();
  free_.push_back(index);
  return out;
}

size_t HandleTable::live_count() const {
  size_t n = 0;
  for (const auto& e : entries_)
    if (e) ++n;
  return n;
}

}  // namespace stratus::component
