#include "engine/interp/run.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "engine/interp/convert.h"
#include "engine/interp/externals.h"
#include "engine/interp/wabt_access.h"
#include "engine/stack_state.h"

namespace stratus::engine::interp {
namespace {

// Instructions between checks of the clock and the interrupt flags: small
// enough that a deadline is overshot by well under a millisecond, large
// enough that the check costs nothing measurable.
constexpr int kSliceInstructions = 20000;

// Host functions that call back into wasm nest native frames; cap the nesting
// so a host<->wasm recursion traps instead of overflowing the native stack.
constexpr int kMaxNesting = 200;

// wabt reserves the whole call stack up front (40 bytes a frame), so a
// limit that is really "unlimited" is capped here.
constexpr uint32_t kMaxCallDepth = 1'000'000;

// wabt bounds the call stack but not the value stack (locals and operands),
// so a deep recursion through functions with many locals could take memory
// without end; 4 Mi values (64 MiB) is far beyond what real code needs.
constexpr size_t kMaxValueStack = size_t{1} << 22;
thread_local int t_nesting = 0;

struct NestingGuard {
  NestingGuard() { ++t_nesting; }
  ~NestingGuard() { --t_nesting; }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;
};

}  // namespace

int exchange_nesting(int nesting) {
  int old = t_nesting;
  t_nesting = nesting;
  return old;
}

namespace {

TrapKind classify(std::string_view message) {
  struct Rule {
    std::string_view text;
    TrapKind kind;
  };
  // wabt 1.0.32's messages (src/interp/interp.cc, interp-math.h).
  static constexpr Rule rules[] = {
      {"call stack exhausted", TrapKind::StackExhausted},
      {"out of bounds memory access", TrapKind::MemoryOutOfBounds},
      {"out of bounds table access", TrapKind::TableOutOfBounds},
      {"undefined table index", TrapKind::TableOutOfBounds},
      {"uninitialized table element", TrapKind::IndirectCallNull},
      {"indirect call signature mismatch", TrapKind::IndirectCallMismatch},
      {"integer divide by zero", TrapKind::IntegerDivideByZero},
      {"integer overflow", TrapKind::IntegerOverflow},
      {"invalid conversion to integer", TrapKind::InvalidConversion},
      {"unreachable executed", TrapKind::Unreachable},
  };
  for (const auto& rule : rules) {
    if (message.find(rule.text) != std::string_view::npos) return rule.kind;
  }
  return TrapKind::Other;
}

// Runs a call begun on `thread` to its end, checking between slices for the
// deadline and for interrupt() on the entry instance and on whichever
// instance is executing (a call may cross into another instance).
std::optional<Trap> run_sliced(StoreState& store, wi::Thread& thread, const InstanceLimits& limits,
                               InstanceCore* core) {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> deadline;
  if (limits.call_timeout) deadline = Clock::now() + *limits.call_timeout;
  const wi::Instance* seen = nullptr;
  std::shared_ptr<InstanceCore> executing;
  wi::Trap::Ptr trap;
  for (;;) {
    switch (thread.Run(kSliceInstructions, &trap)) {
      case wi::RunResult::Return: return std::nullopt;
      case wi::RunResult::Trap: return to_trap(store, trap);
      case wi::RunResult::Exception: return Trap{TrapKind::Other, "uncaught exception"};
      case wi::RunResult::Ok: break;
    }
    // wabt reports a call_indirect that overflows the call stack by setting
    // the trap but carrying on; stop there.
    if (trap) return to_trap(store, trap);
    if (value_stack_size(thread) > kMaxValueStack) return Trap{TrapKind::StackExhausted, "value stack exhausted"};
    if (core && core->interrupted.load(std::memory_order_relaxed)) {
      return Trap{TrapKind::Deadline, "instance interrupted"};
    }
    if (deadline && Clock::now() >= *deadline) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*limits.call_timeout).count();
      return Trap{TrapKind::Deadline, "call exceeded its time limit of " + std::to_string(ms) + " ms"};
    }
    const wi::Instance* current = current_instance(thread);
    if (current != seen) {
      seen = current;
      executing = store.find_core(current);
    }
    if (executing && executing->interrupted.load(std::memory_order_relaxed)) {
      return Trap{TrapKind::Deadline, "instance interrupted"};
    }
    // Let a call waiting on another thread take a turn. Only the outermost
    // call holds the lock exactly once; a nested one (inside a host function)
    // cannot release it. Collection waits for all threads, so nothing of ours
    // moves meanwhile.
    if (t_nesting == 1 && store.mutex.contended()) {
      store.mutex.unlock();
      std::this_thread::yield();
      store.mutex.lock();
    }
  }
}

// What a host function sees of the wasm instance that called it.
class HostCaller final : public Caller {
 public:
  HostCaller(StoreState& store, wi::Thread& thread) : store_(store), instance_(thread.GetCallerInstance()) {}

