#include "lattice/protojson.h"

#include <google/protobuf/util/json_util.h>

#include <memory>

namespace stratus::lattice {
namespace {

namespace util = google::protobuf::util;

// libprotobuf's messages start with the status code
// ("INVALID_ARGUMENT:(workload.name): ..."); the code says nothing the
// reader can act on.
std::string reason(const util::Status& status) {
  std::string text(status.message());
  return text.empty() ? status.ToString() : text;
}

}  // namespace

Result<void> from_json(std::string_view text, google::protobuf::Message& out) {
  out.Clear();
  if (text.size() > kMaxRequestBytes) return make_error("the body is larger than 4 MiB");
  util::JsonParseOptions lenient;
  lenient.ignore_unknown_fields = true;
  auto read = util::JsonStringToMessage(text, &out, lenient);
  if (!read.ok()) {
    out.Clear();
    return make_error(reason(read));
  }
  // libprotobuf 3.21 ignores an unknown enum name along with unknown
  // fields, leaving the field at its default: a strict read finds it. A
  // strict read fails at the first unknown field too, which is not an
  // error here, so only its other complaints count.
  auto strict_copy = std::unique_ptr<google::protobuf::Message>(out.New());
  auto strict = util::JsonStringToMessage(text, strict_copy.get(), util::JsonParseOptions());
  if (!strict.ok()) {
    std::string why = reason(strict);
    if (why.find("Cannot find field") == std::string::npos) {
      out.Clear();
      return make_error(why);
    }
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
