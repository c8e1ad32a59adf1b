// UTF-8 scalar values, one at a time: what the canonical ABI's string
// transcoding and the WIT lexer both read and write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace stratus {

// Decodes one UTF-8 sequence at s[i] and advances i past it; nullopt (i
// unchanged) when malformed: overlong, a surrogate, beyond U+10FFFF, or
// truncated.
std::optional<char32_t> next_utf8(const uint8_t* s, size_t n, size_t& i);

// Appends `cp` (a scalar value) encoded as UTF-8.
void append_utf8(std::string& out, char32_t cp);

}  // namespace stratus
