#include "observe/current_span.h"

namespace stratus::observe {

namespace {
thread_local const TraceContext* t_current = nullptr;
}  // namespace

const TraceContext* current_span() { return t_current; }

CurrentSpanScope::CurrentSpanScope(const TraceContext& context) : previous_(t_current) { t_current = &context; }

CurrentSpanScope::~CurrentSpanScope() { t_current = previous_; }

}  // namespace stratus::observe
