// Whether this test program was built with AddressSanitizer or
// ThreadSanitizer: tests that move megabytes through the canonical ABI (one
// Val per list element) do less of it there, where each element costs many
// times more, and memory figures (shadow memory, a TSan context per fiber)
// are not the program's own.
#pragma once

namespace stratus::test_support {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace stratus::test_support
