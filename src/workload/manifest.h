// wasmCloud's Kubernetes kinds as written (the runtime-operator's CRDs,
// `apiVersion: runtime.wasmcloud.dev/v1alpha1`): `Workload` (its `spec`),
// `WorkloadReplicaSet` and `WorkloadDeployment` (their
// `spec.template.spec`), camelCase, read into the same `Workload` as the
// snake_case spec (spec.h), as the operator maps them onto the proto
// `Workload` it sends a host:
//
//   metadata {name, namespace, annotations}      -> name, namespace, annotations
//   WorkloadSpec {components[], hostInterfaces[]} -> wit_world
//     component {name, image, poolSize, maxInvocations, maxConcurrency, localResources}
//     hostInterfaces[] {namespace, package, version, interfaces[], config{}, name}
//     localResources {config{}, environment {config{}}, volumeMounts[] {name, mountPath, readOnly},
//                     allowedHosts[], allowedIpNameLookups[], allowedHostLoopbackPorts[] ("5432", "5432/tcp")}
//     service {image, maxRestarts, localResources}
//     volumes[] {name, hostPath {path} | ephemeral {}}
//   template.annotations                          -> annotations (over metadata's)
//   WorkloadDeployment spec.kubernetes.service.name, WorkloadSpec kubernetes.service.name
//                                                 -> wasi:http's host-aliases NAME.NS, NAME.NS.svc
//
// Placement is the operator's and one host has none: `replicas`,
// `hostSelector`, `hostId`, `environment`, `deployPolicy`, labels,
// `status` and the object metadata Kubernetes writes are read and
// reported as notes (logged by the caller), not used. `imagePullPolicy`
// is the spec's `image_pull_policy` (an OCI image's pull policy).
// What needs the Kubernetes API (`configFrom`, `secretFrom`,
// `imagePullSecret`, `artifacts`) is an error, as is any other field.
// Errors name the field in the file's own spelling
// (`spec.template.spec.components[1].poolSize: ...`), and
// `manifest_message` rewrites the spec's own paths (from validation and
// start) into that spelling.
//
// A file may hold several documents (`---`); documents of other API groups
// (a `v1` Service beside a WorkloadDeployment, as the operator's samples
// have) are noted and skipped, and a file with no workload is an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"
#include "workload/spec.h"

namespace stratus::workload {

inline constexpr std::string_view kManifestApiVersion = "runtime.wasmcloud.dev/v1alpha1";

struct Manifest {
  std::string kind;       // Workload, WorkloadReplicaSet, WorkloadDeployment; empty for a snake_case spec
  std::string spec_path;  // where the WorkloadSpec is: "spec", "spec.template.spec"; empty for a snake_case spec
  Workload workload;
  std::vector<std::string> notes;  // what was read and is not used on one host, one line each
};

// Whether `text` is written in Kubernetes kinds: its (first) document has
// a top-level `apiVersion`.
bool is_manifest(std::string_view text);

// Every workload of a manifest file, in order. `source` names it in
// messages; every problem is reported, each with its document (when the
// file has several) and field path.
Result<std::vector<Manifest>> parse_manifests(std::string_view text, const std::string& source);

// A workload file as `stratus up` reads it: the Kubernetes kinds when
// is_manifest, else the snake_case spec (one Manifest, kind and spec_path
// empty).
Result<std::vector<Manifest>> read_workload_file(std::string_view text, const std::string& source);

// `message` (problems from validate_workload or a start, one per line, each
// beginning with a spec field path such as
// `wit_world.components[1].pool_size: ...`) with those paths in the
// manifest's spelling (`spec.template.spec.components[1].poolSize: ...`).
// A snake_case spec's message comes back as it was.
std::string manifest_message(const Manifest& manifest, const std::string& message);

// One spec field path in the manifest's spelling under `spec_path`.
std::string manifest_path(const std::string& spec_path, const std::string& path);

}  // namespace stratus::workload
