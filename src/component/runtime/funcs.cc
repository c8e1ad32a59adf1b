#include "component/runtime/funcs.h"

#include <chrono>
#include <map>
#include <utility>

namespace stratus::component {
namespace {

engine::Trap trap(std::string message) { return engine::Trap{engine::TrapKind::Other, std::move(message), 0}; }

engine::Trap trap_from(const Error& error) { return trap(error.message); }

// ResourceHooks over one side of a call: the instance's handle table, the
// callee's borrow scope (lowering borrows into it) and the caller's lenders
// (handles lent out as borrows for the duration of the call).
class CallHooks final : public canon::ResourceHooks {
 public:
  CallHooks(InstanceState& instance, BorrowScope* scope) : instance_(instance), scope_(scope) {}
  // A call a host ends late (an async host function still under way when
  // its caller's instance went) ends its loans only if the instance is
  // still there.
  ~CallHooks() override {
    if (!lenders_.empty() && lenders_alive_.expired()) return;
    release_lends();
  }

  Result<ResourceRef> lift_own(const ResourceTypePtr& type, uint32_t index) override {
    auto rt = instance_.resolve(type);
    auto entry = instance_.handles().get(index);
    if (!entry.ok()) return std::move(entry).error();
    auto* h = *entry;
    if (h->resource != rt) return wrong_type(index, rt, h->resource);
    if (h->num_lends != 0)
      return make_error("cannot transfer handle index " + std::to_string(index) + " while it is lent out as a borrow");
    if (!h->own) return make_error("handle index " + std::to_string(index) + " is a borrow, expected an own");
    auto removed = instance_.handles().remove(index);
    if (!removed.ok()) return std::move(removed).error();
    return ResourceRef{rt, removed->rep};
  }

  Result<ResourceRef> lift_borrow(const ResourceTypePtr& type, uint32_t index) override {
    auto rt = instance_.resolve(type);
    auto entry = instance_.handles().get(index);
    if (!entry.ok()) return std::move(entry).error();
    auto* h = *entry;
    if (h->resource != rt) return wrong_type(index, rt, h->resource);
    h->num_lends += 1;
    if (lenders_.empty()) lenders_alive_ = instance_.weak_from_this();
    lenders_.push_back(index);
    return ResourceRef{rt, h->rep};
  }

  Result<uint32_t> lower_own(const ResourceTypePtr& type, const ResourceRef& resource) override {
    return instance_.handles().add(ResourceHandle{settled(resource.resource), resource.rep, true, nullptr, 0});
  }

  Result<uint32_t> lower_borrow(const ResourceTypePtr& type, const ResourceRef& resource) override {
    const auto& rt = settled(resource.resource);
    if (rt->implementer == &instance_) return resource.rep;
    if (scope_ == nullptr) return make_error("a borrow cannot be returned");
    auto index = instance_.handles().add(ResourceHandle{rt, resource.rep, false, scope_, 0});
    if (index.ok()) scope_->num_borrows += 1;
    return index;
  }

  Result<Val> lift_async(const ValType& type, uint32_t index) override {
    return lift_async_value(instance_, type, index);
  }
  Result<uint32_t> lower_async(const ValType& type, const Val& value) override {
    return lower_async_value(instance_, type, value);
  }

  // Ends the loans made while lifting borrows (at the end of the call).
  void release_lends() noexcept {
    for (uint32_t index : lenders_) {
      ResourceHandle* h = instance_.handles().find(index);
      if (h != nullptr && h->num_lends > 0) h->num_lends -= 1;
    }
    lenders_.clear();
  }

 private:
  static Error wrong_type(uint32_t index, const ResourceTypePtr& expected, const ResourceTypePtr& found) {
    return make_error("handle index " + std::to_string(index) + " used with the wrong type, expected resource `" +
                      (expected ? expected->name : std::string("?")) + "` but found `" +
                      (found ? found->name : std::string("?")) + "`");
  }

