#include "workload/link_spans.h"

#include "observe/current_span.h"

namespace stratus::workload {
namespace {

class LinkSpan final : public component::LinkCall {
 public:
  explicit LinkSpan(observe::Span span) : span_(std::move(span)) {}
  void* trace_context() override {
    return const_cast<observe::TraceScope*>(
        span_.scope());  // NOLINT(cppcoreguidelines-pro-type-const-cast): opaque slot
  }
  void trapped(const engine::Trap& trap) override { span_.fail(trap.message, "trap"); }

 private:
  observe::Span span_;
};

class LinkSpans final : public component::LinkObserver {
 public:
  LinkSpans(std::string workload, std::string caller, std::string callee)
      : workload_(std::move(workload)), caller_(std::move(caller)), callee_(std::move(callee)) {}

  std::unique_ptr<component::LinkCall> begin(const std::string& function) override {
    auto span = observe::Span::child(function, observe::SpanKind::kInternal);
    if (!span.active()) return nullptr;
    auto& a = span.attributes();
    a.emplace_back("stratus.workload", workload_);
    a.emplace_back("stratus.link.function", function);
    a.emplace_back("stratus.link.caller", caller_);
    a.emplace_back("stratus.link.callee", callee_);
    return std::make_unique<LinkSpan>(std::move(span));
  }

 private:
  std::string workload_, caller_, callee_;
};

}  // namespace

std::shared_ptr<component::LinkObserver> link_spans(std::string workload, std::string caller, std::string callee) {
  return std::make_shared<LinkSpans>(std::move(workload), std::move(caller), std::move(callee));
}

observe::Span message_span(observe::TraceExporter* exporter, const plugins::Message& message, const char* system,
                           const std::string& workload, const std::string& component) {
  if (exporter == nullptr) return {};
  auto span = observe::Span::continuing(exporter, message.traceparent, message.tracestate, "process " + message.subject,
                                        observe::SpanKind::kConsumer);
  auto& a = span.attributes();
  a.emplace_back("messaging.system", std::string(system));
  a.emplace_back("messaging.destination.name", message.subject);
  a.emplace_back("messaging.operation.name", std::string("process"));
  a.emplace_back("messaging.operation.type", std::string("process"));
  a.emplace_back("stratus.workload", workload);
  a.emplace_back("stratus.component", component);
  return span;
}

}  // namespace stratus::workload
