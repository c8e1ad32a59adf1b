#include "lattice/protojson.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace stratus::lattice {
namespace {

namespace pb = google::protobuf;
namespace util = google::protobuf::util;
using nlohmann::json;

// libprotobuf's messages start with the status code
// ("INVALID_ARGUMENT:(workload.name): ..."); the code says nothing the
// reader can act on.
std::string reason(const util::Status& status) {
  std::string text(status.message());
  return text.empty() ? status.ToString() : text;
}

// The JSON of a `type` message with the members no field of it names
// taken out, at every depth. libprotobuf 3.21's ignore_unknown_fields also
// ignores an unknown enum name, silently; reading what is left strictly
// keeps that an error. Only message-typed fields are entered, so the
// depth is the proto's, whatever the text's.
void drop_unknown(json& value, const pb::Descriptor& type) {
  if (!value.is_object() || type.file()->name().rfind("google/protobuf/", 0) == 0) return;
  for (auto it = value.begin(); it != value.end();) {
    const pb::FieldDescriptor* field = type.FindFieldByName(it.key());
    if (field == nullptr) field = type.FindFieldByCamelcaseName(it.key());
    if (field == nullptr) {
      it = value.erase(it);
      continue;
    }
    json& v = it.value();
    if (field->is_map()) {
      const pb::FieldDescriptor* mapped = field->message_type()->map_value();
      if (mapped->message_type() != nullptr && v.is_object())
        for (auto& entry : v) drop_unknown(entry, *mapped->message_type());
    } else if (field->message_type() != nullptr) {
      if (field->is_repeated() && v.is_array()) {
        for (auto& item : v) drop_unknown(item, *field->message_type());
      } else {
        drop_unknown(v, *field->message_type());
      }
    }
    ++it;
  }
}

// The deepest nesting of [ and { in `text`, strings aside: nlohmann's
// parser keeps its own stack, but dump() recurses, and a value no field
// reads (kept as it is, under a field of another type) could nest as deep
// as the body is long.
size_t nesting(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

constexpr size_t kMaxNesting = 64;

}  // namespace

Result<void> from_json(std::string_view text, google::protobuf::Message& out) {
  out.Clear();
  if (text.size() > kMaxRequestBytes) return make_error("the body is larger than 4 MiB");
  if (nesting(text) > kMaxNesting) return make_error("nested more than 64 deep");
  std::string known;
  try {
    json value = json::parse(text);
    if (!value.is_object()) return make_error("expected a JSON object");
    drop_unknown(value, *out.GetDescriptor());
    known = value.dump();
  } catch (const json::exception& e) {
    return make_error(std::string("not JSON: ") + e.what());
  }
  auto read = util::JsonStringToMessage(known, &out, util::JsonParseOptions());
  if (!read.ok()) {
    out.Clear();
    return make_error(reason(read));
  }
  return {};
}

std::string to_json(const google::protobuf::Message& message) {
  std::string out;
  util::JsonPrintOptions options;
  // Only fails for messages with Any fields whose types it cannot resolve;
  // ours have none.
  (void)util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace stratus::lattice
