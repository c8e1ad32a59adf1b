// The canon built-ins of the async ABI (CanonicalABI.md, the 🔀, 🧵 and 📝
// sections of "Canonical Definitions"): each checks what the spec's
// definition checks, in its order, and traps where it traps.
#include <cstring>

#include "component/runtime/funcs.h"
#include "component/runtime/instance_state.h"

namespace stratus::component {
namespace {

using engine::Value;
using Args = std::span<const Value>;
using Out = std::span<Value>;
using Body = std::function<MaybeTrap(Args, Out)>;

MaybeTrap trap(std::string message) { return async_trap(std::move(message)); }

MaybeTrap store_u32(engine::Memory* mem, uint32_t ptr, uint32_t v) {
  if (mem == nullptr) return trap("the built-in has no memory");
  if (ptr % 4 != 0) return trap("pointer " + std::to_string(ptr) + " is not aligned");
  auto view = mem->view(ptr, 4);
  if (!view) return trap("pointer " + std::to_string(ptr) + " out of bounds");
  std::memcpy(view->data(), &v, 4);
  return std::nullopt;
}

// unpack_event: the payload into memory at `ptr`, the code as the result.
MaybeTrap unpack_event(const RtCanonOptions& opts, uint32_t ptr, const Event& e, Out out) {
  STRATUS_TRAP_TRY(store_u32(opts.memory.get(), ptr, e.index));
  STRATUS_TRAP_TRY(store_u32(opts.memory.get(), ptr + 4, e.payload));
  out[0] = Value::i32(static_cast<uint32_t>(e.code));
  return std::nullopt;
}

template <class T>
Result<T*> get_as(InstanceState& inst, uint32_t index, AsyncHandle::Kind kind, const char* what) {
  auto h = inst.handles().get_async(index);
  if (!h.ok()) return std::move(h).error();
  if ((*h)->kind != kind) return make_error("handle index " + std::to_string(index) + " is not " + what);
  return static_cast<T*>(*h);
}

Result<Waitable*> get_waitable(InstanceState& inst, uint32_t index) {
  auto h = inst.handles().get_async(index);
  if (!h.ok()) return std::move(h).error();
  if (!(*h)->is_waitable()) return make_error("handle index " + std::to_string(index) + " is not a waitable");
  return static_cast<Waitable*>(*h);
}

// `var` names a new variable, which parentheses cannot enclose.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define STRATUS_GET(var, expr)                             \
  auto var##_r = (expr);                                   \
  if (!var##_r.ok()) return trap(var##_r.error().message); \
  auto* var = *var##_r
// NOLINTEND(bugprone-macro-parentheses)

const char* end_name(AsyncHandle::Kind k) {
  switch (k) {
    case AsyncHandle::Kind::StreamReadable: return "the readable end of a stream";
    case AsyncHandle::Kind::StreamWritable: return "the writable end of a stream";
    case AsyncHandle::Kind::FutureReadable: return "the readable end of a future";
    case AsyncHandle::Kind::FutureWritable: return "the writable end of a future";
    default: return "a stream or future end";
  }
}

EventCode event_code(AsyncHandle::Kind k) {
  switch (k) {
    case AsyncHandle::Kind::StreamReadable: return EventCode::StreamRead;
    case AsyncHandle::Kind::StreamWritable: return EventCode::StreamWrite;
    case AsyncHandle::Kind::FutureReadable: return EventCode::FutureRead;
    default: return EventCode::FutureWrite;
  }
}

// The element type a stream or future built-in names.
std::optional<ValType> element_of(const CanonBuiltin& b) {
  if (!b.type || b.type->is_primitive()) return std::nullopt;
  const auto& k = b.type->defined().kind;
  if (const auto* s = std::get_if<StreamType>(&k)) return s->element;
  if (const auto* f = std::get_if<FutureType>(&k)) return f->element;
  return std::nullopt;
}

// The end of stream_copy, future_copy and cancel_copy: the copy's event
// goes back as the result if it is there; else a sync caller waits for it
// and an async one gets BLOCKED.
MaybeTrap deliver_or_block(InstanceState& inst, Waitable& w, bool async, Out out) {
  if (!w.has_pending_event()) {
    if (async) {
      out[0] = Value::i32(kBlocked);
      return std::nullopt;
    }
    STRATUS_TRAP_TRY(w.wait_for_pending_event(current_thread_of(inst)));
  }
  out[0] = Value::i32(w.take_pending_event().payload);
  return std::nullopt;
}

class Builtins {
 public:
  Builtins(InstanceState& inst, const CanonBuiltin& b, const RtCanonOptions* opts) : inst_(&inst), b_(b), opts_(opts) {}

  Body make() {
    const std::string& n = b_.name;
    if (n == "context.get") return context_get();
    if (n == "context.set") return context_set();
    if (n == "backpressure.inc" || n == "backpressure.dec") return backpressure(n == "backpressure.inc");
    if (n == "task.cancel") return task_cancel();
    if (n == "waitable-set.new") return waitable_set_new();
    if (n == "waitable-set.wait" || n == "waitable-set.poll") return waitable_set_wait(n == "waitable-set.poll");
    if (n == "waitable-set.drop") return waitable_set_drop();
    if (n == "waitable.join") return waitable_join();
    if (n == "subtask.cancel") return subtask_cancel();
    if (n == "subtask.drop") return subtask_drop();
    if (n == "stream.new" || n == "future.new") return channel_new(n == "stream.new");
    if (n == "stream.read") return copy(AsyncHandle::Kind::StreamReadable);
    if (n == "stream.write") return copy(AsyncHandle::Kind::StreamWritable);
    if (n == "future.read") return copy(AsyncHandle::Kind::FutureReadable);
    if (n == "future.write") return copy(AsyncHandle::Kind::FutureWritable);
    if (n == "stream.cancel-read") return cancel_copy(AsyncHandle::Kind::StreamReadable);
    if (n == "stream.cancel-write") return cancel_copy(AsyncHandle::Kind::StreamWritable);
    if (n == "future.cancel-read") return cancel_copy(AsyncHandle::Kind::FutureReadable);
    if (n == "future.cancel-write") return cancel_copy(AsyncHandle::Kind::FutureWritable);
    if (n == "stream.drop-readable") return drop_end(AsyncHandle::Kind::StreamReadable);
    if (n == "stream.drop-writable") return drop_end(AsyncHandle::Kind::StreamWritable);
    if (n == "future.drop-readable") return drop_end(AsyncHandle::Kind::FutureReadable);
    if (n == "future.drop-writable") return drop_end(AsyncHandle::Kind::FutureWritable);
    if (n == "error-context.new") return error_context_new();
    if (n == "error-context.debug-message") return error_context_debug_message();
    if (n == "error-context.drop") return error_context_drop();
    if (n == "thread.index") return thread_index();
    if (n == "thread.resume-later") return thread_resume_later();
    if (n == "thread.suspend" || n == "thread.yield") return thread_block(n == "thread.yield");
    if (n == "thread.suspend-then-resume" || n == "thread.yield-then-resume" || n == "thread.suspend-then-promote" ||
        n == "thread.yield-then-promote")
      return thread_switch(n);
    return nullptr;
  }

 private:
  Body context_get() {
    InstanceState* inst = inst_;
    uint32_t slot = b_.slot;
    return [inst, slot](Args, Out out) -> MaybeTrap {
      out[0] = Value::i32(current_thread_of(*inst).storage[slot]);
      return std::nullopt;
    };
  }

  Body context_set() {
    InstanceState* inst = inst_;
    uint32_t slot = b_.slot;
    return [inst, slot](Args args, Out) -> MaybeTrap {
      current_thread_of(*inst).storage[slot] = args[0].i32();
      return std::nullopt;
    };
  }

  Body backpressure(bool inc) {
    InstanceState* inst = inst_;
    return [inst, inc](Args, Out) -> MaybeTrap {
      if (inc) {
        if (inst->backpressure + 1 >= (1u << 16)) return trap("backpressure counter overflow");
        inst->backpressure += 1;
      } else {
        if (inst->backpressure == 0) return trap("backpressure counter underflow");
        inst->backpressure -= 1;
      }
      return std::nullopt;
    };
  }

  Body task_cancel() {
    InstanceState* inst = inst_;
    return [inst](Args, Out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      Task& task = current_thread_of(*inst).task();
      if (!task.opts->async) return trap("task.cancel called by a synchronously lifted function");
      return task.cancel();
    };
  }

  Body waitable_set_new() {
    InstanceState* inst = inst_;
    return [inst](Args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      auto i = inst->handles().add(std::make_shared<WaitableSet>());
      if (!i.ok()) return trap(i.error().message);
      out[0] = Value::i32(*i);
      return std::nullopt;
    };
  }

  Body waitable_set_wait(bool poll) {
    InstanceState* inst = inst_;
    const RtCanonOptions* opts = opts_;
    bool cancellable = b_.flag;
    return [inst, opts, cancellable, poll](Args args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      STRATUS_GET(wset, (get_as<WaitableSet>(*inst, args[0].i32(), AsyncHandle::Kind::WaitableSet, "a waitable set")));
      Thread& thread = current_thread_of(*inst);
      Event e;
      if (poll) {
        e = wset->poll(thread, cancellable);
      } else {
        // The set may be dropped by another thread only once it has no waiters.
        STRATUS_TRAP_TRY(wset->wait_for_event_and(
            thread, [] { return true; }, cancellable, &e));
      }
      return unpack_event(*opts, args[1].i32(), e, out);
    };
  }

  Body waitable_set_drop() {
    InstanceState* inst = inst_;
    return [inst](Args args, Out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      STRATUS_GET(wset, (get_as<WaitableSet>(*inst, args[0].i32(), AsyncHandle::Kind::WaitableSet, "a waitable set")));
      if (!wset->elems.empty()) return trap("cannot drop waitable set with members");
      if (wset->num_waiting > 0) return trap("cannot drop waitable set with waiters");
      auto removed = inst->handles().remove_async(args[0].i32());
      return std::nullopt;
    };
  }

  Body waitable_join() {
    InstanceState* inst = inst_;
    return [inst](Args args, Out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      STRATUS_GET(w, get_waitable(*inst, args[0].i32()));
      if (w->has_sync_waiter) return trap("waitable cannot be joined to a set while it is waited on synchronously");
      uint32_t si = args[1].i32();
      if (si == 0) {
        w->join(nullptr);
        return std::nullopt;
      }
      STRATUS_GET(wset, (get_as<WaitableSet>(*inst, si, AsyncHandle::Kind::WaitableSet, "a waitable set")));
      w->join(wset);
      return std::nullopt;
    };
  }

  Body subtask_cancel() {
    InstanceState* inst = inst_;
    bool async = b_.flag;
    return [inst, async](Args args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      uint32_t i = args[0].i32();
      STRATUS_GET(subtask, (get_as<Subtask>(*inst, i, AsyncHandle::Kind::Subtask, "a subtask")));
      if (subtask->resolve_delivered()) return trap("cannot cancel a subtask after its resolution was delivered");
      if (subtask->cancellation_requested) return trap("cannot cancel a subtask twice");
      if (subtask->in_waitable_set() && !async)
        return trap("waitable cannot be used synchronously while added to a waitable set");
      if (!subtask->resolved()) {
        subtask->cancellation_requested = true;
        if (subtask->on_cancel) subtask->on_cancel(inst);
        if (const auto& t = inst->store().trap()) return *t;
        if (!subtask->resolved()) {
          if (!async) {
            STRATUS_TRAP_TRY(subtask->wait_for_pending_event(current_thread_of(*inst)));
          } else {
            out[0] = Value::i32(kBlocked);
            return std::nullopt;
          }
        }
      }
      Event e = subtask->take_pending_event();
      (void)e;
      out[0] = Value::i32(static_cast<uint32_t>(subtask->state));
      return std::nullopt;
    };
  }

  Body subtask_drop() {
    InstanceState* inst = inst_;
    return [inst](Args args, Out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      STRATUS_GET(subtask, (get_as<Subtask>(*inst, args[0].i32(), AsyncHandle::Kind::Subtask, "a subtask")));
      if (!subtask->resolve_delivered()) return trap("cannot drop a subtask which has not yet resolved");
      subtask->leave_set();
      auto removed = inst->handles().remove_async(args[0].i32());
      return std::nullopt;
    };
  }

  Body channel_new(bool stream) {
    InstanceState* inst = inst_;
    auto element = element_of(b_);
    return [inst, element, stream](Args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      auto shared = std::make_shared<SharedChannel>(stream, ElementType{element, inst->weak_from_this()});
      auto rk = stream ? AsyncHandle::Kind::StreamReadable : AsyncHandle::Kind::FutureReadable;
      auto wk = stream ? AsyncHandle::Kind::StreamWritable : AsyncHandle::Kind::FutureWritable;
      auto ri = inst->handles().add(std::make_shared<CopyEnd>(rk, shared, inst));
      if (!ri.ok()) return trap(ri.error().message);
      auto wi = inst->handles().add(std::make_shared<CopyEnd>(wk, shared, inst));
      if (!wi.ok()) return trap(wi.error().message);
      out[0] = Value::i64(uint64_t{*ri} | (uint64_t{*wi} << 32));
      return std::nullopt;
    };
  }

  // stream_copy and future_copy.
  Body copy(AsyncHandle::Kind kind) {
    InstanceState* inst = inst_;
    const RtCanonOptions* opts = opts_;
    auto element = element_of(b_);
    bool stream = kind == AsyncHandle::Kind::StreamReadable || kind == AsyncHandle::Kind::StreamWritable;
    return [inst, opts, element, kind, stream](Args args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      uint32_t i = args[0].i32();
      auto h = inst->handles().get_async_shared(i);
      if (!h.ok()) return trap(h.error().message);
      if ((*h)->kind != kind) return trap("handle index " + std::to_string(i) + " is not " + end_name(kind));
      auto e = std::static_pointer_cast<CopyEnd>(*h);
      if (!same_element(e->shared->t, ElementType{element, inst->weak_from_this()}))
        return trap(std::string(stream ? "stream" : "future") + " element type mismatch");
      if (e->state != CopyEnd::State::Idle) {
        if (e->state == CopyEnd::State::Done) {
          if (kind == AsyncHandle::Kind::StreamWritable)
            return trap("cannot write to stream after being notified that the readable end dropped");
          if (kind == AsyncHandle::Kind::StreamReadable)
            return trap("cannot read from stream after being notified that the writable end dropped");
          if (kind == AsyncHandle::Kind::FutureWritable)
            return trap("cannot write to future after previous write succeeded or readable end dropped");
          return trap("cannot read from future after previous read succeeded");
        }
        return trap(std::string("cannot start a copy on a busy ") + (stream ? "stream" : "future"));
      }
      if (e->in_waitable_set() && !opts->async)
        return trap("waitable cannot be used synchronously while added to a waitable set");
      uint32_t length = stream ? args[2].i32() : 1;
      auto buffer = std::make_shared<GuestBuffer>(*inst, *opts, ElementType{element, inst->weak_from_this()},
                                                  args[1].i32(), length);
      STRATUS_TRAP_TRY(buffer->check());
      EventCode code = event_code(kind);
      std::weak_ptr<CopyEnd> weak = e;
      OnCopyDone on_copy_done = [weak, buffer, code, i, stream](CopyResult result) {
        auto end = weak.lock();
        if (!end) return;
        end->progress_event = false;
        end->set_pending_event([weak, buffer, code, i, stream, result]() -> Event {
          auto end = weak.lock();
          if (end) {
            if (result == CopyResult::Dropped || (!stream && result == CopyResult::Completed))
              end->state = CopyEnd::State::Done;
            else
              end->state = CopyEnd::State::Idle;
          }
          uint32_t payload = static_cast<uint32_t>(result) | (stream ? buffer->progress() << 4 : 0);
          return Event{code, i, payload};
        });
      };
      OnCopy on_copy = [weak, buffer, code, i](std::function<void()> reclaim) {
        auto end = weak.lock();
        if (!end) return;
        end->progress_event = true;
        end->set_pending_event([weak, buffer, code, i, reclaim = std::move(reclaim)]() -> Event {
          reclaim();
          if (auto end = weak.lock()) end->state = CopyEnd::State::Idle;
          return Event{code, i, static_cast<uint32_t>(CopyResult::Completed) | (buffer->progress() << 4)};
        });
      };
      e->state = CopyEnd::State::Copying;
      if (e->readable()) {
        STRATUS_TRAP_TRY(e->shared->read(inst, buffer, std::move(on_copy), std::move(on_copy_done)));
      } else {
        STRATUS_TRAP_TRY(e->shared->write(inst, buffer, std::move(on_copy), std::move(on_copy_done)));
      }
      return deliver_or_block(*inst, *e, opts->async, out);
    };
  }

  Body cancel_copy(AsyncHandle::Kind kind) {
    InstanceState* inst = inst_;
    auto element = element_of(b_);
    bool async = b_.flag;
    return [inst, element, kind, async](Args args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      uint32_t i = args[0].i32();
      STRATUS_GET(e, (get_as<CopyEnd>(*inst, i, kind, end_name(kind))));
      if (!same_element(e->shared->t, ElementType{element, inst->weak_from_this()}))
        return trap("element type mismatch");
      if (e->state != CopyEnd::State::Copying || e->has_sync_waiter) return trap("no copy in progress to cancel");
      if (e->in_waitable_set() && !async && !inst->options().allow_sync_cancel_in_waitable_set)
        return trap("waitable cannot be used synchronously while added to a waitable set");
      e->state = CopyEnd::State::CancellingCopy;
      // A copy that has made progress but not finished still holds the
      // buffer: cancelling ends it as CANCELLED with what was copied (as the
      // reference tests expect, async/cancel-stream.wast); one that finished
      // reports how.
      if (!e->has_pending_event() || e->progress_event) e->shared->cancel();
      return deliver_or_block(*inst, *e, async, out);
    };
  }

  Body drop_end(AsyncHandle::Kind kind) {
    InstanceState* inst = inst_;
    auto element = element_of(b_);
    bool stream = kind == AsyncHandle::Kind::StreamReadable || kind == AsyncHandle::Kind::StreamWritable;
    return [inst, element, kind, stream](Args args, Out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      uint32_t i = args[0].i32();
      STRATUS_GET(e, (get_as<CopyEnd>(*inst, i, kind, end_name(kind))));
      if (!same_element(e->shared->t, ElementType{element, inst->weak_from_this()}))
        return trap("element type mismatch");
      if (e->copying()) return trap(stream ? "cannot drop busy stream" : "cannot drop busy future");
      if (kind == AsyncHandle::Kind::FutureWritable && e->state != CopyEnd::State::Done)
        return trap("cannot drop future write end without first writing a value");
      auto removed = inst->handles().remove_async(i);
      e->drop_end();
      return std::nullopt;
    };
  }

  Body error_context_new() {
    InstanceState* inst = inst_;
    const RtCanonOptions* opts = opts_;
    return [inst, opts](Args args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      auto cx = make_context(*opts, nullptr);
      Value flat[] = {args[0], args[1]};
      ValType string_type(PrimType::String);
      auto s = canon::lift_flat_values(cx, canon::kMaxFlatParams, flat, std::span<const ValType>(&string_type, 1));
      if (!s.ok()) return trap(s.error().message);
      auto value = std::make_shared<ErrorContextValue>((*s)[0].as_string());
      auto i = inst->handles().add(std::make_shared<ErrorContextHandle>(std::move(value)));
      if (!i.ok()) return trap(i.error().message);
      out[0] = Value::i32(*i);
      return std::nullopt;
    };
  }

  Body error_context_debug_message() {
    InstanceState* inst = inst_;
    const RtCanonOptions* opts = opts_;
    return [inst, opts](Args args, Out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      STRATUS_GET(
          h, (get_as<ErrorContextHandle>(*inst, args[0].i32(), AsyncHandle::Kind::ErrorContext, "an error context")));
      auto cx = make_context(*opts, nullptr);
      auto stored = canon::store(cx, Val::string(h->value->debug_message), ValType(PrimType::String), args[1].i32());
      if (!stored.ok()) return trap(stored.error().message);
      return std::nullopt;
    };
  }

  Body error_context_drop() {
    InstanceState* inst = inst_;
    return [inst](Args args, Out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      STRATUS_GET(
          h, (get_as<ErrorContextHandle>(*inst, args[0].i32(), AsyncHandle::Kind::ErrorContext, "an error context")));
      (void)h;
      auto removed = inst->handles().remove_async(args[0].i32());
      return std::nullopt;
    };
  }

  Body thread_index() {
    InstanceState* inst = inst_;
    return [inst](Args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      out[0] = Value::i32(current_thread_of(*inst).index);
      return std::nullopt;
    };
  }

  static Result<Thread*> thread_at(InstanceState& inst, uint32_t i) {
    if (i >= inst.threads.size() || inst.threads[i] == nullptr)
      return make_error("unknown thread index " + std::to_string(i));
    return inst.threads[i];
  }

  Body thread_resume_later() {
    InstanceState* inst = inst_;
    return [inst](Args args, Out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      STRATUS_GET(other, thread_at(*inst, args[0].i32()));
      if (!other->suspended()) return trap("thread is not suspended");
      other->resume_later();
      return std::nullopt;
    };
  }

  Body thread_block(bool yield) {
    InstanceState* inst = inst_;
    bool cancellable = b_.flag;
    return [inst, cancellable, yield](Args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      Thread& thread = current_thread_of(*inst);
      bool cancelled = false;
      STRATUS_TRAP_TRY(yield ? thread.yield(cancellable, &cancelled) : thread.suspend(cancellable, &cancelled));
      out[0] = Value::i32(cancelled ? 1 : 0);
      return std::nullopt;
    };
  }

  Body thread_switch(const std::string& name) {
    InstanceState* inst = inst_;
    bool cancellable = b_.flag;
    bool promote = name.find("promote") != std::string::npos;
    bool yield = name.rfind("thread.yield", 0) == 0;
    return [inst, cancellable, promote, yield](Args args, Out out) -> MaybeTrap {
      if (!inst->may_leave) return trap("cannot leave component instance");
      Thread& thread = current_thread_of(*inst);
      STRATUS_GET(other, thread_at(*inst, args[0].i32()));
      if (!promote && !other->suspended()) return trap("thread is not suspended");
      bool cancelled = false;
      MaybeTrap t;
      if (promote) {
        t = yield ? thread.yield_then_promote(cancellable, other, &cancelled)
                  : thread.suspend_then_promote(cancellable, other, &cancelled);
      } else {
        t = yield ? thread.yield_then_resume(cancellable, other, &cancelled)
                  : thread.suspend_then_resume(cancellable, other, &cancelled);
      }
      if (t) return t;
      out[0] = Value::i32(cancelled ? 1 : 0);
      return std::nullopt;
    };
  }

  InstanceState* inst_;
  const CanonBuiltin& b_;
  const RtCanonOptions* opts_;
};

}  // namespace

std::shared_ptr<engine::Func> make_async_builtin(InstanceState& instance, const CanonBuiltin& b,
                                                 const RtCanonOptions* options) {
  Body body = Builtins(instance, b, options).make();
  if (!body) return nullptr;
  InstanceState* inst = &instance;
  // A trap anywhere in the store ends every call in it. Its message names
  // the built-in.
  auto wrapped = [inst, name = b.name, body = std::move(body)](engine::Caller&, Args args, Out out) -> MaybeTrap {
    if (auto t = body(args, out)) {
      if (!inst->store().trap()) t->message += " (in `canon " + name + "`)";
      inst->store().poison(*t);
      return t;
    }
    return std::nullopt;
  };
  return instance.engine().host_func(*b.core_type, std::move(wrapped));
}

std::shared_ptr<engine::Func> make_thread_new_indirect(InstanceState& instance, std::shared_ptr<engine::Table> table,
                                                       const engine::FuncType& core_type) {
  InstanceState* inst = &instance;
  std::weak_ptr<engine::Table> weak_table = table;
  auto body = [inst, weak_table](Args args, Out out) -> MaybeTrap {
    if (!inst->may_leave) return trap("cannot leave component instance");
    Thread& current = current_thread_of(*inst);
    auto task = current.task_ptr();
    auto table = weak_table.lock();
    if (!table) return trap("thread.new-indirect: the table is gone");
    auto ref = table->get(args[0].i32());
    if (!ref.ok()) return trap(ref.error().message);
    if (ref->is_null || !ref->func) return trap("uninitialized element");
    const engine::FuncType want{{engine::ValType::I32}, {}};
    if (!(ref->func->type() == want)) return trap("indirect call type mismatch");
    auto func = ref->func;
    uint32_t closure = args[1].i32();
    auto self = std::make_shared<Thread*>(nullptr);
    auto thread = std::make_shared<Thread>(
        task,
        [inst, func, closure, self, task] {
          engine::Value arg[] = {engine::Value::i32(closure)};
          auto r = func->call(arg);
          MaybeTrap trapped;
          if (r.trapped()) {
            trapped = r.trap();
          } else if (!r.ok()) {
            trapped = async_trap(r.error().message);
          }
          if (!trapped) trapped = task->unregister_thread(*self);
          if (trapped) inst->store().poison(*trapped);
        },
        true);
    Thread* raw = thread.get();
    *self = raw;
    STRATUS_TRAP_TRY(task->register_thread(raw));
    inst->store().live[raw] = thread;
    out[0] = Value::i32(raw->index);
    return std::nullopt;
  };
  return instance.engine().host_func(core_type,
                                     [inst, body = std::move(body)](engine::Caller&, Args args, Out out) -> MaybeTrap {
                                       if (auto t = body(args, out)) {
                                         inst->store().poison(*t);
                                         return t;
                                       }
                                       return std::nullopt;
                                     });
}

}  // namespace stratus::component
