#include "component/runtime/handle_table.h"

namespace stratus::component {

Result<uint32_t> HandleTable::insert(Element e) {
  if (live_ >= limit_)
    return make_error("handle table is full: the instance holds " + std::to_string(live_) + " handles, its limit");
  if (!free_.empty()) {
    uint32_t index = free_.back();
    free_.pop_back();
    entries_[index] = std::move(e);
    ++live_;
    return index;
  }
  if (entries_.size() > kMaxLength) return make_error("handle table is full");
  entries_.push_back(std::move(e));
  ++live_;
  return static_cast<uint32_t>(entries_.size() - 1);
}

Result<uint32_t> HandleTable::add(ResourceHandle handle) { return insert(Element(std::move(handle))); }
Result<uint32_t> HandleTable::add(AsyncHandlePtr handle) { return insert(Element(std::move(handle))); }

Result<HandleTable::Element*> HandleTable::at(uint32_t index) {
  if (index >= entries_.size() || !entries_[index]) return make_error("unknown handle index " + std::to_string(index));
  return &*entries_[index];
}

Result<ResourceHandle*> HandleTable::get(uint32_t index) {
  auto e = at(index);
  if (!e.ok()) return std::move(e).error();
  auto* h = std::get_if<ResourceHandle>(*e);
  if (h == nullptr) return make_error("handle index " + std::to_string(index) + " is not a resource handle");
  return h;
}

Result<ResourceHandle> HandleTable::remove(uint32_t index) {
  auto entry = get(index);
  if (!entry.ok()) return std::move(entry).error();
  ResourceHandle out = std::move(**entry);
  entries_[index].reset();
  free_.push_back(index);
  --live_;
  return out;
}

Result<AsyncHandle*> HandleTable::get_async(uint32_t index) {
  auto e = at(index);
  if (!e.ok()) return std::move(e).error();
  auto* h = std::get_if<AsyncHandlePtr>(*e);
  if (h == nullptr) return make_error("handle index " + std::to_string(index) + " is a resource handle");
  return h->get();
}

Result<AsyncHandlePtr> HandleTable::get_async_shared(uint32_t index) {
  auto e = at(index);
  if (!e.ok()) return std::move(e).error();
  auto* h = std::get_if<AsyncHandlePtr>(*e);
  if (h == nullptr) return make_error("handle index " + std::to_string(index) + " is a resource handle");
  return *h;
}

Result<AsyncHandlePtr> HandleTable::remove_async(uint32_t index) {
  auto e = at(index);
  if (!e.ok()) return std::move(e).error();
  auto* h = std::get_if<AsyncHandlePtr>(*e);
  if (h == nullptr) return make_error("handle index " + std::to_string(index) + " is a resource handle");
  AsyncHandlePtr out = std::move(*h);
  entries_[index].reset();
  free_.push_back(index);
  --live_;
  return out;
}

std::vector<AsyncHandlePtr> HandleTable::async_elements() const {
  std::vector<AsyncHandlePtr> out;
  for (const auto& e : entries_)
    if (e)
      if (const auto* h = std::get_if<AsyncHandlePtr>(&*e)) out.push_back(*h);
  return out;
}

}  // namespace stratus::component
