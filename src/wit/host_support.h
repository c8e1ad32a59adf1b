// What generated host bindings (`stratus bindgen --host`) build on: the C++
// forms of WIT's generic types, the result a host function returns (a value
// or a trap), and conversions between C++ values and component::Val.
//
// WIT types map to: bool, (u)int8..64_t, float, double, char32_t,
// std::string, std::vector<T> (list), std::tuple<...>, std::optional<T>,
// WitResult<T, E> (with Unit for an absent side), std::vector<std::pair<K, V>>
// (map), component::ResourceRef (own and borrow handles), Stream<T> and
// Future<T> (with Unit for no element type), ErrorContext; records, variants,
// enums and flags become generated structs, std::variants of case structs,
// enum classes and structs of bools. An `async func` becomes a function that
// gets a Reply<T> to answer with later (see Reply).
#pragma once

#include <bit>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "component/runtime/host_async.h"
#include "component/val.h"
#include "engine/engine.h"

namespace stratus::wit {

// The absent side of a `result` (`result<_, E>`, `result<T>`).
struct Unit {
  bool operator==(const Unit&) const = default;
};

// WIT's `result<T, E>`.
template <class T, class E>
class WitResult {
 public:
  WitResult() : v_(std::in_place_index<0>) {}
  static WitResult ok(T value) { return WitResult(std::in_place_index<0>, std::move(value)); }
  static WitResult err(E error) { return WitResult(std::in_place_index<1>, std::move(error)); }
  bool is_ok() const { return v_.index() == 0; }
  const T& value() const { return std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }
  bool operator==(const WitResult&) const = default;

 private:
  template <size_t I, class V>
  WitResult(std::in_place_index_t<I> i, V&& v) : v_(i, std::forward<V>(v)) {}
  std::variant<T, E> v_;
};

// What a host function returns: its value, or a trap that stops the guest.
template <class T>
class HostResult {
 public:
  HostResult(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
  HostResult(engine::Trap trap) : v_(std::move(trap)) {}  // NOLINT(google-explicit-constructor)
  bool trapped() const { return v_.index() == 1; }
  T& value() { return std::get<0>(v_); }
  engine::Trap& trap() { return std::get<1>(v_); }

 private:
  std::variant<T, engine::Trap> v_;
};

using component::Val;

// The runtime resource types of the resources the host implements, shared
// by the generated interfaces of one linker: an interface that `use`s a
// resource finds the type the defining interface made. Keyed by the static
// type in the generated world (for function types) and by "iface#name"
// (for handle values).
class HostResources {
 public:
  void add(const component::ResourceType* static_type, const std::string& key, component::ResourceTypePtr runtime) {
    by_static_[static_type] = runtime;
    by_key_[key] = std::move(runtime);
  }
  // By string_view: generated code asks with a literal on every handle it
  // converts, and should not make a std::string each time.
  component::ResourceTypePtr by_key(std::string_view key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : it->second;
  }
  const std::map<const component::ResourceType*, component::ResourceTypePtr>& by_static() const { return by_static_; }

 private:
  std::map<const component::ResourceType*, component::ResourceTypePtr> by_static_;
  std::map<std::string, component::ResourceTypePtr, std::less<>> by_key_;
};

// The registry handle values are converted with, set by the generated
// bindings for the length of a host call.
inline HostResources*& current_host_resources() {
  thread_local HostResources* current = nullptr;
  return current;
}
class HostResourcesScope {
 public:
  explicit HostResourcesScope(HostResources* r) : saved_(current_host_resources()) { current_host_resources() = r; }
  ~HostResourcesScope() { current_host_resources() = saved_; }
  HostResourcesScope(const HostResourcesScope&) = delete;
  HostResourcesScope& operator=(const HostResourcesScope&) = delete;

