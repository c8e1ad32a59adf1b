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
  ~CallHooks() override { release_lends(); }

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
    lenders_.push_back(index);
    return ResourceRef{rt, h->rep};
  }

  Result<uint32_t> lower_own(const ResourceTypePtr& type, const ResourceRef& resource) override {
    return instance_.handles().add(ResourceHandle{resource.resource, resource.rep, true, nullptr, 0});
  }

  Result<uint32_t> lower_borrow(const ResourceTypePtr& type, const ResourceRef& resource) override {
    if (resource.resource->implementer == &instance_) return resource.rep;
    if (scope_ == nullptr) return make_error("a borrow cannot be returned");
    auto index = instance_.handles().add(ResourceHandle{resource.resource, resource.rep, false, scope_, 0});
    if (index.ok()) scope_->num_borrows += 1;
    return index;
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
};

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

// A component instance entered from `caller` for the length of a call
// (CanonicalABI.md enter_from / leave_to; check may_enter_from first). The
// call is a new task, with fresh thread-local storage (context.get/set).
class Entered {
 public:
  Entered(InstanceState& instance, const InstanceState* caller)
      : instance_(instance), caller_(caller), saved_context_(instance.context) {
    instance_.enter_from(caller_);
    instance_.context = {};
  }
  ~Entered() {
    instance_.context = saved_context_;
    instance_.leave_to(caller_);
  }
  Entered(const Entered&) = delete;
  Entered& operator=(const Entered&) = delete;

 private:
  InstanceState& instance_;
  const InstanceState* caller_;
  std::array<uint32_t, 2> saved_context_;
};

// Makes `task` the instance's current task for the length of a call.
class TaskScope {
 public:
  TaskScope(InstanceState& instance, RtTask* task) : instance_(instance), saved_(instance.task) {
    instance_.task = task;
  }
  ~TaskScope() { instance_.task = saved_; }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  InstanceState& instance_;
  RtTask* saved_;
};

// CanonicalABI.md CallbackCode and EventCode.NONE.
constexpr uint32_t kCallbackExit = 0, kCallbackYield = 1, kCallbackWait = 2;
constexpr uint32_t kEventNone = 0;
// Subtask.State.RETURNED, what an async-lowered call that completed returns.
constexpr uint32_t kSubtaskReturned = 2;

class LiftedFunc final : public RtFunc {
 public:
  LiftedFunc(InstanceState& instance, FuncTypePtr type, std::shared_ptr<engine::Func> core, RtCanonOptions options)
      : RtFunc(std::move(type), &instance),
        instance_(instance),
        core_(std::move(core)),
        options_(std::move(options)),
        params_(param_types(*this->type())),
        results_(result_types(*this->type())) {}

  // A call from another component's lowered import: values go from the
  // caller's memory straight into this instance's and back
  // (canon::transfer_flat_values), with no Val in between. `out` receives
  // the caller's core results.
  std::optional<engine::Trap> call_direct(InstanceState* caller, canon::Context& caller_cx,
                                          std::span<const engine::Value> flat_args, std::optional<uint32_t> out_ptr,
                                          std::span<engine::Value> out) {
    if (!instance_.may_enter_from(caller)) return trap("cannot enter component instance");
    Entered entered(instance_, caller);
    RtTask rt_task = new_task();
    TaskScope current(instance_, &rt_task);

    BorrowScope task;
    CallHooks hooks(instance_, &task);
    auto cx = make_context(options_, &hooks);
    auto flat = canon::transfer_flat_values(caller_cx, cx, canon::kMaxFlatParams, flat_args, params_);
    if (!flat.ok()) return trap_from(flat.error());
    auto result = core_->call(*flat);
    if (result.trapped()) return result.trap();
    if (!result.ok()) return trap(result.error().message);
    auto back = canon::transfer_flat_values(cx, caller_cx, canon::kMaxFlatResults, result.values(), results_, out_ptr);
    if (!back.ok()) return trap_from(back.error());
    if (auto post = post_return(result.values()); post && !post->ok())
      return post->trapped() ? post->trap() : trap(post->error().message);
    if (task.num_borrows > 0) return trap("borrow handles still remain at the end of the call");
    if (back->size() != out.size()) return trap("lowered results do not match the core signature");
    for (size_t i = 0; i < out.size(); ++i) out[i] = (*back)[i];
    return std::nullopt;
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
    if (!instance_.may_enter_from(caller)) return trap("cannot enter component instance");
    Entered entered(instance_, caller);
    RtTask rt_task = new_task();
    TaskScope current(instance_, &rt_task);

    BorrowScope task;
    CallHooks hooks(instance_, &task);
    auto cx = make_context(options_, &hooks);
    auto flat = canon::lower_flat_values(cx, canon::kMaxFlatParams, args, params_);
    if (!flat.ok()) return trap_from(flat.error());
    auto result = core_->call(*flat);
    if (result.trapped()) return result.trap();
    if (!result.ok()) return result.error();
    if (options_.async) {
      if (auto t = run_event_loop(result.values())) return *t;
      // Task.unregister_thread: the value must have been returned by now.
      if (!rt_task.returned) return trap("async-lifted function exited without calling task.return");
      if (task.num_borrows > 0) return trap("borrow handles still remain at the end of the call");
      return std::move(rt_task.result);
    }
    auto lifted = canon::lift_flat_values(cx, canon::kMaxFlatResults, result.values(), results_);
    if (!lifted.ok()) return trap_from(lifted.error());
    if (auto post = post_return(result.values()); post && !post->ok()) {
      if (post->trapped()) return post->trap();
      return post->error();
    }
    if (task.num_borrows > 0) return trap("borrow handles still remain at the end of the call");
    if (lifted->empty()) return std::optional<Val>();
    return std::optional<Val>(std::move(lifted->front()));
  }

