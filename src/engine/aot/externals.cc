// Functions, memories, tables and globals of the AOT backend, the host-call
// entry point the glue uses, and value conversions.
#include <cstring>
#include <functional>
#include <mutex>
#include <unordered_set>

#include "engine/aot/objects.h"
#include "engine/aot/runtime/registry.h"
#include "engine/aot/watchdog.h"

namespace stratus::engine::aot {
namespace {

// A trap a host function reported, waiting for the glue's wasm_rt_trap to
// unwind to the nearest trap frame.
thread_local std::optional<Trap> t_pending_trap;
// The instance the host most recently called into on this thread: the caller
// of host functions reached through tables (which have no importing instance).
thread_local AotInstance* t_entry_instance = nullptr;

}  // namespace

void* exchange_entry_instance(void* instance) {
  void* old = t_entry_instance;
  t_entry_instance = static_cast<AotInstance*>(instance);
  return old;
}

namespace {

// Host functions that escaped into wasm values (tables, globals, arguments)
// stay alive for the process: wasm may call them at any later time.
void pin(std::shared_ptr<AotHostFunc> f) {
  static std::mutex mu;
  static auto* pinned = new std::unordered_set<std::shared_ptr<AotHostFunc>>;  // NOLINT: process lifetime
  std::lock_guard lock(mu);
  pinned->insert(std::move(f));
}

class CallerImpl : public Caller {
 public:
  explicit CallerImpl(AotInstance* instance) : instance_(instance) {}
  Memory* memory(std::string_view export_name) override {
    if (!instance_) return nullptr;
    held_ = instance_->memory(export_name);
    return held_.get();
  }
  Instance* instance() override { return instance_; }

 private:
  AotInstance* instance_;
  std::shared_ptr<Memory> held_;
};

Result<void> check_args(const FuncType& type, std::span<const Value> args) {
  if (args.size() != type.params.size())
    return make_error("expected " + std::to_string(type.params.size()) + " arguments, got " +
                      std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].type() != type.params[i])
      return make_error("argument " + std::to_string(i) + ": expected " + std::string(to_string(type.params[i])) +
                        ", got " + std::string(to_string(args[i].type())));
  return {};
}

// Thread exit: drop the alternate signal stack trap.c installed.
struct AltStackOwner {
  ~AltStackOwner() { stratus_rt_release_thread_altstack(); }
};

}  // namespace

// ------------------------------------------------------------- contexts

CtxBlock::CtxBlock(CtxHeader::Kind kind, void* object, size_t payload) {
  void* p =
      std::aligned_alloc(kCtxPrefix, kCtxPrefix + ((payload + kCtxPrefix - 1) / kCtxPrefix) * kCtxPrefix + kCtxPrefix);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, kCtxPrefix + payload);
  mem_.reset(static_cast<uint8_t*>(p));
  auto* h = reinterpret_cast<CtxHeader*>(mem_.get());
  h->magic = kCtxMagic;
  h->kind = kind;
  h->object = object;
}

const CtxHeader* CtxBlock::header_of(const void* ctx) {
  if (!ctx) return nullptr;
  auto* h = reinterpret_cast<const CtxHeader*>(static_cast<const uint8_t*>(ctx) - kCtxPrefix);
  return h->magic == kCtxMagic ? h : nullptr;
}

// ------------------------------------------------------------- traps

