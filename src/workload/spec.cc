#include "workload/spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "oci/reference.h"
#include "workload/yaml_reader.h"

namespace stratus::workload {
namespace {

namespace fs = std::filesystem;
using yaml::Reader;
using yaml::too_deep;

LocalResources read_resources(Reader& r, const YAML::Node& node, const std::string& path) {
  LocalResources out;
  r.fields(node, path,
           {"memory_limit_mb", "cpu_limit", "config", "environment", "volume_mounts", "allowed_hosts",
            "allowed_ip_name_lookups", "allowed_host_loopback_ports"},
           [&](const std::string& key, const YAML::Node& v, const std::string& p) {
             int32_t n = 0;
             if (key == "memory_limit_mb") {
               if (r.integer(v, p, n)) out.memory_limit_mb = n;
             } else if (key == "cpu_limit") {
               if (r.integer(v, p, n)) out.cpu_limit = n;
             } else if (key == "config") {
               r.string_map(v, p, out.config);
             } else if (key == "environment") {
               r.string_map(v, p, out.environment);
             } else if (key == "volume_mounts") {
               r.list<VolumeMount>(v, p, out.volume_mounts,
                                   [&r](const YAML::Node& m, const std::string& mp, VolumeMount& vm) {
                                     r.fields(m, mp, {"name", "mount_path", "read_only"},
                                              [&](const std::string& k, const YAML::Node& x, const std::string& xp) {
                                                if (k == "name") r.scalar(x, xp, vm.name);
                                                if (k == "mount_path") r.scalar(x, xp, vm.mount_path);
                                                if (k == "read_only") r.boolean(x, xp, vm.read_only);
                                              });
                                     return true;
                                   });
             } else if (key == "allowed_hosts") {
               r.strings(v, p, out.allowed_hosts);
             } else if (key == "allowed_ip_name_lookups") {
               r.strings(v, p, out.allowed_ip_name_lookups);
             } else {
               r.list<uint16_t>(
                   v, p, out.allowed_host_loopback_ports,
                   [&r](const YAML::Node& n, const std::string& np, uint16_t& port) { return r.integer(n, np, port); });
             }
           });
  return out;
}

// `image_pull_policy` and `image_pull_secret`, beside an `image`.
void read_pull(Reader& r, const std::string& key, const YAML::Node& v, const std::string& p,
               std::optional<ImagePullSecret>& secret, ImagePullPolicy& policy) {
  if (key == "image_pull_secret") {
    ImagePullSecret s;
    r.fields(v, p, {"username", "password"}, [&](const std::string& k, const YAML::Node& x, const std::string& xp) {
      r.scalar(x, xp, k == "username" ? s.username : s.password);
    });
    if (!v.IsNull()) secret = std::move(s);
  }
  if (key == "image_pull_policy") {
    std::string text;
    if (!r.scalar(v, p, text)) return;
    if (text == "Always" || text == "IMAGE_PULL_POLICY_ALWAYS") {
      policy = ImagePullPolicy::Always;
    } else if (text == "IfNotPresent" || text == "IMAGE_PULL_POLICY_IF_NOT_PRESENT") {
      policy = ImagePullPolicy::IfNotPresent;
    } else if (text == "Never" || text == "IMAGE_PULL_POLICY_NEVER") {
      policy = ImagePullPolicy::Never;
    } else if (text != "IMAGE_PULL_POLICY_UNSPECIFIED") {
      r.problem(p, "'" + text + "' is not Always, IfNotPresent or Never");
    }
  }
}

Component read_component(Reader& r, const YAML::Node& node, const std::string& path) {
  Component c;
  r.fields(node, path,
           {"name", "image", "local_resources", "pool_size", "max_invocations", "max_concurrency", "image_pull_secret",
            "image_pull_policy"},
           [&](const std::string& key, const YAML::Node& v, const std::string& p) {
             int32_t n = 0;
             read_pull(r, key, v, p, c.image_pull_secret, c.image_pull_policy);
             if (key == "name") r.scalar(v, p, c.name);
             if (key == "image") r.scalar(v, p, c.image);
             if (key == "local_resources") c.local_resources = read_resources(r, v, p);
             if (key == "pool_size" && r.integer(v, p, n)) c.pool_size = n;
             if (key == "max_invocations" && r.integer(v, p, n)) c.max_invocations = n;
             if (key == "max_concurrency" && r.integer(v, p, n)) c.max_concurrency = n;
           });
  return c;
}

HostInterface read_interface(Reader& r, const YAML::Node& node, const std::string& path) {
  HostInterface h;
  r.fields(node, path, {"namespace", "package", "version", "interfaces", "config", "name"},
           [&](const std::string& key, const YAML::Node& v, const std::string& p) {
             if (key == "namespace") r.scalar(v, p, h.ns);
             if (key == "package") r.scalar(v, p, h.package);
             if (key == "version") r.scalar(v, p, h.version);
             if (key == "interfaces") r.strings(v, p, h.interfaces);
             if (key == "config") r.string_map(v, p, h.config);
             if (key == "name") r.scalar(v, p, h.name);
           });
  return h;
}

Volume read_volume(Reader& r, const YAML::Node& node, const std::string& path) {
  Volume vol;
  int kinds = 0;
  r.fields(node, path, {"name", "host_path", "empty_dir"},
           [&](const std::string& key, const YAML::Node& v, const std::string& p) {
             if (key == "name") {
               r.scalar(v, p, vol.name);
             } else if (key == "host_path") {
               ++kinds;
               vol.kind = Volume::Kind::HostPath;
               r.fields(v, p, {"local_path"}, [&](const std::string&, const YAML::Node& x, const std::string& xp) {
                 r.scalar(x, xp, vol.local_path);
               });
             } else {
               ++kinds;
               vol.kind = Volume::Kind::EmptyDir;
               r.fields(v, p, {}, [](const std::string&, const YAML::Node&, const std::string&) {});
             }
           });
  if (kinds != 1) r.problem(path, "give exactly one of host_path and empty_dir");
  return vol;
}

bool valid_label(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

void check_image(const std::string& image, const std::string& path, const std::string& base_dir,
                 std::vector<std::string>& problems) {
  if (image.empty()) {
    problems.push_back(path + ": missing (a .wasm file)");
    return;
  }
  if (oci::is_oci_reference(image)) {
    auto ref = oci::parse_reference(image);
    if (!ref) problems.push_back(path + ": " + ref.error().message);
    return;
  }
  fs::path file = fs::path(image).is_absolute() ? fs::path(image) : fs::path(base_dir) / image;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) problems.push_back(path + ": '" + file.string() + "' is not a file");
}

void check_resources(const LocalResources& r, const std::string& path, const std::set<std::string>& volumes,
                     std::vector<std::string>& problems) {
  if (r.memory_limit_mb && *r.memory_limit_mb <= 0) {
    problems.push_back(path + ".memory_limit_mb: must be positive (MiB)");
  }
  if (r.cpu_limit && *r.cpu_limit < 0) problems.push_back(path + ".cpu_limit: must not be negative");
  std::set<std::string> mounts;
  for (size_t i = 0; i < r.volume_mounts.size(); ++i) {
    const auto& m = r.volume_mounts[i];
    std::string p = path + ".volume_mounts[" + std::to_string(i) + "]";
    if (volumes.count(m.name) == 0) problems.push_back(p + ".name: no volume named '" + m.name + "'");
    if (m.mount_path.empty() || m.mount_path[0] != '/') {
      problems.push_back(p + ".mount_path: must be an absolute guest path");
    } else if (!mounts.insert(m.mount_path).second) {
      problems.push_back(p + ".mount_path: '" + m.mount_path + "' is mounted twice");
    }
  }
  for (size_t i = 0; i < r.allowed_host_loopback_ports.size(); ++i) {
    if (r.allowed_host_loopback_ports[i] == 0) {
      problems.push_back(path + ".allowed_host_loopback_ports[" + std::to_string(i) + "]: port 0");
    }
  }
  for (const auto& [key, value] : r.environment) {
    (void)value;
    if (key.empty() || key.find('=') != std::string::npos) {
      problems.push_back(path + ".environment: '" + key + "' cannot name a variable");
    }
  }
}

template <class T>
void append_unique(std::vector<T>& into, const std::vector<T>& from) {
  for (const auto& v : from) {
    if (std::find(into.begin(), into.end(), v) == into.end()) into.push_back(v);
  }
}

}  // namespace

Result<Workload> parse_workload(std::string_view text, const std::string& source) {
  if (auto why = too_deep(text)) return make_error(source + ": not read: " + *why);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " +
                      e.msg);
  }
  if (size_t left = yaml::kMaxNodes; yaml::too_many_nodes(root, left))
    return make_error(source + ": not read: more than " + std::to_string(yaml::kMaxNodes) +
                      " nodes once its aliases are expanded");
  Reader r;
  Workload w;
  if (!root.IsMap()) return make_error(source + ": expected a map with the workload's fields");
  r.fields(root, "", {"namespace", "name", "annotations", "service", "wit_world", "volumes"},
           [&](const std::string& key, const YAML::Node& v, const std::string& p) {
             if (key == "namespace") r.scalar(v, p, w.ns);
             if (key == "name") r.scalar(v, p, w.name);
             if (key == "annotations") r.string_map(v, p, w.annotations);
             if (key == "service") {
               Service s;
               r.fields(v, p, {"image", "local_resources", "max_restarts", "image_pull_secret", "image_pull_policy"},
                        [&](const std::string& k, const YAML::Node& x, const std::string& xp) {
                          read_pull(r, k, x, xp, s.image_pull_secret, s.image_pull_policy);
                          if (k == "image") r.scalar(x, xp, s.image);
                          if (k == "local_resources") s.local_resources = read_resources(r, x, xp);
                          if (k == "max_restarts") r.integer(x, xp, s.max_restarts);
                        });
               if (!v.IsNull()) w.service = std::move(s);
             }
             if (key == "wit_world") {
               r.fields(v, p, {"components", "host_interfaces"},
                        [&](const std::string& k, const YAML::Node& x, const std::string& xp) {
                          if (k == "components") {
                            r.list<Component>(x, xp, w.components,
                                              [&r](const YAML::Node& n, const std::string& np, Component& c) {
                                                c = read_component(r, n, np);
                                                return true;
                                              });
                          } else {
                            r.list<HostInterface>(x, xp, w.host_interfaces,
                                                  [&r](const YAML::Node& n, const std::string& np, HostInterface& h) {
                                                    h = read_interface(r, n, np);
                                                    return true;
                                                  });
                          }
                        });
             }
             if (key == "volumes") {
               r.list<Volume>(v, p, w.volumes, [&r](const YAML::Node& n, const std::string& np, Volume& vol) {
                 vol = read_volume(r, n, np);
                 return true;
               });
             }
           });
  if (!r.problems.empty()) {
    std::string message = source + ":";
    for (const auto& p : r.problems) message += "\n  " + p;
    return make_error(message);
  }
  return w;
}

