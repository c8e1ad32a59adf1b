// Waitables, waitable sets, subtasks, streams, futures and error contexts
// of runtime/async.h (CanonicalABI.md "Waitable State" to "Future State").
#include <algorithm>
#include <cstring>

#include "component/runtime/funcs.h"
#include "component/runtime/instance_state.h"

namespace stratus::component {

// ------------------------------------------------------------ waitables

Waitable::~Waitable() { leave_set(); }

Event Waitable::take_pending_event() {
  auto e = std::move(pending_);
  pending_ = nullptr;
  return e();
}

MaybeTrap Waitable::wait_for_pending_event(Thread& thread) {
  has_sync_waiter = true;
  bool cancelled = false;
  auto t = thread.wait_until([this] { return has_pending_event(); }, false, &cancelled);
  has_sync_waiter = false;
  return t;
}

void Waitable::join(WaitableSet* wset) {
  if (wset_ != nullptr) {
    auto& e = wset_->elems;
    e.erase(std::find(e.begin(), e.end(), this));
  }
  wset_ = wset;
  if (wset_ != nullptr) wset_->elems.push_back(this);
}

WaitableSet::~WaitableSet() {
  for (Waitable* w : elems) w->wset_ = nullptr;
}

bool WaitableSet::has_pending_event() const {
  return std::any_of(elems.begin(), elems.end(), [](const Waitable* w) { return w->has_pending_event(); });
}

// The oldest member with an event: events go out in the order their
// waitables joined, which the spec leaves to the embedder.
Event WaitableSet::take_pending_event() {
  for (Waitable* w : elems)
    if (w->has_pending_event()) return w->take_pending_event();
  return Event{};
}

MaybeTrap WaitableSet::wait_for_event_and(Thread& thread, std::function<bool()> ready, bool cancellable, Event* out) {
  num_waiting += 1;
  bool cancelled = false;
  auto t = thread.wait_until([this, ready = std::move(ready)] { return ready() && has_pending_event(); }, cancellable,
                             &cancelled);
  if (!t) *out = cancelled ? Event{EventCode::TaskCancelled, 0, 0} : take_pending_event();
  num_waiting -= 1;
  return t;
}

Event WaitableSet::poll(Thread& thread, bool cancellable) {
  if (thread.task().deliver_pending_cancel(cancellable)) return Event{EventCode::TaskCancelled, 0, 0};
  if (!has_pending_event()) return Event{};
  return take_pending_event();
}

void Subtask::deliver_resolve() {
  if (release_lends) release_lends();
  release_lends = nullptr;
  delivered_ = true;
}

// ------------------------------------------------------------ buffers

bool same_element(const ElementType& a, const ElementType& b) {
  if (a.type.has_value() != b.type.has_value()) return false;
  if (!a.type) return true;
  auto ao = a.owner.lock();
  auto bo = b.owner.lock();
  return same_type(ao.get(), *a.type, bo.get(), *b.type);
}

namespace {

bool is_number(const std::optional<ValType>& t) {
  if (!t) return true;
  if (!t->is_primitive()) return false;
  switch (t->primitive()) {
    case PrimType::Bool:
    case PrimType::Char:
    case PrimType::String:
    case PrimType::ErrorContext: return false;
    default: return true;
  }
}

}  // namespace

bool elements_are_bytes(const std::optional<ValType>& t) { return t && is_number(t); }

MaybeTrap GuestBuffer::check() const {
  if (length_ > HandleTable::kMaxLength) return async_trap("buffer length " + std::to_string(length_) + " too large");
  if (!t_.type || length_ == 0) return std::nullopt;
  uint32_t align = canon::alignment(*t_.type);
  uint64_t size = canon::elem_size(*t_.type);
  if (ptr_ % align != 0) return async_trap("buffer pointer " + std::to_string(ptr_) + " is not aligned");
  if (opts_.memory == nullptr || uint64_t{ptr_} + length_ * size > opts_.memory->size_bytes())
    return async_trap("buffer out of bounds");
  return std::nullopt;
}

MaybeTrap CopyBuffer::copy_from(CopyBuffer& src, uint32_t n) {
  auto* gd = dynamic_cast<GuestBuffer*>(this);
  auto* gs = dynamic_cast<GuestBuffer*>(&src);
  if ((t_.type || (gd == nullptr && gs == nullptr)) && n > 0) {
    if (gd != nullptr) {
      STRATUS_TRAP_TRY(gs != nullptr ? gd->copy_from_guest(*gs, n)
                                     : gd->copy_from_host(static_cast<HostBuffer&>(src), n));
    } else {
      auto& hd = static_cast<HostBuffer&>(*this);
      STRATUS_TRAP_TRY(gs != nullptr ? hd.copy_from_guest(*gs, n)
                                     : hd.copy_from_host(static_cast<HostBuffer&>(src), n));
    }
  }
  progress_ += n;
  src.progress_ += n;
  return std::nullopt;
}

MaybeTrap GuestBuffer::copy_from_guest(GuestBuffer& src, uint32_t n) {
  uint32_t size = canon::elem_size(*t_.type);
  uint64_t dst_at = uint64_t{ptr_} + uint64_t{progress_} * size;
  uint64_t src_at = uint64_t{src.ptr_} + uint64_t{src.progress_} * size;
  if (is_number(t_.type)) {
    // Both sides were bounds-checked when their buffers were made, but a
    // memory can only grow, so the views exist.
    auto to = opts_.memory->view(dst_at, uint64_t{n} * size);
    auto from = src.opts_.memory->view(src_at, uint64_t{n} * size);
    if (!to || !from) return async_trap("buffer out of bounds");
    std::memmove(to->data(), from->data(), to->size());
    return std::nullopt;
  }
  auto src_hooks = make_call_hooks(src.inst_, nullptr);
  auto dst_hooks = make_call_hooks(inst_, nullptr);
  auto src_cx = make_context(src.opts_, src_hooks.get());
  auto dst_cx = make_context(opts_, dst_hooks.get());
  for (uint32_t i = 0; i < n; ++i) {
    auto v = canon::load(src_cx, static_cast<uint32_t>(src_at + uint64_t{i} * size), *src.t_.type);
    if (!v.ok()) return async_trap(v.error().message);
    auto stored = canon::store(dst_cx, *v, *t_.type, static_cast<uint32_t>(dst_at + uint64_t{i} * size));
    if (!stored.ok()) return async_trap(stored.error().message);
  }
  return std::nullopt;
}

// The host's elements into guest memory: bytes as they are, values lowered
// (checked against the guest's element type first: the host's may be wrong).
MaybeTrap GuestBuffer::copy_from_host(HostBuffer& src, uint32_t n) {
  uint32_t size = canon::elem_size(*t_.type);
  uint64_t dst_at = uint64_t{ptr_} + uint64_t{progress_} * size;
  if (is_number(t_.type)) {
    uint64_t from = uint64_t{src.progress_} * size;
    if (from + uint64_t{n} * size > src.elements_.bytes.size())
      return async_trap("the host wrote fewer bytes than its element count");
    auto to = opts_.memory->view(dst_at, uint64_t{n} * size);
    if (!to) return async_trap("buffer out of bounds");
    std::memcpy(to->data(), src.elements_.bytes.data() + from, to->size());
    return std::nullopt;
  }
  if (src.progress_ + n > src.elements_.values.size())
    return async_trap("the host wrote fewer values than its element count");
  auto hooks = make_call_hooks(inst_, nullptr);
  auto cx = make_context(opts_, hooks.get());
  for (uint32_t i = 0; i < n; ++i) {
    const Val& v = src.elements_.values[src.progress_ + i];
    auto ok = check_type(v, *t_.type);
    if (!ok.ok()) return async_trap("the host wrote a value of the wrong type: " + ok.error().message);
    auto stored = canon::store(cx, v, *t_.type, static_cast<uint32_t>(dst_at + uint64_t{i} * size));
    if (!stored.ok()) return async_trap(stored.error().message);
  }
  return std::nullopt;
}

MaybeTrap HostBuffer::copy_from_guest(GuestBuffer& src, uint32_t n) {
  uint32_t size = canon::elem_size(*src.t_.type);
  uint64_t src_at = uint64_t{src.ptr_} + uint64_t{src.progress_} * size;
  if (is_number(src.t_.type)) {
    auto from = src.opts_.memory->view(src_at, uint64_t{n} * size);
    if (!from) return async_trap("buffer out of bounds");
    elements_.bytes.insert(elements_.bytes.end(), from->begin(), from->end());
  } else {
    auto hooks = make_call_hooks(src.inst_, nullptr);
    auto cx = make_context(src.opts_, hooks.get());
    for (uint32_t i = 0; i < n; ++i) {
      auto v = canon::load(cx, static_cast<uint32_t>(src_at + uint64_t{i} * size), *src.t_.type);
      if (!v.ok()) return async_trap(v.error().message);
      elements_.values.push_back(std::move(*v));
    }
  }
  elements_.count += n;
  return std::nullopt;
}

// Host to host: as the writer gave them (the type may not be known yet:
// a stream the host made for a guest and reads itself).
MaybeTrap HostBuffer::copy_from_host(HostBuffer& src, uint32_t n) {
  auto& from = src.elements_;
  if (!from.values.empty()) {
    if (src.progress_ + n > from.values.size()) return async_trap("the host wrote fewer values than its element count");
    for (uint32_t i = 0; i < n; ++i) elements_.values.push_back(std::move(from.values[src.progress_ + i]));
  } else if (!from.bytes.empty() && from.count != 0) {
    uint64_t size = from.bytes.size() / from.count;
    uint64_t at = uint64_t{src.progress_} * size;
    if (at + uint64_t{n} * size > from.bytes.size())
      return async_trap("the host wrote fewer bytes than its element count");
    auto first = from.bytes.begin() + static_cast<std::ptrdiff_t>(at);
    elements_.bytes.insert(elements_.bytes.end(), first, first + static_cast<std::ptrdiff_t>(uint64_t{n} * size));
  }
  elements_.count += n;
  return std::nullopt;
}

HostElements HostBuffer::take() {
  HostElements out = std::move(elements_);
  elements_ = HostElements{};
  out.count = progress_;
  return out;
}

// ------------------------------------------------------------ channels

void SharedChannel::set_pending(InstanceState* inst, std::shared_ptr<CopyBuffer> buffer, OnCopy on_copy,
                                OnCopyDone on_copy_done) {
  pending_inst_ = inst;
  pending_buffer_ = std::move(buffer);
  pending_on_copy_ = std::move(on_copy);
  pending_on_copy_done_ = std::move(on_copy_done);
}

void SharedChannel::reset_pending() { set_pending(nullptr, nullptr, nullptr, nullptr); }

void SharedChannel::reset_and_notify(CopyResult r) {
  auto done = std::move(pending_on_copy_done_);
  reset_pending();
  if (done) done(r);
}

void SharedChannel::drop() {
  if (dropped) return;
  dropped = true;
  if (pending_buffer_) reset_and_notify(CopyResult::Dropped);
}

void SharedChannel::forget_pending(const InstanceState* inst) {
  if (pending_buffer_ && pending_inst_ == inst) reset_pending();
}

MaybeTrap SharedChannel::read(InstanceState* inst, std::shared_ptr<CopyBuffer> dst, OnCopy on_copy,
                              OnCopyDone on_copy_done) {
  if (!is_stream) {
    // Only a writable end that went with its instance drops unwritten (a
    // guest's must write first): its reader hears DROPPED, not nothing.
    if (dropped) {
      on_copy_done(CopyResult::Dropped);
      return std::nullopt;
    }
    if (!pending_buffer_) {
      set_pending(inst, std::move(dst), nullptr, std::move(on_copy_done));
      return std::nullopt;
    }
    if (same_side(inst) && !is_number(t.type))
      return async_trap("cannot read from and write to intra-component future");
    STRATUS_TRAP_TRY(dst->copy_from(*pending_buffer_, 1));
    reset_and_notify(CopyResult::Completed);
    on_copy_done(CopyResult::Completed);
    return std::nullopt;
  }
  if (dropped) {
    on_copy_done(CopyResult::Dropped);
    return std::nullopt;
  }
  if (!pending_buffer_) {
    set_pending(inst, std::move(dst), std::move(on_copy), std::move(on_copy_done));
    return std::nullopt;
  }
  if (same_side(inst) && !is_number(t.type)) return async_trap("cannot read from and write to intra-component stream");
  if (pending_buffer_->remain() > 0) {
    if (dst->remain() > 0) {
      uint32_t n = std::min(dst->remain(), pending_buffer_->remain());
      STRATUS_TRAP_TRY(dst->copy_from(*pending_buffer_, n));
      CopyBuffer* mine = pending_buffer_.get();
      // A copy: a host's callback may reclaim its buffer (resetting the
      // pending copy, this function with it) and start the next one at once.
      auto on_copy = pending_on_copy_;
      on_copy([this, mine] {
        if (pending_buffer_.get() == mine) reset_pending();
      });
    }
    // A host end may drop at once when its copy ends (the last piece of a
    // body): this copy then reports DROPPED with its count, as Wasmtime's
    // producers and consumers that finish a stream report it.
    on_copy_done(dropped ? CopyResult::Dropped : CopyResult::Completed);
  } else {
    reset_and_notify(CopyResult::Completed);
    // A host writer told of a reader may start its next copy at once, or
    // drop its end (nothing more to give): this read then meets that.
    if (pending_buffer_ || dropped) return read(inst, std::move(dst), std::move(on_copy), std::move(on_copy_done));
    set_pending(inst, std::move(dst), std::move(on_copy), std::move(on_copy_done));
  }
  return std::nullopt;
}

MaybeTrap SharedChannel::write(InstanceState* inst, std::shared_ptr<CopyBuffer> src, OnCopy on_copy,
                               OnCopyDone on_copy_done) {
  if (dropped) {
    on_copy_done(CopyResult::Dropped);
    return std::nullopt;
  }
  if (!pending_buffer_) {
    set_pending(inst, std::move(src), std::move(on_copy), std::move(on_copy_done));
    return std::nullopt;
  }
  if (same_side(inst) && !is_number(t.type))
    return async_trap(is_stream ? "cannot read from and write to intra-component stream"
                                : "cannot read from and write to intra-component future");
  if (!is_stream) {
    STRATUS_TRAP_TRY(pending_buffer_->copy_from(*src, 1));
    reset_and_notify(CopyResult::Completed);
    on_copy_done(CopyResult::Completed);
    return std::nullopt;
  }
  if (pending_buffer_->remain() > 0) {
    if (src->remain() > 0) {
      uint32_t n = std::min(src->remain(), pending_buffer_->remain());
      STRATUS_TRAP_TRY(pending_buffer_->copy_from(*src, n));
      CopyBuffer* mine = pending_buffer_.get();
      // A copy: a host's callback may reclaim its buffer (resetting the
      // pending copy, this function with it) and start the next one at once.
      auto on_copy = pending_on_copy_;
      on_copy([this, mine] {
        if (pending_buffer_.get() == mine) reset_pending();
      });
    }
    // A host end may drop at once when its copy ends (the last piece of a
    // body): this copy then reports DROPPED with its count, as Wasmtime's
    // producers and consumers that finish a stream report it.
    on_copy_done(dropped ? CopyResult::Dropped : CopyResult::Completed);
  } else if (src->is_zero_length() && pending_buffer_->is_zero_length()) {
    on_copy_done(CopyResult::Completed);
  } else {
    reset_and_notify(CopyResult::Completed);
    if (pending_buffer_ || dropped) return write(inst, std::move(src), std::move(on_copy), std::move(on_copy_done));
    set_pending(inst, std::move(src), std::move(on_copy), std::move(on_copy_done));
  }
  return std::nullopt;
}

CopyEnd::~CopyEnd() {
  if (dropped_) return;
  // Its instance is going away with the end still in its table.
  shared->forget_pending(inst);
  shared->drop();
}

void CopyEnd::drop_end() {
  dropped_ = true;
  shared->drop();
  leave_set();
}

// ------------------------------------------------------------ values

Result<Val> lift_async_value(InstanceState& inst, const ValType& t, uint32_t index) {
  if (t.is_primitive()) {
    auto h = inst.handles().get_async(index);
    if (!h.ok()) return std::move(h).error();
    if ((*h)->kind != AsyncHandle::Kind::ErrorContext)
      return make_error("handle index " + std::to_string(index) + " is not an error context");
    return Val::error_context(static_cast<ErrorContextHandle*>(*h)->value);
  }
  bool stream = std::holds_alternative<StreamType>(t.defined().kind);
  const auto& element =
      stream ? std::get<StreamType>(t.defined().kind).element : std::get<FutureType>(t.defined().kind).element;
  const char* what = stream ? "stream" : "future";
  auto removed = inst.handles().remove_async(index);
  if (!removed.ok()) return std::move(removed).error();
  auto kind = stream ? AsyncHandle::Kind::StreamReadable : AsyncHandle::Kind::FutureReadable;
  if ((*removed)->kind != kind)
    return make_error("handle index " + std::to_string(index) + " is not the readable end of a " + what);
  auto* e = static_cast<CopyEnd*>(removed->get());
  if (!same_element(e->shared->t, ElementType{element, inst.weak_from_this()}))
    return make_error(std::string(what) + " element type mismatch");
  if (e->state == CopyEnd::State::Done)
    return make_error(stream ? "cannot lift stream after being notified that the writable end dropped"
                             : "cannot lift future after previous read succeeded");
  if (e->state != CopyEnd::State::Idle) return make_error(std::string("cannot remove busy ") + what);
  if (e->in_waitable_set()) return make_error(std::string("cannot lift ") + what + " while it's in a waitable set");
  e->dropped_ = true;  // moved on, not dropped
  return stream ? Val::stream(e->shared) : Val::future(e->shared);
}

Result<uint32_t> lower_async_value(InstanceState& inst, const ValType& t, const Val& v) {
  if (t.is_primitive()) {
    auto value = std::dynamic_pointer_cast<ErrorContextValue>(v.as_object());
    if (v.kind() != ValKind::ErrorContext || !value) return make_error("expected an error-context value");
    return inst.handles().add(std::make_shared<ErrorContextHandle>(std::move(value)));
  }
  bool stream = std::holds_alternative<StreamType>(t.defined().kind);
  auto shared = std::dynamic_pointer_cast<SharedChannel>(v.as_object());
  if (v.kind() != (stream ? ValKind::Stream : ValKind::Future) || !shared || shared->is_stream != stream)
    return make_error(stream ? "expected a stream value" : "expected a future value");
  auto kind = stream ? AsyncHandle::Kind::StreamReadable : AsyncHandle::Kind::FutureReadable;
  if (shared->t.deferred) {
    const auto& element =
        stream ? std::get<StreamType>(t.defined().kind).element : std::get<FutureType>(t.defined().kind).element;
    shared->t = ElementType{element, inst.weak_from_this()};
  }
  return inst.handles().add(std::make_shared<CopyEnd>(kind, std::move(shared), &inst));
}

}  // namespace stratus::component