Trap trap_from_code(uint32_t code) {
  if (code == WASM_RT_TRAP_HOST && t_pending_trap) {
    Trap t = std::move(*t_pending_trap);
    t_pending_trap.reset();
    return t;
  }
  TrapKind kind = TrapKind::Other;
  switch (code) {
    case WASM_RT_TRAP_OOB: kind = TrapKind::MemoryOutOfBounds; break;
    case WASM_RT_TRAP_INT_OVERFLOW: kind = TrapKind::IntegerOverflow; break;
    case WASM_RT_TRAP_DIV_BY_ZERO: kind = TrapKind::IntegerDivideByZero; break;
    case WASM_RT_TRAP_INVALID_CONVERSION: kind = TrapKind::InvalidConversion; break;
    case WASM_RT_TRAP_UNREACHABLE: kind = TrapKind::Unreachable; break;
    case WASM_RT_TRAP_CALL_INDIRECT: kind = TrapKind::IndirectCallMismatch; break;
    case WASM_RT_TRAP_EXHAUSTION: kind = TrapKind::StackExhausted; break;
    case WASM_RT_TRAP_TABLE_OOB: kind = TrapKind::TableOutOfBounds; break;
    case WASM_RT_TRAP_INDIRECT_NULL: kind = TrapKind::IndirectCallNull; break;
    case WASM_RT_TRAP_DEADLINE: kind = TrapKind::Deadline; break;
    case WASM_RT_TRAP_HOST: kind = TrapKind::HostError; break;
    default: break;
  }
  return Trap{kind, wasm_rt_strerror(static_cast<wasm_rt_trap_t>(code)), 0};
}

std::optional<Trap> run_guarded(AotInstance* owner, const std::function<uint32_t()>& body) {
  stratus_rt_thread_t& t = stratus_rt_thread;
  if (owner && owner->interrupted()) return Trap{TrapKind::Deadline, "instance interrupted", 0};
  static thread_local AltStackOwner alt_stack_owner;
  (void)alt_stack_owner;
  const uint32_t limit = owner ? owner->limits().max_call_depth : InstanceLimits{}.max_call_depth;
  const uint32_t saved_max = t.max_depth;
  const bool nested = t.top != nullptr;  // called from a host function inside wasm
  uint32_t max = t.depth + limit;
  if (max < t.depth) max = UINT32_MAX;
  if (nested && saved_max < max) max = saved_max;
  t.max_depth = max;
  AotInstance* saved_entry = t_entry_instance;
  if (owner) t_entry_instance = owner;

  const bool outermost = t.top == nullptr;
  if (owner) owner->enter(&t.interrupt);
  uint64_t deadline_id = 0;
  if (owner && owner->limits().call_timeout)
    deadline_id = Watchdog::get().arm(std::chrono::steady_clock::now() + *owner->limits().call_timeout, &t.interrupt);
  uint32_t code = body();
  bool fired = deadline_id && Watchdog::get().disarm(deadline_id);
  if (owner) owner->leave(&t.interrupt);
  // An interrupt outlives the frames it stopped only up to the outermost
  // call: nested frames unwinding with Deadline must stop their callers too.
  if (fired || outermost) __atomic_store_n(&t.interrupt, 0u, __ATOMIC_SEQ_CST);
  t.max_depth = saved_max;
  t_entry_instance = saved_entry;
  if (code == WASM_RT_TRAP_NONE) return std::nullopt;
  return trap_from_code(code);
}

std::optional<Trap> invoke_guarded(const stratus_rt_invocation_t& call, AotInstance* owner) {
  return run_guarded(owner, [&] { return stratus_rt_invoke(&call); });
}

// ------------------------------------------------------------- values

Result<stratus_rt_value_t> to_raw(const Value& v, ValType expected) {
  if (v.type() != expected) return make_error("value type mismatch");
  stratus_rt_value_t out;
  std::memset(&out, 0, sizeof out);
  switch (expected) {
    case ValType::I32: out.i32 = v.i32(); break;
    case ValType::I64: out.i64 = v.i64(); break;
    case ValType::F32: out.i32 = v.f32_bits(); break;
    case ValType::F64: out.i64 = v.f64_bits(); break;
    case ValType::ExternRef:
      out.externref = v.ref().is_null ? nullptr : reinterpret_cast<void*>(v.ref().host + 1);
      break;
    case ValType::FuncRef: {
      auto raw = funcref_to_raw(v.ref());
      if (!raw) return std::move(raw).error();
      out.funcref = *raw;
      break;
    }
    case ValType::V128: return make_error("aot: v128 values are not supported");
  }
  return out;
}

