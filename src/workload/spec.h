// A workload spec: wasmCloud v2's `Workload` message (protobuf package
// wasmcloud.runtime.v2) field for field, in snake_case YAML or JSON:
//
//   namespace, name, annotations{}
//   service {image, local_resources, max_restarts}
//   wit_world {components[] {name, image, local_resources, pool_size, max_invocations, max_concurrency},
//              host_interfaces[] {namespace, package, version, interfaces[], config{}, name}}
//   volumes[] {name, host_path {local_path} | empty_dir {}}
//   local_resources {memory_limit_mb, cpu_limit, config{}, environment{},
//                    volume_mounts[] {name, mount_path, read_only},
//                    allowed_hosts[], allowed_ip_name_lookups[], allowed_host_loopback_ports[]}
//
// `image` is a local file path, or an OCI reference (`registry/repo:tag`,
// `@sha256:` digests; oci::is_oci_reference tells them apart), pulled as
// `image_pull_policy` says (Always, IfNotPresent (the default) or Never, or
// the proto's IMAGE_PULL_POLICY_* names) with `image_pull_secret`
// {username, password}; both sit beside `image` in service and components.
// Parsing and validation report every problem at once, each with its
// field path ("wit_world.components[1].pool_size: ...").
//
// Merging (effective_resources): host defaults, then the workload, then the
// component. Scalars: the later layer wins when it sets one. Maps (config,
// environment): merged key by key, the later layer winning a key. Lists of
// grants (allowed_*): the union, in order, without repeats. volume_mounts:
// merged by mount_path, the later layer winning a path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace stratus::workload {

struct VolumeMount {
  std::string name;
  std::string mount_path;
  bool read_only = false;
};

struct LocalResources {
  std::optional<int32_t> memory_limit_mb;
  std::optional<int32_t> cpu_limit;
  std::map<std::string, std::string> config;
  std::map<std::string, std::string> environment;
  std::vector<VolumeMount> volume_mounts;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_ip_name_lookups;
  std::vector<uint16_t> allowed_host_loopback_ports;
};

enum class ImagePullPolicy { Unspecified, Always, IfNotPresent, Never };

struct ImagePullSecret {
  std::string username;
  std::string password;
};

struct Service {
  std::string image;
  std::optional<ImagePullSecret> image_pull_secret;
  ImagePullPolicy image_pull_policy = ImagePullPolicy::Unspecified;
  LocalResources local_resources;
  uint64_t max_restarts = 0;
};

struct Component {
  std::string name;
  std::string image;
  std::optional<ImagePullSecret> image_pull_secret;
  ImagePullPolicy image_pull_policy = ImagePullPolicy::Unspecified;
  LocalResources local_resources;
  std::optional<int32_t> pool_size;
  std::optional<int32_t> max_invocations;
  std::optional<int32_t> max_concurrency;
};

struct HostInterface {
  std::string ns;  // `namespace`
  std::string package;
  std::string version;
  std::vector<std::string> interfaces;
  std::map<std::string, std::string> config;
  std::string name;
};

struct Volume {
  enum class Kind { HostPath, EmptyDir };
  std::string name;
  Kind kind = Kind::EmptyDir;
  std::string local_path;  // Kind::HostPath
};

struct Workload {
  std::string ns;  // `namespace`
  std::string name;
  std::map<std::string, std::string> annotations;
  std::optional<Service> service;
  std::vector<Component> components;
  std::vector<HostInterface> host_interfaces;
  std::vector<Volume> volumes;
};

// Reads a workload from YAML (or JSON, which is YAML). `source` names it in
// messages (a file name). Unknown fields and values of the wrong kind are
// problems; every one is reported.
Result<Workload> parse_workload(std::string_view text, const std::string& source);

// What is wrong with a parsed workload, one "field.path: what" per problem;
// empty when it can start. Relative image and host_path paths resolve
// against `base_dir`.
std::vector<std::string> validate_workload(const Workload& workload, const std::string& base_dir);

// The layers' resources merged (see the top of this file).
LocalResources merge_resources(const LocalResources& base, const LocalResources& over);

// A component's (or the service's) resources as it runs: the host's
// defaults, then the workload's layer, then its own. The Workload message
// has no workload-wide local_resources; its layer is the `config` of its
// wasi:config host interface, which every component of the workload sees.
LocalResources effective_resources(const LocalResources& host_defaults, const Workload& workload,
                                   const LocalResources& component);

}  // namespace stratus::workload