  bool is_async() const { return options_.async; }

 private:
  RtTask new_task() const {
    return RtTask{type().get(), options_.async, options_.memory.get(), options_.encoding, false, std::nullopt};
  }

  // canon_lift's stackless (`callback`) event loop, after the first call
  // returned `first`. Nothing else runs in the sync runtime, so YIELD
  // resumes at once with no event; WAIT names a waitable set, and none can
  // exist (waitable-set.new needs the async runtime), so it traps as the
  // spec's handle lookup does. Stackful async returns nothing. A task
  // that keeps yielding is bounded by the instance's call timeout, which
  // covers the whole loop, not each callback.
  std::optional<engine::Trap> run_event_loop(std::span<const engine::Value> first) {
    if (!options_.callback) return std::nullopt;
    if (first.size() != 1) return trap("async-lifted core function returned the wrong number of results");
    const auto& timeout = instance_.options().limits.call_timeout;
    auto start = std::chrono::steady_clock::now();
    uint32_t packed = first[0].i32();
    for (;;) {
      uint32_t code = packed & 0xf;
      if (code == kCallbackExit) return std::nullopt;
      if (code == kCallbackWait)
        return trap("callback returned WAIT on handle index " + std::to_string(packed >> 4) +
                    ", which is not a waitable set");
      if (code != kCallbackYield) return trap("invalid callback code " + std::to_string(code));
      if (timeout && std::chrono::steady_clock::now() - start > *timeout)
        return engine::Trap{engine::TrapKind::Deadline, "async task still yielding when the call's deadline passed", 0};
      engine::Value event[] = {engine::Value::i32(kEventNone), engine::Value::i32(0), engine::Value::i32(0)};
      auto next = options_.callback->call(event);
      if (next.trapped()) return next.trap();
      if (!next.ok()) return trap(next.error().message);
      if (next.values().size() != 1) return trap("callback returned the wrong number of results");
      packed = next.values()[0].i32();
    }
  }

  // Runs post-return, if the lift has one, with leaving the instance
  // forbidden (CanonicalABI.md canon_lift); nullopt when there is none.
  std::optional<engine::CallResult> post_return(std::span<const engine::Value> results) {
    if (!options_.post_return) return std::nullopt;
    instance_.may_leave = false;
    auto post = options_.post_return->call(results);
    instance_.may_leave = true;
    return post;
  }

  InstanceState& instance_;
  std::shared_ptr<engine::Func> core_;
  RtCanonOptions options_;
  std::vector<ValType> params_;
  std::vector<ValType> results_;
};

class HostFuncAdapter final : public RtFunc {
 public:
  explicit HostFuncAdapter(HostFunc func) : RtFunc(func.type, nullptr), callback_(std::move(func.callback)) {}