Value from_raw(const stratus_rt_value_t& v, ValType type) {
  switch (type) {
    case ValType::I32: return Value::i32(v.i32);
    case ValType::I64: return Value::i64(v.i64);
    case ValType::F32: return Value::f32_bits(v.i32);
    case ValType::F64: return Value::f64_bits(v.i64);
    case ValType::ExternRef:
      return Value::ref(ValType::ExternRef,
                        v.externref ? Ref::extern_ref(reinterpret_cast<uintptr_t>(v.externref) - 1) : Ref::null());
    case ValType::FuncRef: return Value::ref(ValType::FuncRef, funcref_from_raw(v.funcref));
    case ValType::V128: break;
  }
  return Value::i32(0);
}

Result<wasm_rt_funcref_t> funcref_to_raw(const Ref& ref) {
  if (ref.is_null || !ref.func) return wasm_rt_funcref_null_value;
  if (auto* f = dynamic_cast<AotFunc*>(ref.func.get())) return f->raw();
  if (auto* h = dynamic_cast<AotHostFunc*>(ref.func.get())) return h->raw();
  return make_error("aot: function reference from another engine");
}

Ref funcref_from_raw(const wasm_rt_funcref_t& raw) {
  if (!raw.func) return Ref::null();
  const CtxHeader* h = CtxBlock::header_of(raw.module_instance);
  if (h && h->kind == CtxHeader::HostSite)
    return Ref::func_ref(static_cast<HostSite*>(h->object)->func->shared_from_this());
  std::shared_ptr<AotInstance> owner;
  if (h) owner = static_cast<AotInstance*>(h->object)->shared_from_this();
  auto type = type_of_signature(signature_of_id(raw.func_type));
  auto code = sig_code(raw.func_type);
  if (!type || !code) return Ref::null();
  return Ref::func_ref(std::make_shared<AotFunc>(*type, raw, code->invoke, std::move(owner)));
}

// ------------------------------------------------------------- functions

AotHostFunc::AotHostFunc(FuncType type, HostCallback callback, std::function<Result<void>(const FuncType&)> ensure_code)
    : type_(std::move(type)),
      callback_(std::move(callback)),
      ensure_code_(std::move(ensure_code)),
      type_id_(aot::type_id(signature_of(type_))) {
  site_.block = CtxBlock(CtxHeader::HostSite, &site_, 0);
  site_.func = this;
}

Result<wasm_rt_funcref_t> AotHostFunc::raw() {
  auto code = sig_code(type_id_);
  if (!code && ensure_code_) {
    auto built = ensure_code_(type_);
    if (!built) return std::move(built).error();
    code = sig_code(type_id_);
  }
  if (!code || !code->host_trampoline)
    return make_error("aot: no compiled module has the signature " + to_string(type_) +
                      " yet, so this host function cannot be used as a funcref");
  pin(shared_from_this());
  return wasm_rt_funcref_t{type_id_, code->host_trampoline, site_.block.ctx()};
}

CallResult AotHostFunc::call(std::span<const Value> args) {
  auto ok = check_args(type_, args);
  if (!ok) return std::move(ok).error();
  std::vector<Value> results(type_.results.size());
  CallerImpl caller(nullptr);
  try {
    if (auto trap = callback_(caller, args, results)) return *trap;
  } catch (const std::exception& e) {
    return Trap{TrapKind::HostError, e.what(), 0};
  }
  return results;
}