 private:
  HostResources* saved_;
};

// Handles of a host resource, by its representation (what the host chose
// when it made the resource). `Tag::kKey` names the resource ("iface#name").
template <class Tag>
struct Own {
  uint32_t rep = 0;
  bool operator==(const Own&) const = default;
};
template <class Tag>
struct Borrow {
  uint32_t rep = 0;
  bool operator==(const Borrow&) const = default;
};

// WIT's `stream<T>` and `future<T>`, as the value that travels: the
// readable end. The host reads one it received through reader() (once), and
// makes one to hand out with make(): it writes to the HostWriteEnd, and the
// stream takes its element type from the guest that receives it.
template <class T>
struct Stream {
  Val end;
  Result<component::HostReadEnd> reader() const { return component::HostReadEnd::take(end); }
  static std::pair<component::HostWriteEnd, Stream> make() {
    auto [writer, readable] = component::HostWriteEnd::make_stream();
    return {std::move(writer), Stream{std::move(readable)}};
  }
};
template <class T>
struct Future {
  Val end;
  Result<component::HostReadEnd> reader() const { return component::HostReadEnd::take(end); }
  static std::pair<component::HostWriteEnd, Future> make() {
    auto [writer, readable] = component::HostWriteEnd::make_future();
    return {std::move(writer), Future{std::move(readable)}};
  }
};
// WIT's `error-context`.
struct ErrorContext {
  Val value;
  static ErrorContext make(std::string debug_message) {
    return ErrorContext{component::make_error_context(std::move(debug_message))};
  }
  std::string debug_message() const { return component::error_context_message(value).value_or(""); }
};

// How an `async func` of the host answers, once, when it is ready: from the
// store's thread (another thread posts to reactor() first). A Reply dropped
// without an answer traps the caller (component::HostCall).
template <class T>
class Reply {
 public:
  Reply(std::shared_ptr<component::HostCall> call, HostResources* resources)
      : call_(std::move(call)), resources_(resources) {}
  void operator()(const T& value) const;
  void trap(engine::Trap t) const { call_->fail(std::move(t)); }
  // The caller cancelled: `f` runs; answer with cancelled() (or a value).
  void on_cancel(std::function<void()> f) const { call_->on_cancel(std::move(f)); }
  void cancelled() const { call_->resolve_cancelled(); }
  component::Reactor& reactor() const { return call_->reactor(); }
  const std::shared_ptr<component::HostCall>& call() const { return call_; }

