// Errors as values: every fallible operation in stratus returns Result<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace stratus {

struct Error {
  std::string message;

  // Prepends context ("while compiling foo.wasm: ...") so the final message
  // says where as well as what.
  Error&& context(const std::string& where) && {
    message = where + ": " + message;
    return std::move(*this);
  }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace stratus

// Propagates an error from an expression returning Result<...>.
#define STRATUS_TRY(expr)                                               \
  do {                                                                  \
    auto stratus_try_r_ = (expr);                                       \
    if (!stratus_try_r_.ok()) return std::move(stratus_try_r_).error(); \
  } while (0)