  CallOutcome call(InstanceState* caller, std::span<const Val> args) override {
    if (args.size() != type()->params.size())
      return make_error("expected " + std::to_string(type()->params.size()) + " arguments, got " +
                        std::to_string(args.size()));
    CallContext context{caller};
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

 private:
  HostFuncCallback callback_;
};

engine::FuncType core_type(const canon::FlatSignature& sig) { return engine::FuncType{sig.params, sig.results}; }

bool has_handles(const ValType& t) {
  if (t.is_primitive()) return false;
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

// A lowered call that goes through Val (a host callee, or one whose values
// hold handles): lifts the caller's core arguments (the last one is the
// result's out-pointer when `out_pointer`), calls `callee`, and lowers its
// result into the caller's core results, or at the out-pointer.
std::variant<std::vector<engine::Value>, engine::Trap> call_through_vals(
    InstanceState& inst, RtFunc* callee, const RtCanonOptions& options, std::span<const engine::Value> args,
    bool out_pointer, size_t max_flat_params, size_t max_flat_results, const std::vector<ValType>& params,
    const std::vector<ValType>& results) {
  CallHooks hooks(inst, nullptr);
  auto cx = make_context(options, &hooks);
  std::optional<uint32_t> out_ptr;
  if (out_pointer) {
    out_ptr = args.back().i32();
    args = args.first(args.size() - 1);
  }
  auto vals = canon::lift_flat_values(cx, max_flat_params, args, params);
  if (!vals.ok()) return trap_from(vals.error());
  auto outcome = callee->call(&inst, *vals);
  hooks.release_lends();
  if (outcome.trapped()) return outcome.trap();
  if (outcome.failed()) return trap(outcome.error().message);
  std::vector<Val> result_vals;
  if (outcome.result()) result_vals.push_back(std::move(*outcome.result()));
  if (result_vals.size() != results.size()) return trap("callee returned the wrong number of results");
  auto flat = canon::lower_flat_values(cx, max_flat_results, result_vals, results, out_ptr);
  if (!flat.ok()) return trap_from(flat.error());
  return std::move(*flat);
}

// `canon lower async` (CanonicalABI.md canon_lower with opts.async_).
std::shared_ptr<engine::Func> make_async_lowered_func(InstanceState& instance, RtFunc* callee, FuncTypePtr type,
                                                      const RtCanonOptions* options) {
  auto params = param_types(*type);
  auto results = result_types(*type);
  engine::FuncType core;
  for (const auto& p : params) canon::flatten_into(p, core.params);
  if (core.params.size() > canon::kMaxFlatAsyncParams) core.params = {engine::ValType::I32};
  if (!results.empty()) core.params.push_back(engine::ValType::I32);  // where the result goes
  core.results = {engine::ValType::I32};
  InstanceState* inst = &instance;
  return instance.engine().host_func(
      core,
      [inst, callee, params, results, options](engine::Caller&, std::span<const engine::Value> args,
                                               std::span<engine::Value> out) -> std::optional<engine::Trap> {
        if (!inst->may_leave) return trap("cannot leave component instance");
        auto stored = call_through_vals(*inst, callee, *options, args, !results.empty(), canon::kMaxFlatAsyncParams, 0,
                                        params, results);
        if (auto* t = std::get_if<engine::Trap>(&stored)) return std::move(*t);
        out[0] = engine::Value::i32(kSubtaskReturned);
        return std::nullopt;
      });
}

}  // namespace

RtFuncPtr make_lifted_func(InstanceState& instance, FuncTypePtr type, std::shared_ptr<engine::Func> core_func,
                           RtCanonOptions options) {
  return std::make_shared<LiftedFunc>(instance, std::move(type), std::move(core_func), std::move(options));
}

RtFuncPtr make_host_func(HostFunc func) { return std::make_shared<HostFuncAdapter>(std::move(func)); }

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

std::shared_ptr<engine::Func> make_lowered_func(InstanceState& instance, RtFunc* callee, FuncTypePtr type,
                                                const RtCanonOptions* options) {
  auto shape = lowered_shape(type);
  const auto& sig = shape->sig;
  InstanceState* inst = &instance;
  // Component-to-component calls without handles copy each value once; with
  // handles, the two sides' static resource types differ, so values go
  // through Val, each side resolving its own.
  if (options->async) return make_async_lowered_func(instance, callee, std::move(type), options);
  auto* direct = dynamic_cast<LiftedFunc*>(callee);
  if (direct != nullptr && !direct->is_async() && !has_handles(*type)) {
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
  return instance.engine().host_func(
      core_type(sig),
      [inst, callee, shape, options](engine::Caller&, std::span<const engine::Value> args,
                                     std::span<engine::Value> out) -> std::optional<engine::Trap> {
        if (!inst->may_leave) return trap("cannot leave component instance");
        auto flat = call_through_vals(*inst, callee, *options, args, shape->sig.results_indirect, canon::kMaxFlatParams,
                                      canon::kMaxFlatResults, shape->params, shape->results);
        if (auto* t = std::get_if<engine::Trap>(&flat)) return std::move(*t);
        auto& values = std::get<std::vector<engine::Value>>(flat);
        if (values.size() != out.size()) return trap("lowered results do not match the core signature");
        for (size_t i = 0; i < out.size(); ++i) out[i] = values[i];
        return std::nullopt;
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
        auto runtime_type = weak.lock();
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
        auto runtime_type = weak.lock();
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

std::shared_ptr<engine::Func> make_sync_builtin(InstanceState& instance, const CanonBuiltin& b) {
  InstanceState* inst = &instance;
  using Fn = std::function<std::optional<engine::Trap>(std::span<const engine::Value>, std::span<engine::Value>)>;
  Fn fn;
  uint32_t slot = b.slot;
  if (b.name == "context.get") {
    fn = [inst, slot](std::span<const engine::Value>, std::span<engine::Value> out) -> std::optional<engine::Trap> {
      out[0] = engine::Value::i32(inst->context[slot]);
      return std::nullopt;
    };
  } else if (b.name == "context.set") {
    fn = [inst, slot](std::span<const engine::Value> args, std::span<engine::Value>) -> std::optional<engine::Trap> {
      inst->context[slot] = args[0].i32();
      return std::nullopt;
    };
  } else if (b.name == "backpressure.inc") {
    fn = [inst](std::span<const engine::Value>, std::span<engine::Value>) -> std::optional<engine::Trap> {
      if (inst->backpressure + 1 >= (1u << 16)) return trap("backpressure counter overflow");
      inst->backpressure += 1;
      return std::nullopt;
    };
  } else if (b.name == "backpressure.dec") {
    fn = [inst](std::span<const engine::Value>, std::span<engine::Value>) -> std::optional<engine::Trap> {
      if (inst->backpressure == 0) return trap("backpressure counter underflow");
      inst->backpressure -= 1;
      return std::nullopt;
    };
  } else {
    return nullptr;
  }
  return instance.engine().host_func(*b.core_type, [fn](engine::Caller&, std::span<const engine::Value> args,
                                                        std::span<engine::Value> out) { return fn(args, out); });
}

std::shared_ptr<engine::Func> make_task_return(InstanceState& instance, std::optional<ValType> result,
                                               const RtCanonOptions* options, const engine::FuncType& core_type) {
  InstanceState* inst = &instance;
  std::vector<ValType> types;
  if (result) types.push_back(*result);
  return instance.engine().host_func(
      core_type,
      [inst, result, types, options](engine::Caller&, std::span<const engine::Value> args,
                                     std::span<engine::Value>) -> std::optional<engine::Trap> {
        if (!inst->may_leave) return trap("cannot leave component instance");
        RtTask* task = inst->task;
        if (task == nullptr) return trap("task.return called outside of a task");
        if (!task->async) return trap("task.return called by a synchronously lifted function");
        if (!same_opt(inst, result, inst, task->type->result))
          return trap("task.return's result type does not match the lifted function's");
        if (options->memory.get() != task->memory || options->encoding != task->encoding)
          return trap("task.return's canonical options differ from the lifted function's");
        if (task->returned) return trap("task.return called twice");
        CallHooks hooks(*inst, nullptr);
        auto cx = make_context(*options, &hooks);
        auto vals = canon::lift_flat_values(cx, canon::kMaxFlatParams, args, types);
        if (!vals.ok()) return trap_from(vals.error());
        task->returned = true;
        if (!vals->empty()) task->result = std::move((*vals)[0]);
        return std::nullopt;
      });
}

std::shared_ptr<engine::Func> make_unsupported_builtin(InstanceState& instance, const std::string& name,
                                                       const engine::FuncType& type) {
  InstanceState* inst = &instance;
  return instance.engine().host_func(
      type,
      [inst, name](engine::Caller&, std::span<const engine::Value>,
                   std::span<engine::Value>) -> std::optional<engine::Trap> {
        if (!inst->may_leave) return trap("cannot leave component instance");
        return trap("canon built-in `" + name + "` needs the async runtime, not supported yet");
      });
}

std::optional<engine::Trap> destroy_resource(const ResourceTypePtr& resource, uint32_t rep, InstanceState* caller) {
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
