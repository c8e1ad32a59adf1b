// A component instance's table of handles (CanonicalABI.md `Table`):
// resource handles (`ResourceHandle`), and the async runtime's elements:
// waitable sets, subtasks, stream and future ends, error contexts
// (runtime/async.h). Index 0 is never handed out; freed indices are reused
// last-in first-out, as the spec's free list does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
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

// An element of the table that is not a resource handle.
class AsyncHandle {
 public:
  enum class Kind {
    WaitableSet,
    Subtask,
    StreamReadable,
    StreamWritable,
    FutureReadable,
    FutureWritable,
    ErrorContext
  };
  explicit AsyncHandle(Kind k) : kind(k) {}
  virtual ~AsyncHandle() = default;
  AsyncHandle(const AsyncHandle&) = delete;
  AsyncHandle& operator=(const AsyncHandle&) = delete;
  bool is_waitable() const { return kind != Kind::WaitableSet && kind != Kind::ErrorContext; }
  const Kind kind;
};
using AsyncHandlePtr = std::shared_ptr<AsyncHandle>;

class HandleTable {
 public:
  static constexpr uint32_t kMaxLength = (1u << 28) - 1;

  HandleTable() : entries_(1) {}
  // At most `limit` live handles (a guest that leaks handles traps there).
  void set_limit(uint32_t limit) { limit_ = limit; }

  Result<uint32_t> add(ResourceHandle handle);
  Result<uint32_t> add(AsyncHandlePtr handle);
  // Error ("unknown handle index 5") when `index` holds nothing, or holds
  // something other than a resource handle.
  Result<ResourceHandle*> get(uint32_t index);
  Result<ResourceHandle> remove(uint32_t index);
  // The async element at `index`; an error when there is none.
  Result<AsyncHandle*> get_async(uint32_t index);
  Result<AsyncHandlePtr> remove_async(uint32_t index);
  Result<AsyncHandlePtr> get_async_shared(uint32_t index);
  // The resource handle at `index`, or null; never throws.
  ResourceHandle* find(uint32_t index) noexcept {
    if (index >= entries_.size() || !entries_[index]) return nullptr;
    return std::get_if<ResourceHandle>(&*entries_[index]);
  }
  size_t live_count() const { return live_; }
  // Every async element (for tearing an instance down).
  std::vector<AsyncHandlePtr> async_elements() const;

 private:
  using Element = std::variant<ResourceHandle, AsyncHandlePtr>;
  Result<uint32_t> insert(Element e);
  Result<Element*> at(uint32_t index);

  std::vector<std::optional<Element>> entries_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
  uint32_t limit_ = kMaxLength;
};

}  // namespace stratus::component