 private:
  std::shared_ptr<component::HostCall> call_;
  HostResources* resources_;
};

// ---------------------------------------------------------------- to_val

inline Val to_val(bool v) { return Val::boolean(v); }
inline Val to_val(int8_t v) { return Val::s8(v); }
inline Val to_val(uint8_t v) { return Val::u8(v); }
inline Val to_val(int16_t v) { return Val::s16(v); }
inline Val to_val(uint16_t v) { return Val::u16(v); }
inline Val to_val(int32_t v) { return Val::s32(v); }
inline Val to_val(uint32_t v) { return Val::u32(v); }
inline Val to_val(int64_t v) { return Val::s64(v); }
inline Val to_val(uint64_t v) { return Val::u64(v); }
inline Val to_val(float v) { return Val::f32(v); }
inline Val to_val(double v) { return Val::f64(v); }
inline Val to_val(char32_t v) { return Val::character(v); }
inline Val to_val(const std::string& v) { return Val::string(v); }
inline Val to_val(const component::ResourceRef& v) { return Val::own(v); }
inline Val to_val(const Val& v) { return v; }
template <class T>
Val to_val(const Stream<T>& v) {
  return v.end;
}
template <class T>
Val to_val(const Future<T>& v) {
  return v.end;
}
inline Val to_val(const ErrorContext& v) { return v.value; }
template <class Tag>
Val to_val(const Own<Tag>& v) {
  auto* r = current_host_resources();
  return Val::own(component::ResourceRef{r ? r->by_key(Tag::kKey) : nullptr, v.rep});
}
template <class Tag>
Val to_val(const Borrow<Tag>& v) {
  auto* r = current_host_resources();
  return Val::borrow(component::ResourceRef{r ? r->by_key(Tag::kKey) : nullptr, v.rep});
}

template <class T>
Val to_val(const std::vector<T>& v);
template <class T>
Val to_val(const std::optional<T>& v);
template <class T, class E>
Val to_val(const WitResult<T, E>& v);
template <class... Ts>
Val to_val(const std::tuple<Ts...>& v);
template <class K, class V>
Val to_val(const std::vector<std::pair<K, V>>& v);

template <class T>
Val to_val(const std::vector<T>& v) {
  std::vector<Val> items;
  items.reserve(v.size());
  for (const auto& e : v) items.push_back(to_val(e));
  return Val::list(std::move(items));
}
template <class T>
Val to_val(const std::optional<T>& v) {
  if (!v) return Val::option(std::nullopt);
  return Val::option(to_val(*v));
}
template <class T>
std::optional<Val> payload_val(const T& v) {
  if constexpr (std::is_same_v<T, Unit>) {
    return std::nullopt;
  } else {
    return to_val(v);
  }
}
template <class T, class E>
Val to_val(const WitResult<T, E>& v) {
  return v.is_ok() ? Val::ok(payload_val(v.value())) : Val::err(payload_val(v.error()));
}
template <class... Ts>
Val to_val(const std::tuple<Ts...>& v) {
  return Val::tuple(std::apply([](const auto&... e) { return std::vector<Val>{to_val(e)...}; }, v));
}
template <class K, class V>
Val to_val(const std::vector<std::pair<K, V>>& v) {
  std::vector<Val> items;
  for (const auto& [k, x] : v) items.push_back(Val::tuple({to_val(k), to_val(x)}));
  return Val::list(std::move(items));
}

// -------------------------------------------------------------- from_val
// The runtime checked each Val against the function's type before the host
// sees it, so these read without checking kinds.

inline void from_val(const Val& v, bool& out) { out = v.as_bool(); }
inline void from_val(const Val& v, int8_t& out) { out = static_cast<int8_t>(v.as_signed()); }
inline void from_val(const Val& v, uint8_t& out) { out = static_cast<uint8_t>(v.as_unsigned()); }
inline void from_val(const Val& v, int16_t& out) { out = static_cast<int16_t>(v.as_signed()); }
inline void from_val(const Val& v, uint16_t& out) { out = static_cast<uint16_t>(v.as_unsigned()); }
inline void from_val(const Val& v, int32_t& out) { out = static_cast<int32_t>(v.as_signed()); }
inline void from_val(const Val& v, uint32_t& out) { out = static_cast<uint32_t>(v.as_unsigned()); }
inline void from_val(const Val& v, int64_t& out) { out = v.as_signed(); }
inline void from_val(const Val& v, uint64_t& out) { out = v.as_unsigned(); }
inline void from_val(const Val& v, float& out) { out = std::bit_cast<float>(v.f32_bits()); }
inline void from_val(const Val& v, double& out) { out = std::bit_cast<double>(v.f64_bits()); }
inline void from_val(const Val& v, char32_t& out) { out = v.as_char(); }
inline void from_val(const Val& v, std::string& out) { out = v.as_string(); }
inline void from_val(const Val& v, component::ResourceRef& out) { out = v.as_handle(); }
inline void from_val(const Val&, Unit&) {}
template <class T>
void from_val(const Val& v, Stream<T>& out) {
  out.end = v;
}
template <class T>
void from_val(const Val& v, Future<T>& out) {
  out.end = v;
}
inline void from_val(const Val& v, ErrorContext& out) { out.value = v; }
template <class Tag>
void from_val(const Val& v, Own<Tag>& out) {
  out.rep = v.as_handle().rep;
}
template <class Tag>
void from_val(const Val& v, Borrow<Tag>& out) {
  out.rep = v.as_handle().rep;
}

template <class T>
void from_val(const Val& v, std::vector<T>& out);
template <class T>
void from_val(const Val& v, std::optional<T>& out);
template <class T, class E>
void from_val(const Val& v, WitResult<T, E>& out);
template <class... Ts>
void from_val(const Val& v, std::tuple<Ts...>& out);
template <class K, class V>
void from_val(const Val& v, std::vector<std::pair<K, V>>& out);

template <class T>
void from_val(const Val& v, std::vector<T>& out) {
  out.clear();
  out.reserve(v.items().size());
  for (const auto& e : v.items()) {
    T x{};
    from_val(e, x);
    out.push_back(std::move(x));
  }
}
template <class T>
void from_val(const Val& v, std::optional<T>& out) {
  out.reset();
  if (v.payload() == nullptr) return;
  T x{};
  from_val(*v.payload(), x);
  out = std::move(x);
}
template <class T, class E>
void from_val(const Val& v, WitResult<T, E>& out) {
  if (v.discriminant() == 0) {
    T x{};
    if (v.payload() != nullptr) from_val(*v.payload(), x);
    out = WitResult<T, E>::ok(std::move(x));
  } else {
    E x{};
    if (v.payload() != nullptr) from_val(*v.payload(), x);
    out = WitResult<T, E>::err(std::move(x));
  }
}
template <class... Ts>
void from_val(const Val& v, std::tuple<Ts...>& out) {
  size_t i = 0;
  std::apply([&](auto&... e) { (from_val(v.items()[i++], e), ...); }, out);
}
template <class K, class V>
void from_val(const Val& v, std::vector<std::pair<K, V>>& out) {
  out.clear();
  for (const auto& e : v.items()) {
    std::pair<K, V> p{};
    from_val(e.items()[0], p.first);
    from_val(e.items()[1], p.second);
    out.push_back(std::move(p));
  }
}

template <class T>
void Reply<T>::operator()(const T& value) const {
  HostResourcesScope scope(resources_);
  if constexpr (std::is_same_v<T, Unit>) {
    call_->resolve(std::nullopt);
  } else {
    call_->resolve(to_val(value));
  }
}

}  // namespace stratus::wit