CallResult AotFunc::call(std::span<const Value> args) {
  auto ok = check_args(type_, args);
  if (!ok) return std::move(ok).error();
  std::vector<stratus_rt_value_t> raw_args(args.size() + 1), raw_results(type_.results.size() + 1);
  for (size_t i = 0; i < args.size(); ++i) {
    auto r = to_raw(args[i], type_.params[i]);
    if (!r) return std::move(r).error();
    raw_args[i] = *r;
  }
  stratus_rt_invocation_t call{invoker_, raw_.func, raw_.module_instance, raw_args.data(), raw_results.data()};
  if (auto trap = invoke_guarded(call, owner_.get())) return *trap;
  std::vector<Value> out;
  out.reserve(type_.results.size());
  for (size_t i = 0; i < type_.results.size(); ++i) out.push_back(from_raw(raw_results[i], type_.results[i]));
  return out;
}

// ------------------------------------------------------------- memory

MemoryType AotMemory::type() const {
  MemoryType t;
  t.limits.min = mem_->pages;
  if (mem_->max_pages < 65536) t.limits.max = mem_->max_pages;
  return t;
}

std::optional<std::span<uint8_t>> AotMemory::view(uint64_t offset, uint64_t len) {
  if (offset > mem_->size || len > mem_->size - offset) return std::nullopt;
  return std::span<uint8_t>(mem_->data + offset, len);
}

std::optional<uint64_t> AotMemory::grow(uint64_t delta_pages) {
  if (delta_pages > UINT32_MAX) return std::nullopt;
  uint32_t old = wasm_rt_grow_memory(mem_, static_cast<uint32_t>(delta_pages));
  if (old == UINT32_MAX) return std::nullopt;
  return old;
}

// ------------------------------------------------------------- table

TableType AotTable::type() const {
  TableType t;
  t.element = element_;
  uint32_t max = element_ == ValType::FuncRef ? static_cast<wasm_rt_funcref_table_t*>(storage_)->max_size
                                              : static_cast<wasm_rt_externref_table_t*>(storage_)->max_size;
  t.limits.min = size();
  if (max != UINT32_MAX) t.limits.max = max;
  return t;
}

uint64_t AotTable::size() const {
  return element_ == ValType::FuncRef ? static_cast<wasm_rt_funcref_table_t*>(storage_)->size
                                      : static_cast<wasm_rt_externref_table_t*>(storage_)->size;
}

Result<Ref> AotTable::get(uint64_t index) const {
  if (index >= size()) return make_error("table index " + std::to_string(index) + " out of bounds");
  stratus_rt_value_t v;
  if (element_ == ValType::FuncRef)
    v.funcref = static_cast<wasm_rt_funcref_table_t*>(storage_)->data[index];
  else
    v.externref = static_cast<wasm_rt_externref_table_t*>(storage_)->data[index];
  return from_raw(v, element_).ref();
}

Result<void> AotTable::set(uint64_t index, const Ref& value) {
  if (index >= size()) return make_error("table index " + std::to_string(index) + " out of bounds");
  auto raw = to_raw(Value::ref(element_, value), element_);
  if (!raw) return std::move(raw).error();
  if (element_ == ValType::FuncRef)
    static_cast<wasm_rt_funcref_table_t*>(storage_)->data[index] = raw->funcref;
  else
    static_cast<wasm_rt_externref_table_t*>(storage_)->data[index] = raw->externref;
  return {};
}

std::optional<uint64_t> AotTable::grow(uint64_t delta, const Ref& init) {
  if (delta > UINT32_MAX) return std::nullopt;
  auto raw = to_raw(Value::ref(element_, init), element_);
  if (!raw) return std::nullopt;
  uint32_t old = element_ == ValType::FuncRef
                     ? wasm_rt_grow_funcref_table(static_cast<wasm_rt_funcref_table_t*>(storage_),
                                                  static_cast<uint32_t>(delta), raw->funcref)
                     : wasm_rt_grow_externref_table(static_cast<wasm_rt_externref_table_t*>(storage_),
                                                    static_cast<uint32_t>(delta), raw->externref);
  if (old == UINT32_MAX) return std::nullopt;
  return old;
}

// ------------------------------------------------------------- global

