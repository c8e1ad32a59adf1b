#include "component/runtime/observed_func.h"

#include "support/trace_slot.h"

namespace stratus::component {
namespace {

// The callee runs under the call's trace context (its fibers keep it).
struct Under {
  explicit Under(void* context) : before(t_trace_slot) { t_trace_slot = context; }
  ~Under() { t_trace_slot = before; }
  Under(const Under&) = delete;
  Under& operator=(const Under&) = delete;
  void* before;
};

CallOutcome forward_call(const TargetOf& target, InstanceState* caller, std::span<const Val> args) {
  auto f = target();
  if (!f) return engine::Trap{engine::TrapKind::Other, f.error().message};
  return (*f)->call(caller, args);
}

// A function handed over with an observer: the exporter's own, told of
// each call made under a trace context.
class ObservedFunc final : public RtFunc {
 public:
  ObservedFunc(RtFuncPtr target, std::shared_ptr<LinkObserver> observer, std::string path)
      : RtFunc(target->type(), target->owner()),
        target_(std::move(target)),
        observer_(std::move(observer)),
        path_(std::move(path)),
        find_([this]() -> Result<RtFuncPtr> { return target_; }) {}

  CallOutcome call(InstanceState* caller, std::span<const Val> args) override {
    if (t_trace_slot != nullptr) [[unlikely]]
      return call_observed(*observer_, path_, find_, caller, args);
    return target_->call(caller, args);
  }

  std::pair<MaybeTrap, OnCancel> invoke(InstanceState* caller, OnStart on_start, OnResolve on_resolve) override {
    if (t_trace_slot != nullptr) [[unlikely]]
      return invoke_observed(*observer_, path_, find_, caller, std::move(on_start), std::move(on_resolve));
    return target_->invoke(caller, std::move(on_start), std::move(on_resolve));
  }

 private:
  RtFuncPtr target_;
  std::shared_ptr<LinkObserver> observer_;
  std::string path_;
  TargetOf find_;
};

}  // namespace

CallOutcome call_observed(LinkObserver& observer, const std::string& path, const TargetOf& target,
                          InstanceState* caller, std::span<const Val> args) {
  auto link = observer.begin(path);
  if (!link) return forward_call(target, caller, args);
  CallOutcome outcome = [&] {
    Under under(link->trace_context());
    return forward_call(target, caller, args);
  }();
  if (!outcome.returned()) link->trapped(outcome.trap());
  return outcome;
}

// The call's end may come after invoke returns (a callee that blocked):
// the LinkCall lives as long as the resolution's callback.
std::pair<MaybeTrap, OnCancel> invoke_observed(LinkObserver& observer, const std::string& path, const TargetOf& target,
                                               InstanceState* caller, OnStart on_start, OnResolve on_resolve) {
  std::shared_ptr<LinkCall> link = observer.begin(path);
  auto f = target();
  if (!f) {
    engine::Trap trap{engine::TrapKind::Other, f.error().message};
    if (link) link->trapped(trap);
    return {std::move(trap), OnCancel{}};
  }
  if (!link) return (*f)->invoke(caller, std::move(on_start), std::move(on_resolve));
  std::pair<MaybeTrap, OnCancel> started;
  {
    Under under(link->trace_context());
    started =
        (*f)->invoke(caller, std::move(on_start), [link, on_resolve = std::move(on_resolve)](Resolution r) mutable {
          auto resolve = std::move(on_resolve);
          link.reset();  // the call ended: its span too
          resolve(std::move(r));
        });
  }
  if (started.first) link->trapped(*started.first);
  return started;
}

RtItem observed_item(const RtItem& item, const std::shared_ptr<LinkObserver>& observer, const std::string& path) {
  if (const auto* f = std::get_if<RtFuncPtr>(&item))
    return RtFuncPtr(std::make_shared<ObservedFunc>(*f, observer, path));
  if (const auto* i = std::get_if<RtInstancePtr>(&item)) {
    auto copy = std::make_shared<RtInstance>(**i);
    for (auto& [name, e] : copy->exports)
      if (std::holds_alternative<RtFuncPtr>(e)) e = observed_item(e, observer, path + "#" + name);
    return RtInstancePtr(std::move(copy));
  }
  return item;
}

}  // namespace stratus::component
