// Building OTLP messages (otlp/*.proto) and writing them out as the
// signal's encoding asks: protobuf's bytes, or OTLP/JSON (protobuf's JSON
// mapping with the OTLP specification's deviations: trace and span ids as
// hex strings, enums as integers). For the exporters' own sources only:
// it names the generated protobuf types.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/repeated_ptr_field.h>

#include <string>

#include "common.pb.h"
#include "observe/otlp/config.h"

namespace stratus::observe::otlp_encoding {

void set_value(stratus::otlp::AnyValue& out, const AttributeValue& value);
void add_attributes(google::protobuf::RepeatedPtrField<stratus::otlp::KeyValue>& out, const Attributes& attributes);

// `message` in `encoding`.
std::string serialize(const google::protobuf::Message& message, OtlpEncoding encoding);

}  // namespace stratus::observe::otlp_encoding