  InstanceState& instance_;
  BorrowScope* scope_;
  std::vector<uint32_t> lenders_;
  std::weak_ptr<InstanceState> lenders_alive_;  // the instance, while there are loans
};

}  // namespace

std::unique_ptr<canon::ResourceHooks> make_call_hooks(InstanceState& instance, BorrowScope* scope) {
  return std::make_unique<CallHooks>(instance, scope);
}

canon::Context make_context(const RtCanonOptions& options, canon::ResourceHooks* hooks) {
  canon::Context cx;
  cx.memory = options.memory.get();
  cx.encoding = options.encoding;
  cx.resources = hooks;
  if (options.realloc) {
    auto realloc = options.realloc;
    cx.realloc = [realloc](uint32_t old_ptr, uint32_t old_size, uint32_t align, uint32_t new_size) -> Result<uint32_t> {
      engine::Value args[] = {engine::Value::i32(old_ptr), engine::Value::i32(old_size), engine::Value::i32(align),
                              engine::Value::i32(new_size)};
      auto r = realloc->call(args);
      if (r.trapped()) return make_error("realloc trapped: " + r.trap().message);
      if (!r.ok()) return make_error("realloc failed: " + r.error().message);
      if (r.values().size() != 1 || r.values()[0].type() != engine::ValType::I32)
        return make_error("realloc has the wrong type");
      return r.values()[0].i32();
    };
  }
  return cx;
}

namespace {

std::vector<ValType> param_types(const FuncType& type) {
  std::vector<ValType> out;
  out.reserve(type.params.size());
  for (const auto& p : type.params) out.push_back(p.type);
  return out;
}

std::vector<ValType> result_types(const FuncType& type) {
  if (type.result) return {*type.result};
  return {};
}

// A component instance entered from `caller` while a call's thread runs
// in it (CanonicalABI.md Store.lift: enter_from / leave_to; check
// may_enter_from first).
class Entered {
 public:
  Entered(InstanceState& instance, const InstanceState* caller) : instance_(instance), caller_(caller) {
    instance_.enter_from(caller_);
  }
  ~Entered() { instance_.leave_to(caller_); }
  Entered(const Entered&) = delete;
  Entered& operator=(const Entered&) = delete;

 private:
  InstanceState& instance_;
  const InstanceState* caller_;
};

// CanonicalABI.md CallbackCode.
constexpr uint32_t kCallbackExit = 0, kCallbackYield = 1, kCallbackWait = 2;

MaybeTrap trap_of(const engine::CallResult& r) {
  if (r.trapped()) return r.trap();
  if (!r.ok()) return trap(r.error().message);
  return std::nullopt;
}

class LiftedFunc final : public RtFunc {
 public:
  LiftedFunc(InstanceState& instance, FuncTypePtr type, std::shared_ptr<engine::Func> core, RtCanonOptions options)
      : RtFunc(std::move(type), &instance),
        instance_(instance),
        core_(std::move(core)),
        options_(std::move(options)),
        params_(param_types(*this->type())),
        results_(result_types(*this->type())) {}

  // A sync call from another component's lowered import: values go from the
  // caller's memory straight into this instance's and back
  // (canon::transfer_flat_values), with no Val in between, on the caller's
  // stack (a sync-typed call cannot block past its return). `out` receives
  // the caller's core results.
  MaybeTrap call_direct(InstanceState* caller, canon::Context& caller_cx, std::span<const engine::Value> flat_args,
                        std::optional<uint32_t> out_ptr, std::span<engine::Value> out) {
    if (instance_.poisoned() || !instance_.may_enter_from(caller)) return trap("cannot enter component instance");
    Entered entered(instance_, caller);
    auto task = std::make_shared<Task>(type().get(), &options_, &instance_, nullptr, nullptr);
    Thread thread(task, nullptr, false);
    MaybeTrap result;
    thread.run_here([&] {
      bool in = false;
      if ((result = task->enter_implicit_thread(&in))) return;
      CallHooks hooks(instance_, &task->borrows);
      auto cx = make_context(options_, &hooks);
      auto flat = canon::transfer_flat_values(caller_cx, cx, canon::kMaxFlatParams, flat_args, params_);
      if (!flat.ok()) {
        result = trap_from(flat.error());
        return;
      }
      task->state = Task::State::Started;
      auto r = core_->call(*flat);
      if ((result = trap_of(r))) return;
      auto back = canon::transfer_flat_values(cx, caller_cx, canon::kMaxFlatResults, r.values(), results_, out_ptr);
      if (!back.ok()) {
        result = trap_from(back.error());
        return;
      }
      if (task->borrows.num_borrows > 0) {
        result = trap("borrow handles still remain at the end of the call");
        return;
      }
      task->state = Task::State::Resolved;
      if ((result = post_return(r.values()))) return;
      if ((result = task->exit_implicit_thread())) return;
      if (back->size() != out.size()) {
        result = trap("lowered results do not match the core signature");
        return;
      }
      for (size_t i = 0; i < out.size(); ++i) out[i] = (*back)[i];
    });
    if (result) instance_.store().poison(*result);
    return result;
  }

