// The host objects behind a guest's resource handles, by representation
// (the `rep` the generated bindings pass): one table per resource type.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace stratus::wasi::p2 {

// Reps start at 1 and are reused after a drop; a rep the table does not hold
// (a guest cannot forge one: handles are checked by the runtime, but a
// host-side bug could) finds nothing.
template <class T>
class ResourceTable {
 public:
  uint32_t add(std::shared_ptr<T> value) {
    if (!free_.empty()) {
      uint32_t rep = free_.back();
      free_.pop_back();
      slots_[rep - 1] = std::move(value);
      return rep;
    }
    slots_.push_back(std::move(value));
    return static_cast<uint32_t>(slots_.size());
  }

  // nullptr when `rep` is not in the table.
  std::shared_ptr<T> get(uint32_t rep) const {
    if (rep == 0 || rep > slots_.size()) return nullptr;
    return slots_[rep - 1];
  }

  void remove(uint32_t rep) {
    if (rep == 0 || rep > slots_.size() || !slots_[rep - 1]) return;
    slots_[rep - 1].reset();
    free_.push_back(rep);
  }

  size_t size() const { return slots_.size() - free_.size(); }

 private:
  std::vector<std::shared_ptr<T>> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace stratus::wasi::p2