namespace {
size_t storage_size(ValType t) {
  switch (t) {
    case ValType::I32:
    case ValType::F32: return 4;
    case ValType::I64:
    case ValType::F64: return 8;
    case ValType::ExternRef: return sizeof(wasm_rt_externref_t);
    case ValType::FuncRef: return sizeof(wasm_rt_funcref_t);
    case ValType::V128: return 16;
  }
  return 8;
}
}  // namespace

namespace {

// Tag numbers: 0 is never used, so a zeroed slot matches no throw.
struct TagNumbers {
  std::mutex mu;
  uint32_t next = 1;
  std::vector<uint32_t> free;
};

TagNumbers& tag_numbers() {
  static auto* numbers = new TagNumbers;  // NOLINT: process lifetime, used by destructors at exit
  return *numbers;
}

}  // namespace

AotTag::AotTag(TagType type) : type_(std::move(type)) {
  auto& n = tag_numbers();
  std::lock_guard lock(n.mu);
  if (!n.free.empty()) {
    id_ = n.free.back();
    n.free.pop_back();
  } else {
    id_ = n.next++;  // 2^32 live tags would need far more memory than exists
  }
}

AotTag::~AotTag() {
  auto& n = tag_numbers();
  std::lock_guard lock(n.mu);
  n.free.push_back(id_);
}

Value AotGlobal::get() const {
  stratus_rt_value_t v;
  std::memset(&v, 0, sizeof v);
  std::memcpy(&v, storage_, storage_size(type_.type));
  return from_raw(v, type_.type);
}

Result<void> AotGlobal::set(const Value& value) {
  if (!type_.mutable_) return make_error("global is immutable");
  auto raw = to_raw(value, type_.type);
  if (!raw) return std::move(raw).error();
  std::memcpy(storage_, &*raw, storage_size(type_.type));
  return {};
}

}  // namespace stratus::engine::aot

// ------------------------------------------------------------- entry points for the glue

using namespace stratus::engine;
using namespace stratus::engine::aot;

extern "C" uint32_t stratus_rt_call_host(void* ctx, const stratus_rt_value_t* a, stratus_rt_value_t* r) {
  const CtxHeader* h = CtxBlock::header_of(ctx);
  if (!h || h->kind != CtxHeader::HostSite) return WASM_RT_TRAP_UNREACHABLE;
  auto* site = static_cast<HostSite*>(h->object);
  AotHostFunc* f = site->func;
  stratus_rt_thread_t& t = stratus_rt_thread;
  const uint32_t saved_in_host = t.in_host;
  t.in_host = 1;
  uint32_t code = WASM_RT_TRAP_NONE;
  try {
    const FuncType& type = f->type();
    std::vector<Value> args;
    args.reserve(type.params.size());
    for (size_t i = 0; i < type.params.size(); ++i) args.push_back(from_raw(a[i], type.params[i]));
    std::vector<Value> results(type.results.size());
    CallerImpl caller(site->caller ? site->caller : t_entry_instance);
    if (auto trap = f->callback()(caller, args, results)) {
      t_pending_trap = std::move(*trap);
      code = WASM_RT_TRAP_HOST;
    } else {
      for (size_t i = 0; i < results.size() && code == WASM_RT_TRAP_NONE; ++i) {
        auto raw = to_raw(results[i], type.results[i]);
        if (raw) {
          r[i] = *raw;
        } else {
          t_pending_trap =
              Trap{TrapKind::HostError, "host function result " + std::to_string(i) + ": " + raw.error().message, 0};
          code = WASM_RT_TRAP_HOST;
        }
      }
    }
  } catch (const std::exception& e) {
    t_pending_trap = Trap{TrapKind::HostError, std::string("host function threw: ") + e.what(), 0};
    code = WASM_RT_TRAP_HOST;
  } catch (...) {
    t_pending_trap = Trap{TrapKind::HostError, "host function threw", 0};
    code = WASM_RT_TRAP_HOST;
  }
  t.in_host = saved_in_host;
  return code;
}
