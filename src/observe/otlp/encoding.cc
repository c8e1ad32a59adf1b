#include "observe/otlp/encoding.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "observe/trace_context.h"

namespace stratus::observe::otlp_encoding {

void set_value(stratus::otlp::AnyValue& out, const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v))
    out.set_string_value(*s);
  else if (const auto* i = std::get_if<int64_t>(&v))
    out.set_int_value(*i);
  else if (const auto* b = std::get_if<bool>(&v))
    out.set_bool_value(*b);
  else
    out.set_double_value(std::get<double>(v));
}

void add_attributes(google::protobuf::RepeatedPtrField<stratus::otlp::KeyValue>& out, const Attributes& attributes) {
  for (const auto& [key, value] : attributes) {
    auto* kv = out.Add();
    kv->set_key(key);
    set_value(*kv->mutable_value(), value);
  }
}

namespace {

// Standard base64 (what protobuf's JSON mapping writes bytes as); nullopt
// for anything else.
std::optional<std::string> base64_decode(const std::string& in) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t bits = 0;
  int have = 0;
  for (char c : in) {
    if (c == '=') break;
    int d = digit(c);
    if (d < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(d);
    have += 6;
    if (have >= 8) {
      have -= 8;
      out += static_cast<char>((bits >> have) & 0xff);
    }
  }
  return out;
}

// OTLP/JSON writes the ids of spans, parents and log records as hex, not
// base64: rewrites every such field of `j`, at any depth.
void ids_to_hex(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) ids_to_hex(e);
    return;
  }
  if (!j.is_object()) return;
  for (auto& [key, value] : j.items()) {
    if ((key == "traceId" || key == "spanId" || key == "parentSpanId") && value.is_string()) {
      auto bytes = base64_decode(value.get<std::string>());
      if (!bytes) continue;
      std::vector<uint8_t> raw(bytes->begin(), bytes->end());
      std::string hex = to_hex(raw.data(), raw.size());
      value = hex;
    } else {
      ids_to_hex(value);
    }
  }
}

}  // namespace

std::string serialize(const google::protobuf::Message& message, OtlpEncoding encoding) {
  if (encoding == OtlpEncoding::kProtobuf) return message.SerializeAsString();
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = true;  // OTLP/JSON: enums MUST be integers
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  // Our own messages always convert; an empty object sends nothing wrong.
  if (!status.ok()) return "{}";
  auto j = nlohmann::json::parse(text);
  ids_to_hex(j);
  return j.dump();
}

}  // namespace stratus::observe::otlp_encoding
