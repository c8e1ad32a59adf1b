// wasmCloud's `Workload` message (runtime_v2.proto) as the workload runtime's
// spec (workload/spec.h), field for field. Where the wire differs from our
// YAML, the wire's meaning is kept: proto3 has no "unset" for scalars, so
// zero is unset (memory_limit_mb, cpu_limit), and the instance limits
// (pool_size, max_invocations, max_concurrency) below 1 are unset, as
// wasmCloud's operator documents them. allowed_host_loopback_ports are
// strings on the wire: "5432" or "5432/tcp" (the host grants TCP and UDP
// connects to that port of 127.0.0.1 and ::1 alike, so "53/udp" is refused
// rather than read as a wider grant). image_pull_secret (unset when
// username and password are both empty) and image_pull_policy go to the
// spec's fields of the same names, used when an image is an OCI reference.
#pragma once

#include <string>
#include <vector>

#include "lattice/runtime_v2.pb.h"
#include "support/result.h"
#include "workload/spec.h"

namespace stratus::lattice {

// Every problem at once, each "field.path: what" in the proto's snake_case
// names (as workload::validate_workload writes its own).
Result<workload::Workload> to_workload(const wasmcloud::runtime::v2::Workload& message);

// workload::validate_workload's problems and to_workload's together, one
// line each: empty when the workload can start (images resolve against
// `base_dir`).
std::vector<std::string> check_workload(const wasmcloud::runtime::v2::Workload& message, const std::string& base_dir);

}  // namespace stratus::lattice
