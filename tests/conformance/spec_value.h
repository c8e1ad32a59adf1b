// Values in wast2json's JSON form: arguments to build, results to check.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "support/result.h"

namespace stratus::conformance {

// {"type": "i32", "value": "42"}, {"type": "v128", "lane_type": "i8", "value": [...]},
// {"type": "externref", "value": "1"|"null"}. Numbers are the unsigned bit patterns.
Result<engine::Value> parse_value(const nlohmann::json& value);

// nullopt if `actual` satisfies `expected` (a value, or a NaN pattern such as
// "nan:canonical" / "nan:arithmetic", possibly per v128 lane), else what differs.
std::optional<std::string> check_value(const nlohmann::json& expected, const engine::Value& actual);

// The type an expected value or argument names.
Result<engine::ValType> parse_type(const std::string& name);

}  // namespace stratus::conformance