std::vector<std::string> validate_workload(const Workload& w, const std::string& base_dir) {
  std::vector<std::string> problems;
  if (w.name.empty()) {
    problems.push_back("name: missing");
  } else if (!valid_label(w.name)) {
    problems.push_back("name: '" + w.name + "' must be lowercase letters, digits, '-', '.' or '_'");
  }
  if (!w.ns.empty() && !valid_label(w.ns)) {
    problems.push_back("namespace: '" + w.ns + "' must be lowercase letters, digits, '-', '.' or '_'");
  }
  std::set<std::string> volumes;
  for (size_t i = 0; i < w.volumes.size(); ++i) {
    const auto& v = w.volumes[i];
    std::string p = "volumes[" + std::to_string(i) + "]";
    if (v.name.empty()) problems.push_back(p + ".name: missing");
    if (!v.name.empty() && !volumes.insert(v.name).second) problems.push_back(p + ".name: '" + v.name + "' twice");
    if (v.kind == Volume::Kind::HostPath) {
      std::error_code ec;
      if (v.local_path.empty()) {
        problems.push_back(p + ".host_path.local_path: missing");
      } else if (!fs::is_directory(fs::path(base_dir) / v.local_path, ec)) {
        problems.push_back(p + ".host_path.local_path: '" + v.local_path + "' is not a directory");
      }
    }
  }
  if (!w.service && w.components.empty()) problems.push_back("wit_world.components: a workload needs a component");
  if (w.service) {
    check_image(w.service->image, "service.image", base_dir, problems);
    check_resources(w.service->local_resources, "service.local_resources", volumes, problems);
  }
  std::set<std::string> names;
  for (size_t i = 0; i < w.components.size(); ++i) {
    const auto& c = w.components[i];
    std::string p = "wit_world.components[" + std::to_string(i) + "]";
    if (c.name.empty()) {
      problems.push_back(p + ".name: missing");
    } else if (!names.insert(c.name).second) {
      problems.push_back(p + ".name: '" + c.name + "' is used by another component");
    }
    check_image(c.image, p + ".image", base_dir, problems);
    check_resources(c.local_resources, p + ".local_resources", volumes, problems);
    if (c.pool_size && *c.pool_size < 0) problems.push_back(p + ".pool_size: must not be negative");
    if (c.max_invocations && *c.max_invocations < 0) problems.push_back(p + ".max_invocations: must not be negative");
    if (c.max_concurrency && *c.max_concurrency < 0) problems.push_back(p + ".max_concurrency: must not be negative");
  }
  std::set<std::string> interfaces;
  for (size_t i = 0; i < w.host_interfaces.size(); ++i) {
    const auto& h = w.host_interfaces[i];
    std::string p = "wit_world.host_interfaces[" + std::to_string(i) + "]";
    if (h.ns.empty()) problems.push_back(p + ".namespace: missing");
    if (h.package.empty()) problems.push_back(p + ".package: missing");
    if (h.interfaces.empty()) problems.push_back(p + ".interfaces: name at least one interface");
    std::string key = h.ns + ":" + h.package + "#" + h.name;
    if (!h.ns.empty() && !h.package.empty() && !interfaces.insert(key).second) {
      problems.push_back(p + ": " + h.ns + ":" + h.package + " is listed twice" +
                         (h.name.empty() ? " (give each a distinct name)" : " under the name '" + h.name + "'"));
    }
  }
  return problems;
}

