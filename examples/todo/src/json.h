// Just enough JSON for the todo API: a request body read as one object
// (every value checked, so bad JSON is refused, not half-read), and string
// literals for the responses.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace todo::json {

// A member of the top-level object: its value's text when it is a string,
// else nullopt (a number, an object, ...).
struct Member {
  std::string key;
  std::optional<std::string> string;
};

// `text` as one JSON object. Errors say what and where: "at byte 12: expected ':'".
std::expected<std::vector<Member>, std::string> parse_object(std::string_view text);

// `text` as a JSON string literal (quotes, escapes); `text` is UTF-8.
std::string quote(std::string_view text);

}  // namespace todo::json
