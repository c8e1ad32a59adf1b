// Fuzzes the protojson decoding of every request a `stratus host` reads
// from NATS (lattice/protojson.h): workload.start, workload.status,
// workload.stop, and the heartbeat the operator reads back. Decoding gives
// the message or an error with a reason, never a crash or a hang; what
// decodes encodes, and decodes again to the same message; a start
// request's workload maps onto the spec and validates without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <google/protobuf/util/message_differencer.h>

#include "lattice/protojson.h"
#include "lattice/workload_proto.h"

namespace {

namespace v2 = wasmcloud::runtime::v2;

template <class Message>
const Message* decode(std::string_view text, Message& m) {
  auto read = stratus::lattice::from_json(text, m);
  if (!read) {
    if (read.error().message.empty()) __builtin_trap();  // every refusal says why
    return nullptr;
  }
  Message again;
  if (!stratus::lattice::from_json(stratus::lattice::to_json(m), again)) __builtin_trap();
  // (Not by their serialized bytes: a map's entries serialize in no set order.)
  if (!google::protobuf::util::MessageDifferencer::Equals(again, m)) __builtin_trap();
  return &m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  v2::WorkloadStartRequest start;
  if (decode(text, start) != nullptr) {
    (void)stratus::lattice::to_workload(start.workload());
    (void)stratus::lattice::check_workload(start.workload(), "/nonexistent-stratus-fuzz");
  }
  v2::WorkloadStatusRequest status;
  (void)decode(text, status);
  v2::WorkloadStopRequest stop;
  (void)decode(text, stop);
  v2::HostHeartbeat heartbeat;
  (void)decode(text, heartbeat);
  return 0;
}