  // Store.lift and canon_lift: a new task and its implicit thread, on a
  // fiber for an async-typed function; runs until the thread blocks or
  // finishes.
  std::pair<MaybeTrap, OnCancel> invoke(InstanceState* caller, OnStart on_start, OnResolve on_resolve) override {
    Store& store = instance_.store();
    if (instance_.poisoned() || !instance_.may_enter_from(caller)) {
      auto t = trap("cannot enter component instance");
      store.poison(t);
      return {t, nullptr};
    }
    auto task = std::make_shared<Task>(type().get(), &options_, &instance_, std::move(on_start), std::move(on_resolve));
    {
      Entered entered(instance_, caller);
      Task* raw = task.get();
      auto body = [this, raw] {
        if (auto t = run_task(*raw)) instance_.store().poison(*t);
      };
      if (type()->async) {
        auto thread = std::make_shared<Thread>(task, body, true);
        store.live[thread.get()] = thread;
        thread->resume();
      } else {
        Thread thread(task, nullptr, false);
        thread.run_here(body);
      }
    }
    if (store.trap()) return {*store.trap(), nullptr};
    std::weak_ptr<Task> weak = task;
    return {std::nullopt, [weak](InstanceState* c) {
              if (auto t = weak.lock()) t->request_cancellation(c);
            }};
  }

  CallOutcome call(InstanceState* caller, std::span<const Val> args) override {
    if (args.size() != params_.size())
      return make_error("expected " + std::to_string(params_.size()) + " arguments, got " +
                        std::to_string(args.size()));
    if (caller == nullptr) {
      for (size_t i = 0; i < args.size(); ++i) {
        auto ok = check_type(args[i], params_[i]);
        if (!ok.ok()) return std::move(ok).error().context("argument `" + type()->params[i].name + "`");
      }
    }
    return call_and_wait(*this, instance_.store(), caller, args, instance_.options().limits.call_timeout);
  }

  bool is_async() const { return options_.async; }

 private:
  // The body of canon_lift's thread_func.
  MaybeTrap run_task(Task& task) {
    bool entered = false;
    STRATUS_TRAP_TRY(task.enter_implicit_thread(&entered));
    if (!entered) return std::nullopt;
    CallHooks hooks(instance_, &task.borrows);
    auto cx = make_context(options_, &hooks);
    auto args = task.start();
    if (!args) return instance_.store().trap() ? *instance_.store().trap() : trap("lifting the arguments failed");
    auto flat = canon::lower_flat_values(cx, canon::kMaxFlatParams, *args, params_);
    if (!flat.ok()) return trap_from(flat.error());
    auto first = core_->call(*flat);
    STRATUS_TRAP_TRY(trap_of(first));
    if (!options_.async) {
      auto lifted = canon::lift_flat_values(cx, canon::kMaxFlatResults, first.values(), results_);
      if (!lifted.ok()) return trap_from(lifted.error());
      std::optional<Val> result;
      if (!lifted->empty()) result = std::move(lifted->front());
      STRATUS_TRAP_TRY(task.return_(std::move(result)));
      STRATUS_TRAP_TRY(post_return(first.values()));
      return task.exit_implicit_thread();
    }
    if (options_.callback) STRATUS_TRAP_TRY(run_event_loop(task, first.values()));
    return task.exit_implicit_thread();
  }

  // canon_lift's stackless (`callback`) event loop.
  MaybeTrap run_event_loop(Task& task, std::span<const engine::Value> first) {
    if (first.size() != 1) return trap("async-lifted core function returned the wrong number of results");
    Thread& thread = *task.implicit_thread;
    InstanceState& inst = instance_;
    uint32_t packed = first[0].i32();
    for (;;) {
      uint32_t code = packed & 0xf;
      uint32_t si = packed >> 4;
      if (code > kCallbackWait) return trap("unsupported callback code " + std::to_string(code));
      if (code == kCallbackExit) return std::nullopt;
      inst.exclusive_thread = nullptr;
      Event event;
      auto free = [&inst] { return inst.exclusive_thread == nullptr; };
      if (code == kCallbackYield) {
        bool cancelled = false;
        STRATUS_TRAP_TRY(thread.yield(true, &cancelled));
        // A yield comes back once the exclusive lock is free again.
        if (!cancelled && !free()) STRATUS_TRAP_TRY(thread.wait_until(free, true, &cancelled));
        event = cancelled ? Event{EventCode::TaskCancelled, 0, 0} : Event{};
      } else {
        auto h = inst.handles().get_async(si);
        if (!h.ok() || (*h)->kind != AsyncHandle::Kind::WaitableSet)
          return trap("callback returned WAIT on handle index " + std::to_string(si) + ", which is not a waitable set");
        STRATUS_TRAP_TRY(static_cast<WaitableSet*>(*h)->wait_for_event_and(thread, free, true, &event));
      }
      inst.exclusive_thread = &thread;
      engine::Value args[] = {engine::Value::i32(static_cast<uint32_t>(event.code)), engine::Value::i32(event.index),
                              engine::Value::i32(event.payload)};
      auto next = options_.callback->call(args);
      STRATUS_TRAP_TRY(trap_of(next));
      if (next.values().size() != 1) return trap("callback returned the wrong number of results");
      packed = next.values()[0].i32();
    }
  }

