// Protobuf's canonical JSON mapping (protojson), as wasmCloud's
// runtime-operator writes and reads it: lowerCamelCase names out, both
// lowerCamelCase and the proto's snake_case names in, enum values by name,
// 64-bit integers as strings, google.protobuf.Timestamp as RFC 3339.
// Unknown fields are ignored (a newer operator may send more); a value of
// the wrong type, an unknown enum name, or text that is not JSON is an
// error naming the field ("workload.wit_world.components[0].pool_size").
// Bodies past 4 MiB or nested more than 64 deep are refused unread.
#pragma once

#include <string>
#include <string_view>

#include "lattice/runtime_v2.pb.h"
#include "support/result.h"

namespace stratus::lattice {

// The largest request body read; the operator's requests are a few KiB.
constexpr size_t kMaxRequestBytes = 4 << 20;

// Reads `text` into `out` (cleared first).
Result<void> from_json(std::string_view text, google::protobuf::Message& out);

// `message` as protojson, fields at their default values left out.
std::string to_json(const google::protobuf::Message& message);

}  // namespace stratus::lattice
