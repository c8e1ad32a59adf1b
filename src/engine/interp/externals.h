// The engine.h externals (Func, Memory, Table, Global, Tag) over wabt objects.
// Each holds its wabt object as a GC root and locks the store on every use.
#pragma once

#include <memory>

#include <wabt/interp/interp.h>

#include "engine/engine.h"
#include "engine/interp/store.h"

namespace stratus::engine::interp {

class InterpFunc final : public Func {
 public:
  // `core` is the instance that defines the function (null for host functions);
  // its limits and interrupt flag govern calls made through this object.
  InterpFunc(StorePtr store, wi::Func::Ptr func, FuncType type, std::shared_ptr<InstanceCore> core);

  const FuncType& type() const override { return type_; }
  CallResult call(std::span<const Value> args) override;

  wi::Ref ref() const { return func_.ref(); }
  const StorePtr& store() const { return func_.store(); }

 private:
  Rooted<wi::Func> func_;
  FuncType type_;
  std::shared_ptr<InstanceCore> core_;
};

class InterpMemory final : public Memory {
 public:
  InterpMemory(StorePtr store, wi::Memory::Ptr memory) : memory_(std::move(store), std::move(memory)) {}

  MemoryType type() const override;
  uint64_t size_bytes() const override;
  std::optional<std::span<uint8_t>> view(uint64_t offset, uint64_t len) override;
  std::optional<uint64_t> grow(uint64_t delta_pages) override;
  const void* identity() const override { return memory_.get(); }

  wi::Ref ref() const { return memory_.ref(); }
  const StorePtr& store() const { return memory_.store(); }

 private:
  Rooted<wi::Memory> memory_;
};

class InterpTable final : public Table {
 public:
  InterpTable(StorePtr store, wi::Table::Ptr table, ValType element)
      : table_(std::move(store), std::move(table)), element_(element) {}

  TableType type() const override;
  uint64_t size() const override;
  Result<Ref> get(uint64_t index) const override;
  Result<void> set(uint64_t index, const Ref& value) override;
  std::optional<uint64_t> grow(uint64_t delta, const Ref& init) override;

  wi::Ref ref() const { return table_.ref(); }
  const StorePtr& store() const { return table_.store(); }

 private:
  Rooted<wi::Table> table_;
  ValType element_;
};

class InterpGlobal final : public Global {
 public:
  InterpGlobal(StorePtr store, wi::Global::Ptr global, GlobalType type)
      : global_(std::move(store), std::move(global)), type_(type) {}

  GlobalType type() const override { return type_; }
  Value get() const override;
  Result<void> set(const Value& value) override;

  wi::Ref ref() const { return global_.ref(); }
  const StorePtr& store() const { return global_.store(); }

 private:
  Rooted<wi::Global> global_;
  GlobalType type_;
};

class InterpTag final : public Tag {
 public:
  InterpTag(StorePtr store, wi::Tag::Ptr tag, TagType type)
      : tag_(std::move(store), std::move(tag)), type_(std::move(type)) {}

  const TagType& type() const override { return type_; }

  wi::Ref ref() const { return tag_.ref(); }
  const StorePtr& store() const { return tag_.store(); }

 private:
  Rooted<wi::Tag> tag_;
  TagType type_;
};

// Wraps a wabt extern (store locked).
Result<Extern> wrap_extern(StoreState& store, wi::Ref ref);
std::shared_ptr<InterpFunc> wrap_func(StoreState& store, wi::Ref ref);
// The wabt object behind an external of this engine; Error if it belongs to
// another engine.
Result<wi::Ref> unwrap_extern(const StoreState& store, const Extern& ext);

}  // namespace stratus::engine::interp