  // Runs post-return, if the lift has one, with leaving the instance
  // forbidden (CanonicalABI.md canon_lift).
  MaybeTrap post_return(std::span<const engine::Value> results) {
    if (!options_.post_return) return std::nullopt;
    instance_.may_leave = false;
    auto post = options_.post_return->call(results);
    instance_.may_leave = true;
    return trap_of(post);
  }

  InstanceState& instance_;
  std::shared_ptr<engine::Func> core_;
  RtCanonOptions options_;
  std::vector<ValType> params_;
  std::vector<ValType> results_;
};

class HostFuncAdapter final : public RtFunc {
 public:
  explicit HostFuncAdapter(HostFunc func)
      : RtFunc(func.type, nullptr),
        callback_(std::move(func.callback)),
        async_callback_(std::move(func.async_callback)),
        name_(std::make_shared<const std::string>(std::move(func.name))) {}

  CallOutcome call(InstanceState* caller, std::span<const Val> args) override {
    if (args.size() != type()->params.size())
      return make_error("expected " + std::to_string(type()->params.size()) + " arguments, got " +
                        std::to_string(args.size()));
    if (async_callback_) {
      if (caller == nullptr) return make_error("async host function `" + *name_ + "` needs a calling component");
      return call_and_wait(*this, caller->store(), caller, args);
    }
    CallContext context{caller, caller != nullptr ? &caller->store().reactor : nullptr};
    auto out = callback_(context, args);
    if (auto* t = std::get_if<engine::Trap>(&out)) return std::move(*t);
    auto& result = std::get<std::optional<Val>>(out);
    if (result.has_value() != type()->result.has_value())
      return trap(result ? "host function returned a value but its type has no result"
                         : "host function returned no value but its type has a result");
    if (result) {
      auto ok = check_type(*result, *type()->result);
      if (!ok.ok()) return trap("host function returned a value of the wrong type: " + ok.error().message);
    }
    return std::move(result);
  }

  // A sync host function runs to its end at once: it starts, returns and
  // resolves within the call. An async one starts here and resolves when
  // the host ends its HostCall.
  std::pair<MaybeTrap, OnCancel> invoke(InstanceState* caller, OnStart on_start, OnResolve on_resolve) override {
    auto args = on_start();
    Store* store = caller != nullptr ? &caller->store() : nullptr;
    if (!args) return {store && store->trap() ? *store->trap() : trap("lifting the arguments failed"), nullptr};
    if (async_callback_) {
      if (store == nullptr) return {trap("async host function `" + *name_ + "` needs a calling component"), nullptr};
      auto call =
          std::make_shared<HostCall>(name_, type(), caller->weak_from_this(), store->reactor, std::move(on_resolve));
      CallContext context{caller, &store->reactor};
      async_callback_(context, std::move(*args), call);
      if (store->trap()) return {*store->trap(), nullptr};
      std::weak_ptr<HostCall> weak = call;
      return {std::nullopt, [weak](InstanceState*) {
                if (auto c = weak.lock()) c->request_cancel();
              }};
    }
    auto outcome = call(caller, *args);
    if (!outcome.returned()) {
      auto t = outcome.trapped() ? outcome.trap() : trap(outcome.error().message);
      if (store) store->poison(t);
      return {t, nullptr};
    }
    on_resolve(Resolution{false, std::move(outcome.result())});
    if (store && store->trap()) return {*store->trap(), nullptr};
    return {std::nullopt, nullptr};
  }

