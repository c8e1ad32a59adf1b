#include "workload/wave_call.h"

#include <variant>

#include "component/val_text.h"

namespace stratus::workload {
namespace {

// What in `type` has no WAVE text, if anything ("a resource handle", ...).
const char* without_text(const component::ValType& type) {
  using namespace component;
  if (type.is_primitive()) return type.primitive() == PrimType::ErrorContext ? "an error-context" : nullptr;
  const auto& kind = type.defined().kind;
  const char* found = nullptr;
  auto check = [&](const ValType& t) {
    if (found == nullptr) found = without_text(t);
  };
  auto check_opt = [&](const std::optional<ValType>& t) {
    if (t) check(*t);
  };
  std::visit(
      [&](const auto& k) {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, OwnType> || std::is_same_v<K, BorrowType>) {
          found = "a resource handle";
        } else if constexpr (std::is_same_v<K, StreamType>) {
          found = "a stream";
        } else if constexpr (std::is_same_v<K, FutureType>) {
          found = "a future";
        } else if constexpr (std::is_same_v<K, RecordType>) {
          for (const auto& f : k.fields) check(f.type);
        } else if constexpr (std::is_same_v<K, VariantType>) {
          for (const auto& c : k.cases) check_opt(c.type);
        } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType>) {
          check(k.element);
        } else if constexpr (std::is_same_v<K, TupleType>) {
          for (const auto& e : k.elements) check(e);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          check_opt(k.ok);
          check_opt(k.err);
        } else if constexpr (std::is_same_v<K, MapType>) {
          check(k.key);
          check(k.value);
        }
      },
      kind);
  return found;
}

}  // namespace

Result<std::string> call_with_wave(MemberInstance& member, const std::string& function, const std::string& args,
                                   std::chrono::milliseconds timeout, bool* trapped) {
  auto type = member.self->instance->export_type(function);
  const auto* func = type ? std::get_if<component::FuncTypePtr>(&*type) : nullptr;
  if (func == nullptr || *func == nullptr)
    return make_error("no exported function `" + function + "` (name it \"iface#name\" or a world-level function)");
  const component::FuncType& ft = **func;
  for (const auto& p : ft.params) {
    if (const char* what = without_text(p.type))
      return make_error(function + ": parameter `" + p.name + "` holds " + what + ", which cannot be passed as text");
  }
  auto values = component::parse_wave_args(args, ft.params);
  if (!values) return std::move(values).error().context(function + ": arguments");
  auto outcome = member.call(function, *values, timeout);
  if (outcome.trapped()) {
    if (trapped != nullptr) *trapped = true;
    return make_error(function + ": trap: " + outcome.trap().message);
  }
  if (outcome.failed()) return make_error(function + ": " + outcome.error().message);
  const auto& result = outcome.result();
  if (!ft.result || !result) return std::string();
  auto text = component::to_wave(*result, *ft.result);
  if (!text) return std::move(text).error().context(function + ": its result");
  return text;
}

}  // namespace stratus::workload
