#include "engine/interp/externals.h"

#include "engine/interp/convert.h"
#include "engine/interp/run.h"

namespace stratus::engine::interp {

// ---------------------------------------------------------------- Func

InterpFunc::InterpFunc(StorePtr store, wi::Func::Ptr func, FuncType type, std::shared_ptr<InstanceCore> core)
    : func_(std::move(store), std::move(func)), type_(std::move(type)), core_(std::move(core)) {}

CallResult InterpFunc::call(std::span<const Value> args) {
  StoreLock lock(store()->mutex);
  return call_func(*store(), func_.ptr(), type_, args, core_.get());
}

// ---------------------------------------------------------------- Memory

MemoryType InterpMemory::type() const {
  StoreLock lock(store()->mutex);
  auto limits = from_wabt(memory_->type().limits);
  limits.min = memory_->PageSize();
  return MemoryType{limits};
}

uint64_t InterpMemory::size_bytes() const {
  StoreLock lock(store()->mutex);
  return memory_->ByteSize();
}

std::optional<std::span<uint8_t>> InterpMemory::view(uint64_t offset, uint64_t len) {
  StoreLock lock(store()->mutex);
  uint64_t size = memory_->ByteSize();
  if (offset > size || len > size - offset) return std::nullopt;
  return std::span<uint8_t>(memory_->UnsafeData() + offset, len);
}

std::optional<uint64_t> InterpMemory::grow(uint64_t delta_pages) {
  StoreLock lock(store()->mutex);
  uint64_t old = memory_->PageSize();
  if (wabt::Failed(memory_->Grow(delta_pages))) return std::nullopt;
  return old;
}

// ---------------------------------------------------------------- Table

TableType InterpTable::type() const {
  StoreLock lock(store()->mutex);
  auto limits = from_wabt(table_->type().limits);
  limits.min = table_->size();
  return TableType{element_, limits};
}

uint64_t InterpTable::size() const {
  StoreLock lock(store()->mutex);
  return table_->size();
}

Result<Ref> InterpTable::get(uint64_t index) const {
  StoreLock lock(store()->mutex);
  wi::Ref ref;
  if (index >= table_->size() || wabt::Failed(table_->Get(static_cast<uint32_t>(index), &ref))) {
    return make_error("table index " + std::to_string(index) + " out of bounds");
  }
  return ref_from_wabt(*store(), element_, ref);
}

Result<void> InterpTable::set(uint64_t index, const Ref& value) {
  StoreLock lock(store()->mutex);
  auto ref = ref_to_wabt(*store(), value, element_);
  if (!ref) return std::move(ref).error();
  if (index >= table_->size() || wabt::Failed(table_->Set(store()->store, static_cast<uint32_t>(index), *ref))) {
    return make_error("table index " + std::to_string(index) + " out of bounds");
  }
  return {};
}

std::optional<uint64_t> InterpTable::grow(uint64_t delta, const Ref& init) {
  StoreLock lock(store()->mutex);
  auto ref = ref_to_wabt(*store(), init, element_);
  if (!ref || delta > UINT32_MAX) return std::nullopt;
  uint64_t old = table_->size();
  if (wabt::Failed(table_->Grow(store()->store, static_cast<uint32_t>(delta), *ref))) return std::nullopt;
  return old;
}

// ---------------------------------------------------------------- Global

Value InterpGlobal::get() const {
  StoreLock lock(store()->mutex);
  return from_wabt(*store(), type_.type, global_->Get());
}

Result<void> InterpGlobal::set(const Value& value) {
  StoreLock lock(store()->mutex);
  if (!type_.mutable_) return make_error("global is immutable");
  auto v = to_wabt(*store(), value, type_.type);
  if (!v) return std::move(v).error();
  if (type_.type == ValType::FuncRef || type_.type == ValType::ExternRef) {
    global_->Set(store()->store, v->Get<wi::Ref>());
  } else {
    global_->UnsafeSet(*v);
  }
  return {};
}

// ---------------------------------------------------------------- wrapping

std::shared_ptr<InterpFunc> wrap_func(StoreState& store, wi::Ref ref) {
  wi::Func::Ptr func = store.store.UnsafeGet<wi::Func>(ref);
  std::shared_ptr<InstanceCore> core;
  if (auto* defined = wabt::dyn_cast<wi::DefinedFunc>(func.get())) {
    core = store.find_core(store.store.UnsafeGet<wi::Instance>(defined->instance()).get());
  }
  // Validated modules only hold functions whose types we can express.
  auto type = from_wabt(func->type());
  return std::make_shared<InterpFunc>(store.shared_from_this(), std::move(func), type ? *type : FuncType{},
                                      std::move(core));
}

Result<Extern> wrap_extern(StoreState& store, wi::Ref ref) {
  auto self = store.shared_from_this();
  auto* object = store.store.UnsafeGet<wi::Object>(ref).get();
  switch (object->kind()) {
    case wi::ObjectKind::DefinedFunc:
    case wi::ObjectKind::HostFunc: return Extern{wrap_func(store, ref)};
    case wi::ObjectKind::Memory:
      return Extern{std::make_shared<InterpMemory>(self, store.store.UnsafeGet<wi::Memory>(ref))};
    case wi::ObjectKind::Table: {
      auto table = store.store.UnsafeGet<wi::Table>(ref);
      auto element = from_wabt(table->type().element);
      if (!element) return make_error("unsupported table element type");
      return Extern{std::make_shared<InterpTable>(self, std::move(table), *element)};
    }
    case wi::ObjectKind::Global: {
      auto global = store.store.UnsafeGet<wi::Global>(ref);
      auto type = from_wabt(global->type().type);
      if (!type) return make_error("unsupported global type");
      GlobalType gt{*type, global->type().mut == wi::Mutability::Var};
      return Extern{std::make_shared<InterpGlobal>(self, std::move(global), gt)};
    }
    case wi::ObjectKind::Tag: {
      auto tag = store.store.UnsafeGet<wi::Tag>(ref);
      auto type = from_wabt(static_cast<const wi::ExternType&>(tag->type()));
      if (!type) return std::move(type).error();
      return Extern{std::make_shared<InterpTag>(self, std::move(tag), std::get<TagType>(*type))};
    }
    default: break;
  }
  return make_error(std::string("unsupported extern kind ") + wi::GetName(object->kind()));
}

Result<wi::Ref> unwrap_extern(const StoreState& store, const Extern& ext) {
  auto check = [&](const auto* wrapper) -> Result<wi::Ref> {
    if (!wrapper) return make_error("external was not made by the interp engine");
    if (wrapper->store().get() != &store) return make_error("external belongs to another interp engine");
    return wrapper->ref();
  };
  return std::visit(
      [&](const auto& ptr) -> Result<wi::Ref> {
        using T = std::decay_t<decltype(*ptr)>;
        if (!ptr) return make_error("null external");
        if constexpr (std::is_same_v<T, Func>) return check(dynamic_cast<const InterpFunc*>(ptr.get()));
        if constexpr (std::is_same_v<T, Memory>) return check(dynamic_cast<const InterpMemory*>(ptr.get()));
        if constexpr (std::is_same_v<T, Table>) return check(dynamic_cast<const InterpTable*>(ptr.get()));
        if constexpr (std::is_same_v<T, Global>) return check(dynamic_cast<const InterpGlobal*>(ptr.get()));
        if constexpr (std::is_same_v<T, Tag>) return check(dynamic_cast<const InterpTag*>(ptr.get()));
      },
      ext);
}

}  // namespace stratus::engine::interp