 private:
  HostFuncCallback callback_;
  AsyncHostFuncCallback async_callback_;
  std::shared_ptr<const std::string> name_;
};

engine::FuncType core_type(const canon::FlatSignature& sig) { return engine::FuncType{sig.params, sig.results}; }

bool has_handles(const ValType& t) {
  if (t.is_primitive()) return t.primitive() == PrimType::ErrorContext;
  return std::visit(
      [](const auto& k) -> bool {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RecordType>) {
          for (const auto& f : k.fields)
            if (has_handles(f.type)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, VariantType>) {
          for (const auto& c : k.cases)
            if (c.type && has_handles(*c.type)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, TupleType>) {
          for (const auto& e : k.elements)
            if (has_handles(e)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType>) {
          return has_handles(k.element);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          return (k.ok && has_handles(*k.ok)) || (k.err && has_handles(*k.err));
        } else {
          return true;  // own and borrow; streams, futures and maps are left to the general path too
        }
      },
      t.defined().kind);
}

bool has_handles(const FuncType& type) {
  for (const auto& p : type.params)
    if (has_handles(p.type)) return true;
  return type.result && has_handles(*type.result);
}

// A lowered function type's flat signature and its parameter and result
// types, worked out once per type (each instantiation lowers the same
// imports again). Per thread, so no lock; the entry keeps its type alive, so
// an address is never reused for another type while it is cached.
struct LoweredShape {
  FuncTypePtr type;
  canon::FlatSignature sig;
  std::vector<ValType> params, results;
};

std::shared_ptr<const LoweredShape> lowered_shape(const FuncTypePtr& type) {
  thread_local std::map<const FuncType*, std::shared_ptr<const LoweredShape>> cache;
  auto it = cache.find(type.get());
  if (it != cache.end()) return it->second;
  if (cache.size() >= 4096) cache.clear();  // a bound, for hosts that load many components
  auto shape = std::make_shared<const LoweredShape>(
      LoweredShape{type, canon::flatten_func(*type, canon::Direction::Lower), param_types(*type), result_types(*type)});
  cache.emplace(type.get(), shape);
  return shape;
}

// One call through a lowered import (canon_lower): what its on_start and
// on_resolve need after the core function that began it has returned (an
// async call may resolve much later).
struct LowerCall {
  InstanceState* inst = nullptr;
  const RtCanonOptions* options = nullptr;
  std::shared_ptr<const LoweredShape> shape;
  bool async = false;
  std::vector<engine::Value> flat_args;
  std::optional<uint32_t> out_ptr;
  std::shared_ptr<CallHooks> hooks;
  std::shared_ptr<Subtask> subtask = std::make_shared<Subtask>();
  std::vector<engine::Value> flat_results;
  std::function<void()> on_progress;
};

MaybeTrap canon_lower(InstanceState* inst, RtFunc* callee, const RtCanonOptions* options,
                      const std::shared_ptr<const LoweredShape>& shape, std::span<const engine::Value> args,
                      std::span<engine::Value> out) {
  if (!inst->may_leave) return trap("cannot leave component instance");
  Thread& thread = current_thread_of(*inst);
  auto call = std::make_shared<LowerCall>();
  call->inst = inst;
  call->options = options;
  call->shape = shape;
  call->async = options->async;
  bool has_result = !shape->results.empty();
  bool indirect = options->async ? has_result : shape->sig.results_indirect;
  if (indirect) {
    call->out_ptr = args.back().i32();
    args = args.first(args.size() - 1);
  }
  call->flat_args.assign(args.begin(), args.end());
  call->hooks = std::make_shared<CallHooks>(*inst, nullptr);
  auto hooks = call->hooks;
  call->subtask->release_lends = [hooks] { hooks->release_lends(); };
  LowerCall* c = call.get();
  OnStart on_start = [call]() -> std::optional<std::vector<Val>> {
    if (call->on_progress) call->on_progress();
    call->subtask->state = Subtask::State::Started;
    auto cx = make_context(*call->options, call->hooks.get());
    size_t max = call->async ? canon::kMaxFlatAsyncParams : canon::kMaxFlatParams;
    auto vals = canon::lift_flat_values(cx, max, call->flat_args, call->shape->params);
    if (!vals.ok()) {
      call->inst->store().poison(trap_from(vals.error()));
      return std::nullopt;
    }
    return std::move(*vals);
  };
  OnResolve on_resolve = [call](Resolution r) {
    if (call->on_progress) call->on_progress();
    auto& subtask = *call->subtask;
    if (r.cancelled) {
      subtask.resolve(subtask.state == Subtask::State::Starting ? Subtask::State::CancelledBeforeStarted
                                                                : Subtask::State::CancelledBeforeReturned);
      return;
    }
    std::vector<Val> vals;
    if (r.value) vals.push_back(std::move(*r.value));
    if (vals.size() != call->shape->results.size()) {
      call->inst->store().poison(trap("callee returned the wrong number of results"));
      return;
    }
    auto cx = make_context(*call->options, call->hooks.get());
    size_t max = call->async ? 0 : canon::kMaxFlatResults;
    auto flat = canon::lower_flat_values(cx, max, vals, call->shape->results, call->out_ptr);
    if (!flat.ok()) {
      call->inst->store().poison(trap_from(flat.error()));
      return;
    }
    call->flat_results = std::move(*flat);
    subtask.resolve(Subtask::State::Returned);
  };
  auto [started, on_cancel] = callee->invoke(inst, std::move(on_start), std::move(on_resolve));
  if (started) return started;
  auto subtask = c->subtask;
  subtask->on_cancel = std::move(on_cancel);
  if (!options->async) {
    if (!subtask->resolved()) {
      bool cancelled = false;
      STRATUS_TRAP_TRY(thread.wait_until([subtask] { return subtask->resolved(); }, false, &cancelled));
    }
    subtask->deliver_resolve();
    if (c->flat_results.size() != out.size()) return trap("lowered results do not match the core signature");
    for (size_t i = 0; i < out.size(); ++i) out[i] = c->flat_results[i];
    return std::nullopt;
  }
  if (subtask->resolved()) {
    subtask->deliver_resolve();
    out[0] = engine::Value::i32(static_cast<uint32_t>(Subtask::State::Returned));
    return std::nullopt;
  }
  auto index = inst->handles().add(subtask);
  if (!index.ok()) return trap(index.error().message);
  uint32_t i = *index;
  std::weak_ptr<Subtask> weak = subtask;
  c->on_progress = [weak, i] {
    auto s = weak.lock();
    if (!s) return;
    s->set_pending_event([weak, i]() -> Event {
      auto s = weak.lock();
      if (!s) return Event{};
      if (s->resolved()) s->deliver_resolve();
      return Event{EventCode::Subtask, i, static_cast<uint32_t>(s->state)};
    });
  };
  out[0] = engine::Value::i32(static_cast<uint32_t>(subtask->state) | (i << 4));
  return std::nullopt;
}

}  // namespace

namespace {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

// Why the host's loop must stop before its next turn: the store trapped,
// or `deadline` passed (`late` says what was late).
MaybeTrap loop_stop(const Store& store, const Deadline& deadline, const char* late) {
  if (store.trap()) return *store.trap();
  if (deadline && std::chrono::steady_clock::now() > *deadline)
    return engine::Trap{engine::TrapKind::Deadline, late, 0};
  return std::nullopt;
}

// One turn of the host's loop. The host's work that is due goes first, so
// that guest threads that keep yielding cannot starve it; then a ready
// guest thread; else it waits for the host (until `deadline`). False when
// nothing ran and nothing can come from the host any more.
bool loop_turn(Store& store, const Deadline& deadline) {
  if (store.reactor.busy()) store.reactor.run(false);
  if (store.tick()) return true;
  if (!store.reactor.busy()) return false;
  store.reactor.run(true, deadline);
  return true;
}

}  // namespace

MaybeTrap run_event_loop(Store& store, const std::function<bool()>& done,
                         std::optional<std::chrono::nanoseconds> timeout, std::chrono::steady_clock::time_point start) {
  Deadline deadline;
  if (timeout) deadline = start + *timeout;
  while (!done()) {
    STRATUS_TRAP_TRY(loop_stop(store, deadline, "the call did not resolve before its deadline"));
    if (loop_turn(store, deadline) || done() || store.trap()) continue;
    return trap("deadlock detected: event loop cannot make further progress");
  }
  return std::nullopt;
}

MaybeTrap run_until_idle(Store& store, std::optional<std::chrono::nanoseconds> timeout) {
  Deadline deadline;
  if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;
  do {
    STRATUS_TRAP_TRY(loop_stop(store, deadline, "the work left after the call did not end before its deadline"));
  } while (loop_turn(store, deadline));
  return std::nullopt;
}

CallOutcome call_and_wait(RtFunc& callee, Store& store, InstanceState* caller, std::span<const Val> args,
                          std::optional<std::chrono::nanoseconds> timeout) {
  auto start = std::chrono::steady_clock::now();
  std::optional<Resolution> result;
  std::vector<Val> owned(args.begin(), args.end());
  // The call resolves here or never is cancelled: its canceller is not kept.
  MaybeTrap t = callee
                    .invoke(
                        caller, [&owned]() -> std::optional<std::vector<Val>> { return std::move(owned); },
                        [&result](Resolution r) { result = std::move(r); })
                    .first;
  if (t) return *t;
  if (caller == nullptr) {
    if (auto stopped = run_event_loop(
            store, [&result] { return result.has_value(); }, timeout, start))
      return *stopped;
  } else {
    Thread& thread = current_thread_of(*caller);
    bool cancelled = false;
    if (auto w = thread.wait_until([&result] { return result.has_value(); }, false, &cancelled)) return *w;
  }
  if (store.trap()) return *store.trap();
  if (result->cancelled) return trap("the call was cancelled");
  return std::move(result->value);
}

RtFuncPtr make_lifted_func(InstanceState& instance, FuncTypePtr type, std::shared_ptr<engine::Func> core_func,
                           RtCanonOptions options) {
  return std::make_shared<LiftedFunc>(instance, std::move(type), std::move(core_func), std::move(options));
}

RtFuncPtr make_host_func(HostFunc func) { return std::make_shared<HostFuncAdapter>(std::move(func)); }

std::shared_ptr<engine::Func> make_lowered_func(InstanceState& instance, RtFunc* callee, FuncTypePtr type,
                                                const RtCanonOptions* options) {
  auto shape = lowered_shape(type);
  const auto& sig = shape->sig;
  InstanceState* inst = &instance;
  // Sync component-to-component calls of sync-typed functions without
  // handles copy each value once, on the caller's stack; the rest go
  // through canon_lower and Val, each side resolving its own handles.
  auto* direct = dynamic_cast<LiftedFunc*>(callee);
  if (!options->async && direct != nullptr && !direct->type()->async && !has_handles(*type)) {
    return instance.engine().host_func(
        core_type(sig),
        [inst, direct, sig, options](engine::Caller&, std::span<const engine::Value> args,
                                     std::span<engine::Value> out) -> std::optional<engine::Trap> {
          if (!inst->may_leave) return trap("cannot leave component instance");
          CallHooks hooks(*inst, nullptr);
          auto cx = make_context(*options, &hooks);
          std::optional<uint32_t> out_ptr;
          auto flat_args = args;
          if (sig.results_indirect) {
            out_ptr = args.back().i32();
            flat_args = args.first(args.size() - 1);
          }
          return direct->call_direct(inst, cx, flat_args, out_ptr, out);
        });
  }
  engine::FuncType core = core_type(sig);
  if (options->async) {
    core = {};
    for (const auto& p : shape->params) canon::flatten_into(p, core.params);
    if (core.params.size() > canon::kMaxFlatAsyncParams) core.params = {engine::ValType::I32};
    if (!shape->results.empty()) core.params.push_back(engine::ValType::I32);  // where the result goes
    core.results = {engine::ValType::I32};
  }
  return instance.engine().host_func(
      core,
      [inst, callee, shape, options](engine::Caller&, std::span<const engine::Value> args,
                                     std::span<engine::Value> out) -> std::optional<engine::Trap> {
        auto t = canon_lower(inst, callee, options, shape, args, out);
        if (t) inst->store().poison(*t);
        return t;
      });
}

std::shared_ptr<engine::Func> make_resource_new(InstanceState& instance, const ResourceTypePtr& runtime_type) {
  InstanceState* inst = &instance;
  std::weak_ptr<const ResourceType> weak = runtime_type;
  engine::FuncType type{{engine::ValType::I32}, {engine::ValType::I32}};
  return instance.engine().host_func(
      type,
      [inst, weak](engine::Caller&, std::span<const engine::Value> args,
                   std::span<engine::Value> out) -> std::optional<engine::Trap> {
        if (!inst->may_leave) return trap("cannot leave component instance");
        auto runtime_type = weak.lock();
        auto index = inst->handles().add(ResourceHandle{runtime_type, args[0].i32(), true, nullptr, 0});
        if (!index.ok()) return trap_from(index.error());
        out[0] = engine::Value::i32(*index);
        return std::nullopt;
      });
}

std::shared_ptr<engine::Func> make_resource_drop(InstanceState& instance, const ResourceTypePtr& runtime_type) {
  InstanceState* inst = &instance;
  std::weak_ptr<const ResourceType> weak = runtime_type;
  engine::FuncType type{{engine::ValType::I32}, {}};
  return instance.engine().host_func(
      type,
      [inst, weak](engine::Caller&, std::span<const engine::Value> args,
                   std::span<engine::Value>) -> std::optional<engine::Trap> {
        if (!inst->may_leave) return trap("cannot leave component instance");
        // An imported resource's type may be a placeholder of a lazy link,
        // settled since: the handles hold the type it stands for.
        auto runtime_type = settled(weak.lock());
        uint32_t index = args[0].i32();
        auto entry = inst->handles().get(index);
        if (!entry.ok()) return trap_from(entry.error());
        if ((*entry)->resource != runtime_type)
          return trap("handle index " + std::to_string(index) + " used with the wrong type, expected resource `" +
                      runtime_type->name + "` but found `" + (*entry)->resource->name + "`");
        if ((*entry)->num_lends != 0)
          return trap("cannot drop handle index " + std::to_string(index) + " while it is lent out as a borrow");
        auto h = inst->handles().remove(index);
        if (!h.ok()) return trap_from(h.error());
        if (!h->own) {
          if (h->borrow_scope != nullptr && h->borrow_scope->num_borrows > 0) h->borrow_scope->num_borrows -= 1;
          return std::nullopt;
        }
        return destroy_resource(runtime_type, h->rep, inst);
      });
}

std::shared_ptr<engine::Func> make_resource_rep(InstanceState& instance, const ResourceTypePtr& runtime_type) {
  InstanceState* inst = &instance;
  std::weak_ptr<const ResourceType> weak = runtime_type;
  engine::FuncType type{{engine::ValType::I32}, {engine::ValType::I32}};
  return instance.engine().host_func(
      type,
      [inst, weak](engine::Caller&, std::span<const engine::Value> args,
                   std::span<engine::Value> out) -> std::optional<engine::Trap> {
        // An imported resource's type may be a placeholder of a lazy link,
        // settled since: the handles hold the type it stands for.
        auto runtime_type = settled(weak.lock());
        uint32_t index = args[0].i32();
        auto entry = inst->handles().get(index);
        if (!entry.ok()) return trap_from(entry.error());
        if ((*entry)->resource != runtime_type)
          return trap("handle index " + std::to_string(index) + " used with the wrong type, expected resource `" +
                      runtime_type->name + "` but found `" + (*entry)->resource->name + "`");
        out[0] = engine::Value::i32((*entry)->rep);
        return std::nullopt;
      });
}

std::shared_ptr<engine::Func> make_task_return(InstanceState& instance, std::optional<ValType> result,
                                               const RtCanonOptions* options, const engine::FuncType& core_type) {
  InstanceState* inst = &instance;
  std::vector<ValType> types;
  if (result) types.push_back(*result);
  auto body = [inst, result, types, options](std::span<const engine::Value> args) -> MaybeTrap {
    if (!inst->may_leave) return trap("cannot leave component instance");
    Thread& thread = current_thread_of(*inst);
    Task& task = thread.task();
    if (!task.opts->async) return trap("task.return called by a synchronously lifted function");
    if (!same_opt(inst, result, task.inst, task.ft->result))
      return trap("task.return's result type does not match the lifted function's");
    // The options lift the result: a function without one has nothing to
    // lift, and its lift may name a memory for its parameters alone.
    auto memory_id = [](const RtCanonOptions& o) -> const void* { return o.memory ? o.memory->identity() : nullptr; };
    if (result && (memory_id(*options) != memory_id(*task.opts) || options->encoding != task.opts->encoding))
      return trap("task.return's canonical options differ from the lifted function's");
    CallHooks hooks(*inst, &task.borrows);
    auto cx = make_context(*options, &hooks);
    auto vals = canon::lift_flat_values(cx, canon::kMaxFlatParams, args, types);
    if (!vals.ok()) return trap_from(vals.error());
    std::optional<Val> value;
    if (!vals->empty()) value = std::move((*vals)[0]);
    return task.return_(std::move(value));
  };
  return instance.engine().host_func(
      core_type,
      [inst, body](engine::Caller&, std::span<const engine::Value> args, std::span<engine::Value>) -> MaybeTrap {
        auto t = body(args);
        if (t) inst->store().poison(*t);
        return t;
      });
}

std::shared_ptr<engine::Func> make_unsupported_builtin(InstanceState& instance, const std::string& name,
                                                       const engine::FuncType& type) {
  InstanceState* inst = &instance;
  return instance.engine().host_func(type,
                                     [inst, name](engine::Caller&, std::span<const engine::Value>,
                                                  std::span<engine::Value>) -> std::optional<engine::Trap> {
                                       if (!inst->may_leave) return trap("cannot leave component instance");
                                       return trap("canon built-in `" + name + "` is not supported");
                                     });
}

std::optional<engine::Trap> destroy_resource(const ResourceTypePtr& type, uint32_t rep, InstanceState* caller) {
  const ResourceTypePtr& resource = settled(type);
  if (!resource->destructor) return std::nullopt;
  auto* impl = static_cast<InstanceState*>(const_cast<void*>(resource->implementer));
  std::optional<Entered> entered;  // host resources have no instance to enter
  if (impl != nullptr) {
    if (!impl->may_enter_from(caller)) return trap("cannot enter component instance to run a destructor");
    entered.emplace(*impl, caller);
  }
  auto done = resource->destructor(rep);
  if (!done.ok()) return trap(done.error().message);
  return std::nullopt;
}

}  // namespace stratus::component