  Memory* memory(std::string_view export_name) override {
    if (!instance_) return nullptr;
    for (auto& [name, memory] : memories_) {
      if (name == export_name) return memory.get();
    }
    auto module = store_.store.UnsafeGet<wi::Module>(instance_->module());
    const auto& exports = module->export_types();
    for (size_t i = 0; i < exports.size(); ++i) {
      if (exports[i].name != export_name || exports[i].type->kind != wabt::ExternalKind::Memory) continue;
      auto memory = std::make_shared<InterpMemory>(store_.shared_from_this(),
                                                   store_.store.UnsafeGet<wi::Memory>(instance_->exports()[i]));
      memories_.emplace_back(std::string(export_name), memory);
      return memory.get();
    }
    return nullptr;
  }

  Instance* instance() override {
    if (!instance_) return nullptr;
    if (!owner_) {
      if (auto core = store_.find_core(instance_)) owner_ = core->owner.lock();
    }
    return owner_.get();
  }

 private:
  StoreState& store_;
  wi::Instance* instance_;
  std::vector<std::pair<std::string, std::shared_ptr<InterpMemory>>> memories_;
  std::shared_ptr<Instance> owner_;
};

}  // namespace

Trap to_trap(StoreState& store, const wi::Trap::Ptr& trap) {
  if (!trap) return Trap{TrapKind::Other, "trap"};
  if (auto host = store.take_host_trap(trap.get())) return std::move(*host);
  std::string message = trap->message();
  return Trap{classify(message), message};
}

CallResult call_func(StoreState& store, const wi::Func::Ptr& func, const FuncType& type, std::span<const Value> args,
                     InstanceCore* core) {
  if (t_nesting == 0) store.maybe_collect();
  static const InstanceLimits kDefaultLimits;
  const InstanceLimits& limits = core ? core->limits : kDefaultLimits;
  if (core && core->interrupted.load(std::memory_order_relaxed)) {
    return Trap{TrapKind::Deadline, "instance interrupted"};
  }
  if (t_nesting >= kMaxNesting) {
    return Trap{TrapKind::StackExhausted, "host and wasm calls nested too deeply"};
  }
  auto params = args_to_wabt(store, args, type.params);
  if (!params) return std::move(params).error();

  NestingGuard nesting;
  wi::Thread thread(store.store);
  set_call_stack_limit(thread, std::min(limits.max_call_depth, kMaxCallDepth));
  wi::Values results;
  if (auto* defined = wabt::dyn_cast<wi::DefinedFunc>(func.get())) {
    wi::Trap::Ptr trap;
    if (!begin_call(thread, *defined, *params, &trap)) return to_trap(store, trap);
    if (auto failed = run_sliced(store, thread, limits, core)) return std::move(*failed);
    finish_call(thread, defined->type().results, &results);
  } else {
    wi::Trap::Ptr trap;
    results.resize(type.results.size());  // a HostFunc writes into sized results
    if (wabt::Failed(func->Call(thread, *params, results, &trap))) return to_trap(store, trap);
  }

  std::vector<Value> out;
  out.reserve(results.size());
  for (size_t i = 0; i < results.size() && i < type.results.size(); ++i) {
    out.push_back(from_wabt(store, type.results[i], results[i]));
  }
  return out;
}

wi::HostFunc::Ptr make_host_func(StoreState& store, const FuncType& type, HostCallback callback) {
  // A raw pointer: the wabt HostFunc lives inside the store, so a shared_ptr
  // here would keep the store alive forever.
  StoreState* st = &store;
  auto body = [st, type, callback = std::move(callback)](wi::Thread& thread, const wi::Values& params,
                                                         wi::Values& results, wi::Trap::Ptr* out_trap) {
    std::vector<Value> args;
    args.reserve(params.size());
    for (size_t i = 0; i < params.size(); ++i) args.push_back(from_wabt(*st, type.params[i], params[i]));
    std::vector<Value> outs;
    for (auto t : type.results) outs.push_back(Value::zero(t));

    std::optional<Trap> failure;
    {
      HostCaller caller(*st, thread);
      // An exception must not unwind through wabt's interpreter loop.
      try {
        failure = callback(caller, args, outs);
      } catch (const std::exception& e) {
        failure = Trap{TrapKind::HostError, std::string("host function threw: ") + e.what()};
      } catch (...) {
        failure = Trap{TrapKind::HostError, "host function threw"};
      }
    }
    for (size_t i = 0; !failure && i < outs.size(); ++i) {
      auto v = to_wabt(*st, outs[i], type.results[i]);
      if (!v) {
        failure = Trap{TrapKind::HostError, "host function result " + std::to_string(i) + ": " + v.error().message};
      } else {
        results[i] = *v;
      }
    }
    if (failure) {
      std::string message = failure->message.empty() ? std::string(to_string(failure->kind)) : failure->message;
      *out_trap = wi::Trap::New(st->store, message);
      st->remember_host_trap(out_trap->get(), std::move(*failure));
      return wabt::Result::Error;
    }
    return wabt::Result::Ok;
  };
  return wi::HostFunc::New(store.store, to_wabt(type), std::move(body));
}

}  // namespace stratus::engine::interp
