// The host's side of the async Component Model (host_async.h).
#include "component/runtime/host_async.h"

#include "component/canon/abi.h"
#include "component/runtime/async.h"
#include "component/runtime/instance_state.h"

namespace stratus::component {

// ------------------------------------------------------------ host calls

HostCall::HostCall(std::shared_ptr<const std::string> name, FuncTypePtr type, std::weak_ptr<InstanceState> caller,
                   Reactor& reactor, std::function<void(Resolution)> on_resolve)
    : name_(std::move(name)),
      type_(std::move(type)),
      caller_(std::move(caller)),
      reactor_(reactor),
      hold_(reactor.hold()),
      on_resolve_(std::move(on_resolve)) {}

HostCall::~HostCall() {
  if (done_) return;
  if (auto inst = caller_.lock())
    inst->store().poison(async_trap("host function `" + *name_ + "` dropped its call without ending it"));
}

bool HostCall::caller_waits_alone() const {
  auto inst = caller_.lock();
  if (!inst) return true;
  const Store& store = inst->store();
  const Thread* thread = Thread::current();
  return (thread == nullptr || !thread->on_fiber()) && store.live.empty() && store.waiting.empty();
}

void HostCall::finish(Resolution r) {
  if (done_) return;
  done_ = true;
  hold_.release();
  on_cancel_ = nullptr;
  auto inst = caller_.lock();
  if (!inst || inst->store().trap()) return;  // the caller is gone, or its store stopped
  auto resolve = std::move(on_resolve_);
  resolve(std::move(r));
}

void HostCall::resolve(std::optional<Val> result) {
  if (done_) return;
  if (result.has_value() != type_->result.has_value()) {
    fail(async_trap("host function `" + *name_ + "` " +
                    (result ? "resolved with a value but its type has no result"
                            : "resolved without a value but its type has a result")));
    return;
  }
  if (result) {
    auto ok = check_type(*result, *type_->result);
    if (!ok.ok()) {
      fail(async_trap("host function `" + *name_ + "` resolved with a value of the wrong type: " + ok.error().message));
      return;
    }
  }
  finish(Resolution{false, std::move(result)});
}

void HostCall::fail(engine::Trap trap) {
  if (done_) return;
  done_ = true;
  hold_.release();
  on_cancel_ = nullptr;
  on_resolve_ = nullptr;
  if (auto inst = caller_.lock()) inst->store().poison(std::move(trap));
}

void HostCall::on_cancel(std::function<void()> f) {
  if (done_) return;
  if (cancel_requested_) {
    f();
    return;
  }
  on_cancel_ = std::move(f);
}

void HostCall::resolve_cancelled() { finish(Resolution{true, std::nullopt}); }

void HostCall::request_cancel() {
  if (done_ || cancel_requested_) return;
  cancel_requested_ = true;
  auto f = std::move(on_cancel_);
  on_cancel_ = nullptr;
  if (f) f();
}

// ------------------------------------------------------------ host ends

namespace {

// A reading or writing buffer of the host's, and what runs when its copy ends.
template <class OnDone>
struct HostEndState {
  std::shared_ptr<SharedChannel> channel;
  std::shared_ptr<HostBuffer> buffer;  // the copy under way
  OnDone done;
  bool dropped = false;

