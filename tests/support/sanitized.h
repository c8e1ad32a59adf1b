// Whether this test program was built with AddressSanitizer: tests that move
// megabytes through the canonical ABI (one Val per list element) do less
// of it there, where each element costs many times more.
#pragma once

namespace stratus::test_support {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace stratus::test_support