LocalResources merge_resources(const LocalResources& base, const LocalResources& over) {
  LocalResources out = base;
  if (over.memory_limit_mb) out.memory_limit_mb = over.memory_limit_mb;
  if (over.cpu_limit) out.cpu_limit = over.cpu_limit;
  for (const auto& [k, v] : over.config) out.config[k] = v;
  for (const auto& [k, v] : over.environment) out.environment[k] = v;
  for (const auto& m : over.volume_mounts) {
    auto same = std::find_if(out.volume_mounts.begin(), out.volume_mounts.end(),
                             [&](const VolumeMount& x) { return x.mount_path == m.mount_path; });
    if (same != out.volume_mounts.end()) {
      *same = m;
    } else {
      out.volume_mounts.push_back(m);
    }
  }
  append_unique(out.allowed_hosts, over.allowed_hosts);
  append_unique(out.allowed_ip_name_lookups, over.allowed_ip_name_lookups);
  append_unique(out.allowed_host_loopback_ports, over.allowed_host_loopback_ports);
  return out;
}

LocalResources effective_resources(const LocalResources& host_defaults, const Workload& workload,
                                   const LocalResources& component) {
  LocalResources workload_layer;
  for (const auto& h : workload.host_interfaces) {
    if (h.ns == "wasi" && h.package == "config") {
      for (const auto& [k, v] : h.config) workload_layer.config[k] = v;
    }
  }
  return merge_resources(merge_resources(host_defaults, workload_layer), component);
}

}  // namespace stratus::workload