  HostEndState() = default;
  HostEndState(const HostEndState&) = delete;
  HostEndState& operator=(const HostEndState&) = delete;
  ~HostEndState() {
    if (!dropped) drop();
  }
  void cancel() {
    if (buffer && channel->pending_is(buffer.get())) channel->cancel();
  }
  void drop() {
    if (dropped) return;
    cancel();
    dropped = true;
    channel->drop();
  }
};

// The two callbacks of a host copy: it ends at the first progress (the
// host takes its elements at once) or when the channel ends it.
template <class State, class Finish>
std::pair<OnCopy, OnCopyDone> host_copy_callbacks(const std::shared_ptr<State>& state,
                                                  const std::shared_ptr<HostBuffer>& buffer, Finish finish) {
  std::weak_ptr<State> weak = state;
  auto end = [weak, buffer, finish](CopyResult r) {
    auto s = weak.lock();
    if (!s || s->buffer != buffer) return;
    auto done = std::move(s->done);
    s->done = nullptr;
    s->buffer.reset();
    if (done) finish(done, r, *buffer);
  };
  OnCopy on_copy = [end](std::function<void()> reclaim) {
    reclaim();
    end(CopyResult::Completed);
  };
  return {on_copy, end};
}

Result<void> copy_error(const MaybeTrap& t) {
  if (t) return make_error(t->message);
  return {};
}

}  // namespace

struct HostReadEnd::State : HostEndState<HostReadEnd::OnRead> {};
struct HostWriteEnd::State : HostEndState<HostWriteEnd::OnWrite> {};

Result<HostReadEnd> HostReadEnd::take(const Val& v) {
  auto channel = std::dynamic_pointer_cast<SharedChannel>(v.as_object());
  if ((v.kind() != ValKind::Stream && v.kind() != ValKind::Future) || !channel)
    return make_error("expected a stream or future value");
  HostReadEnd end;
  end.state_ = std::make_shared<State>();
  end.state_->channel = std::move(channel);
  return end;
}

bool HostReadEnd::is_stream() const { return state_ && state_->channel->is_stream; }

const std::optional<ValType>& HostReadEnd::element() const {
  static const std::optional<ValType> none;
  return state_ ? state_->channel->t.type : none;
}

Result<void> HostReadEnd::read(uint32_t max, OnRead done) {
  if (!state_) return make_error("not a readable end");
  if (state_->dropped) return make_error("cannot read from a dropped end");
  if (state_->buffer) return make_error("a read is already under way");
  auto& channel = *state_->channel;
  auto buffer = std::make_shared<HostBuffer>(ElementType{channel.t.type, {}}, channel.is_stream ? max : 1);
  state_->buffer = buffer;
  state_->done = std::move(done);
  auto [on_copy, on_done] =
      host_copy_callbacks(state_, buffer, [](OnRead& d, CopyResult r, HostBuffer& b) { d(r, b.take()); });
  return copy_error(channel.read(nullptr, buffer, std::move(on_copy), std::move(on_done)));
}

void HostReadEnd::cancel() {
  if (state_) state_->cancel();
}

void HostReadEnd::drop() {
  if (state_) state_->drop();
}

std::pair<HostWriteEnd, Val> HostWriteEnd::make(bool stream, std::optional<ValType> element, bool deferred) {
  HostWriteEnd end;
  end.state_ = std::make_shared<State>();
  auto& channel = end.state_->channel;
  channel = std::make_shared<SharedChannel>(stream, ElementType{std::move(element), {}, deferred});
  Val readable = stream ? Val::stream(channel) : Val::future(channel);
  return {std::move(end), std::move(readable)};
}

std::pair<HostWriteEnd, Val> HostWriteEnd::make_stream(std::optional<ValType> element) {
  return make(true, std::move(element), false);
}

std::pair<HostWriteEnd, Val> HostWriteEnd::make_future(std::optional<ValType> element) {
  return make(false, std::move(element), false);
}

std::pair<HostWriteEnd, Val> HostWriteEnd::make_stream() { return make(true, std::nullopt, true); }

std::pair<HostWriteEnd, Val> HostWriteEnd::make_future() { return make(false, std::nullopt, true); }

Result<void> HostWriteEnd::write(HostElements elements, OnWrite done) {
  if (!state_) return make_error("not a writable end");
  if (state_->dropped) return make_error("cannot write to a dropped end");
  if (state_->buffer) return make_error("a write is already under way");
  auto& channel = *state_->channel;
  if (!channel.is_stream && elements.count != 1) return make_error("a future takes exactly one value");
  const auto& t = channel.t.type;
  if (t && !channel.t.deferred) {
    if (elements_are_bytes(t)) {
      if (elements.bytes.size() != uint64_t{elements.count} * canon::elem_size(*t))
        return make_error("the bytes do not hold exactly the element count");
    } else if (elements.values.size() != elements.count) {
      return make_error("the values do not match the element count");
    }
  }
  auto buffer = std::make_shared<HostBuffer>(ElementType{t, {}, channel.t.deferred}, std::move(elements));
  state_->buffer = buffer;
  state_->done = std::move(done);
  auto [on_copy, on_done] =
      host_copy_callbacks(state_, buffer, [](OnWrite& d, CopyResult r, HostBuffer& b) { d(r, b.progress()); });
  return copy_error(channel.write(nullptr, buffer, std::move(on_copy), std::move(on_done)));
}

void HostWriteEnd::cancel() {
  if (state_) state_->cancel();
}

void HostWriteEnd::drop() {
  if (state_) state_->drop();
}

// ------------------------------------------------------------ error contexts

Val make_error_context(std::string debug_message) {
  return Val::error_context(std::make_shared<ErrorContextValue>(std::move(debug_message)));
}

std::optional<std::string> error_context_message(const Val& v) {
  if (v.kind() != ValKind::ErrorContext) return std::nullopt;
  auto value = std::dynamic_pointer_cast<ErrorContextValue>(v.as_object());
  if (!value) return std::nullopt;
  return value->debug_message;
}

}  // namespace stratus::component
