#include "workload/manifest.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <optional>
#include <utility>

#include "workload/yaml_reader.h"

namespace stratus::workload {
namespace {

using yaml::Reader;
using Fields = std::vector<std::string>;

// The fields of Kubernetes' ObjectMeta that the API server writes (a
// `kubectl get -o yaml` dump has them): read past with a note.
const Fields kServerMetadata = {
    "uid",        "resourceVersion", "generation",   "creationTimestamp", "managedFields",
    "finalizers", "ownerReferences", "generateName", "deletionTimestamp", "deletionGracePeriodSeconds"};

bool contains(const Fields& fields, const std::string& key) {
  return std::find(fields.begin(), fields.end(), key) != fields.end();
}

Fields plus(Fields a, const Fields& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string flat_map(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return "{" + out + "}";
}

class ManifestReader {
 public:
  Reader r;
  std::vector<std::string> notes;

  void note(const std::string& path, const std::string& what) {
    if (notes.size() < yaml::kMaxProblems) notes.push_back(path + ": " + what);
  }

  // What needs the Kubernetes API to mean anything.
  void needs_kubernetes(const std::string& path, const std::string& what) {
    r.problem(path, what + ", which only the operator can read on Kubernetes; stratus up takes no Kubernetes objects");
  }

  void config_layer(const std::string& key, const YAML::Node& v, const std::string& p,
                    std::map<std::string, std::string>& config) {
    if (key == "config") {
      r.string_map(v, p, config);
    } else if (key == "configFrom") {
      needs_kubernetes(p, "names ConfigMaps");
    } else if (key == "secretFrom") {
      needs_kubernetes(p, "names Secrets");
    }
  }

  std::optional<uint16_t> loopback_port(const YAML::Node& node, const std::string& path) {
    std::string entry;
    if (!r.scalar(node, path, entry)) return std::nullopt;
    std::string_view text = entry, protocol;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      protocol = text.substr(slash + 1);
      text = text.substr(0, slash);
    }
    if (!protocol.empty() && protocol != "tcp") {
      r.problem(path, "'" + entry + "': only tcp ports are granted (\"5432\" or \"5432/tcp\")");
      return std::nullopt;
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) {
      r.problem(path, "'" + entry + "' is not a port from 1 to 65535 (\"5432\" or \"5432/tcp\")");
      return std::nullopt;
    }
    return static_cast<uint16_t>(port);
  }

  LocalResources resources(const YAML::Node& node, const std::string& path) {
    LocalResources out;
    r.fields(
        node, path,
        {"volumeMounts", "environment", "config", "allowedHosts", "allowedIpNameLookups", "allowedHostLoopbackPorts"},
        [&](const std::string& key, const YAML::Node& v, const std::string& p) {
          if (key == "volumeMounts") {
            r.list<VolumeMount>(v, p, out.volume_mounts,
                                [this](const YAML::Node& m, const std::string& mp, VolumeMount& vm) {
                                  r.fields(m, mp, {"name", "mountPath", "readOnly"},
                                           [&](const std::string& k, const YAML::Node& x, const std::string& xp) {
                                             if (k == "name") r.scalar(x, xp, vm.name);
                                             if (k == "mountPath") r.scalar(x, xp, vm.mount_path);
                                             if (k == "readOnly") r.boolean(x, xp, vm.read_only);
                                           });
                                  return true;
                                });
          } else if (key == "environment") {
            r.fields(v, p, {"config", "configFrom", "secretFrom"},
                     [&](const std::string& k, const YAML::Node& x, const std::string& xp) {
                       config_layer(k, x, xp, out.environment);
                     });
          } else if (key == "config") {
            r.string_map(v, p, out.config);
          } else if (key == "allowedHosts") {
            r.strings(v, p, out.allowed_hosts);
          } else if (key == "allowedIpNameLookups") {
            r.strings(v, p, out.allowed_ip_name_lookups);
          } else {
            r.list<uint16_t>(v, p, out.allowed_host_loopback_ports,
                             [this](const YAML::Node& n, const std::string& np, uint16_t& port) {
                               auto got = loopback_port(n, np);
                               if (got) port = *got;
                               return got.has_value();
                             });
          }
        });
    return out;
  }

  // imagePullSecret and imagePullPolicy, shared by components and the service.
  // The policy applies to an OCI reference as `image_pull_policy` does.
  void image_options(const std::string& key, const YAML::Node& v, const std::string& p, ImagePullPolicy& out) {
    if (key == "imagePullSecret") {
      needs_kubernetes(p, "names a Secret");
    } else if (key == "imagePullPolicy") {
      std::string policy;
      if (!r.scalar(v, p, policy)) return;
      if (policy == "Always") {
        out = ImagePullPolicy::Always;
      } else if (policy == "IfNotPresent") {
        out = ImagePullPolicy::IfNotPresent;
      } else if (policy == "Never") {
        out = ImagePullPolicy::Never;
      } else {
        r.problem(p, "'" + policy + "' is not one of Always, IfNotPresent, Never");
      }
    }
  }

  Component component(const YAML::Node& node, const std::string& path) {
    Component c;
    r.fields(node, path,
             {"name", "image", "imagePullSecret", "imagePullPolicy", "poolSize", "maxInvocations", "maxConcurrency",
              "localResources"},
             [&](const std::string& key, const YAML::Node& v, const std::string& p) {
               int32_t n = 0;
               if (key == "name") r.scalar(v, p, c.name);
               if (key == "image") r.scalar(v, p, c.image);
               if (key == "poolSize" && r.integer(v, p, n)) c.pool_size = n;
               if (key == "maxInvocations" && r.integer(v, p, n)) c.max_invocations = n;
               if (key == "maxConcurrency" && r.integer(v, p, n)) c.max_concurrency = n;
               if (key == "localResources") c.local_resources = resources(v, p);
               image_options(key, v, p, c.image_pull_policy);
             });
    return c;
  }

  HostInterface host_interface(const YAML::Node& node, const std::string& path) {
    HostInterface h;
    r.fields(node, path,
             {"name", "namespace", "package", "interfaces", "version", "config", "configFrom", "secretFrom"},
             [&](const std::string& key, const YAML::Node& v, const std::string& p) {
               if (key == "name") r.scalar(v, p, h.name);
               if (key == "namespace") r.scalar(v, p, h.ns);
               if (key == "package") r.scalar(v, p, h.package);
               if (key == "interfaces") r.strings(v, p, h.interfaces);
               if (key == "version") r.scalar(v, p, h.version);
               config_layer(key, v, p, h.config);
             });
    return h;
  }

  Volume volume(const YAML::Node& node, const std::string& path) {
    Volume vol;
    int kinds = 0;
    r.fields(node, path, {"name", "ephemeral", "hostPath"},
             [&](const std::string& key, const YAML::Node& v, const std::string& p) {
               if (key == "name") {
                 r.scalar(v, p, vol.name);
               } else if (key == "hostPath") {
                 ++kinds;
                 vol.kind = Volume::Kind::HostPath;
                 r.fields(v, p, {"path"}, [&](const std::string&, const YAML::Node& x, const std::string& xp) {
                   r.scalar(x, xp, vol.local_path);
                 });
               } else {
                 ++kinds;
                 vol.kind = Volume::Kind::EmptyDir;
                 r.fields(v, p, {}, [](const std::string&, const YAML::Node&, const std::string&) {});
               }
             });
    if (kinds != 1) r.problem(path, "give exactly one of hostPath and ephemeral");
    return vol;
  }

  // `kubernetes: {service: {name}}`, of a WorkloadSpec or a WorkloadDeploymentSpec.
  void kubernetes(const YAML::Node& node, const std::string& path, std::string& service) {
    r.fields(node, path, {"service"}, [&](const std::string&, const YAML::Node& v, const std::string& p) {
      r.fields(v, p, {"name"},
               [&](const std::string&, const YAML::Node& x, const std::string& xp) { r.scalar(x, xp, service); });
    });
  }

  void workload_spec(const YAML::Node& node, const std::string& path, Workload& w, std::string& service_name) {
    if (!node.IsDefined() || node.IsNull()) {
      r.problem(path, "missing (the workload's components and host interfaces)");
      return;
    }
    r.fields(
        node, path,
        {"hostSelector", "hostId", "environment", "components", "hostInterfaces", "service", "volumes", "kubernetes"},
        [&](const std::string& key, const YAML::Node& v, const std::string& p) {
          if (key == "hostSelector") {
            std::map<std::string, std::string> selector;
            r.string_map(v, p, selector);
            note(p, flat_map(selector) + " noted, ignored on one host (this host runs it)");
          } else if (key == "hostId" || key == "environment") {
            std::string value;
            if (r.scalar(v, p, value)) note(p, "'" + value + "' noted, ignored on one host (this host runs it)");
          } else if (key == "components") {
            r.list<Component>(v, p, w.components, [this](const YAML::Node& n, const std::string& np, Component& c) {
              c = component(n, np);
              return true;
            });
          } else if (key == "hostInterfaces") {
            r.list<HostInterface>(v, p, w.host_interfaces,
                                  [this](const YAML::Node& n, const std::string& np, HostInterface& h) {
                                    h = host_interface(n, np);
                                    return true;
                                  });
          } else if (key == "service") {
            Service s;
            r.fields(v, p, {"image", "imagePullSecret", "imagePullPolicy", "maxRestarts", "localResources"},
                     [&](const std::string& k, const YAML::Node& x, const std::string& xp) {
                       int32_t n = 0;
                       if (k == "image") r.scalar(x, xp, s.image);
                       if (k == "maxRestarts" && r.integer(x, xp, n)) {
                         if (n < 0) {
                           r.problem(xp, "must not be negative");
                         } else {
                           s.max_restarts = static_cast<uint64_t>(n);
                         }
                       }
                       if (k == "localResources") s.local_resources = resources(x, xp);
                       image_options(k, x, xp, s.image_pull_policy);
                     });
            if (!v.IsNull()) w.service = std::move(s);
          } else if (key == "volumes") {
            r.list<Volume>(v, p, w.volumes, [this](const YAML::Node& n, const std::string& np, Volume& vol) {
              vol = volume(n, np);
              return true;
            });
          } else {
            kubernetes(v, p, service_name);
          }
        });
  }

  // `replicas` of a WorkloadReplicaSet or WorkloadDeployment spec.
  void replicas(const YAML::Node& v, const std::string& p) {
    int32_t n = 0;
    if (!r.integer(v, p, n)) return;
    if (n < 0) {
      r.problem(p, "must not be negative");
    } else {
      note(p, std::to_string(n) + " noted, ignored on one host (it runs one copy)");
    }
  }

  void template_spec(const YAML::Node& node, const std::string& path, Workload& w, std::string& service_name) {
    if (!node.IsDefined() || node.IsNull()) {
      r.problem(path, "missing (the workload's template: spec.template.spec)");
      return;
    }
    bool has_spec = false;
    r.fields(node, path, {"annotations", "labels", "spec"},
             [&](const std::string& key, const YAML::Node& v, const std::string& p) {
               if (key == "annotations") {
                 std::map<std::string, std::string> annotations;
                 r.string_map(v, p, annotations);
                 for (auto& [k, value] : annotations) w.annotations[k] = std::move(value);
               } else if (key == "labels") {
                 std::map<std::string, std::string> labels;
                 r.string_map(v, p, labels);
                 note(p, flat_map(labels) + " noted, not used (labels select objects on Kubernetes)");
               } else {
                 has_spec = true;
                 workload_spec(v, p, w, service_name);
               }
             });
    if (node.IsMap() && !has_spec) r.problem(path + ".spec", "missing (the workload's components and host interfaces)");
  }

  void metadata(const YAML::Node& node, const std::string& path, Workload& w) {
    r.fields(node, path, plus({"name", "namespace", "labels", "annotations"}, kServerMetadata),
             [&](const std::string& key, const YAML::Node& v, const std::string& p) {
               if (key == "name") r.scalar(v, p, w.name);
               if (key == "namespace") r.scalar(v, p, w.ns);
               if (key == "annotations") r.string_map(v, p, w.annotations);
               if (key == "labels") {
                 std::map<std::string, std::string> labels;
                 r.string_map(v, p, labels);
                 note(p, flat_map(labels) + " noted, not used (labels select objects on Kubernetes)");
               }
               if (contains(kServerMetadata, key)) note(p, "written by Kubernetes, ignored");
             });
  }
};

// The operator adds these Host names to a workload's wasi:http
// incoming-handler when the workload names a Kubernetes Service.
void add_service_aliases(Workload& w, const std::string& service) {
  std::string ns = w.ns.empty() ? "default" : w.ns;
  std::string aliases = service + "." + ns + "," + service + "." + ns + ".svc";
  for (auto& h : w.host_interfaces) {
    if (h.ns != "wasi" || h.package != "http") continue;
    if (std::find(h.interfaces.begin(), h.interfaces.end(), "incoming-handler") != h.interfaces.end())
      h.config["host-aliases"] = aliases;
  }
}

std::string scalar_field(const YAML::Node& doc, const char* key) {
  if (!doc.IsDefined() || !doc.IsMap()) return "";  // a subscript of a scalar, or IsMap of a missing node, throws
  const YAML::Node v = doc[key];
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : std::string();
}

Result<std::vector<YAML::Node>> load_all(std::string_view text, const std::string& source) {
  if (auto why = yaml::too_deep(text)) return make_error(source + ": not read: " + *why);
  if (auto why = yaml::too_many_documents(text)) return make_error(source + ": not read: " + *why);
  try {
    auto docs = YAML::LoadAll(std::string(text));
    size_t left = yaml::kMaxNodes;  // for the whole file
    for (const auto& d : docs) {
      if (yaml::too_many_nodes(d, left))
        return make_error(source + ": not read: more than " + std::to_string(yaml::kMaxNodes) +
                          " nodes once its aliases are expanded");
    }
    return docs;
  } catch (const YAML::Exception& e) {
    return make_error(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " +
                      e.msg);
  }
}

// One segment of a spec path in the manifest's spelling (camelCase, the
// CRD's own names where they differ).
std::string crd_name(const std::string& name) {
  if (name == "host_path") return "hostPath";
  if (name == "local_path") return "path";
  if (name == "empty_dir") return "ephemeral";
  std::string out;
  bool upper = false;
  for (char c : name) {
    if (c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '[' || c == ']';
}

}  // namespace

std::string manifest_path(const std::string& spec_path, const std::string& path) {
  std::vector<std::string> segments;
  for (size_t at = 0; at <= path.size();) {
    size_t dot = path.find('.', at);
    if (dot == std::string::npos) dot = path.size();
    segments.push_back(path.substr(at, dot - at));
    at = dot + 1;
  }
  auto base = [](const std::string& s) { return s.substr(0, s.find('[')); };
  auto index = [](const std::string& s) { return s.find('[') == std::string::npos ? "" : s.substr(s.find('[')); };
  std::string out;
  size_t i = 0;
  std::string first = base(segments[0]);
  if (first == "name" || first == "namespace" || first == "annotations") {
    out = "metadata." + segments[0];
    i = 1;
  } else if (first == "wit_world") {
    out = spec_path;
    if (segments.size() == 1) return out + index(segments[0]);
    i = 1;
  } else {
    out = spec_path;
  }
  std::string previous;
  for (; i < segments.size(); ++i) {
    std::string name = base(segments[i]);
    out += "." + crd_name(name);
    if (name == "environment" && previous == "local_resources") out += ".config";
    out += index(segments[i]);
    previous = name;
  }
  return out;
}

std::string manifest_message(const Manifest& manifest, const std::string& message) {
  if (manifest.spec_path.empty()) return message;
  std::string out;
  for (size_t at = 0; at <= message.size();) {
    size_t nl = message.find('\n', at);
    if (nl == std::string::npos) nl = message.size();
    std::string line = message.substr(at, nl - at);
    size_t lead = line.find_first_not_of(' ');
    if (lead == std::string::npos) lead = line.size();
    size_t end = lead;
    while (end < line.size() && path_char(line[end])) ++end;
    std::string head = line.substr(lead, end - lead);
    std::string first = head.substr(0, head.find_first_of(".["));
    bool is_path = end < line.size() && line[end] == ':' &&
                   (first == "wit_world" || first == "service" || first == "volumes" || first == "name" ||
                    first == "namespace" || first == "annotations");
    if (is_path) line = line.substr(0, lead) + manifest_path(manifest.spec_path, head) + line.substr(end);
    // Paths inside the text (`... but wit_world.host_interfaces does not declare ...`).
    for (size_t w = line.find("wit_world", lead); w != std::string::npos; w = line.find("wit_world", w + 1)) {
      if (w > 0 && path_char(line[w - 1])) continue;
      size_t e = w;
      while (e < line.size() && path_char(line[e])) ++e;
      while (e > w && line[e - 1] == '.') --e;
      std::string mapped = manifest_path(manifest.spec_path, line.substr(w, e - w));
      line = line.substr(0, w) + mapped + line.substr(e);
    }
    out += line;
    if (nl < message.size()) out += "\n";
    at = nl + 1;
  }
  return out;
}

bool is_manifest(std::string_view text) {
  if (yaml::too_deep(text) || yaml::too_many_documents(text)) return false;
  try {
    for (const auto& doc : YAML::LoadAll(std::string(text))) {
      if (doc.IsNull()) continue;
      return doc.IsMap() && doc["apiVersion"].IsDefined();
    }
  } catch (const YAML::Exception&) {
  }
  return false;
}

Result<std::vector<Manifest>> parse_manifests(std::string_view text, const std::string& source) {
  auto docs = load_all(text, source);
  if (!docs) return docs.error();
  size_t real = 0;
  for (const auto& d : *docs)
    if (!d.IsNull()) ++real;
  std::vector<Manifest> out;
  std::vector<std::string> problems, skipped;
  size_t number = 0;
  for (const auto& doc : *docs) {
    if (doc.IsNull()) continue;
    ++number;
    std::string where = real > 1 ? "document " + std::to_string(number) + ": " : "";
    if (!doc.IsMap()) {
      problems.push_back(where + "(top): expected a map with apiVersion, kind, metadata and spec");
      continue;
    }
    std::string api = scalar_field(doc, "apiVersion"), kind = scalar_field(doc, "kind");
    std::string group = api.substr(0, api.find('/'));
    if (api.empty()) {
      problems.push_back(where + "apiVersion: missing (expected " + std::string(kManifestApiVersion) + ")");
      continue;
    }
    if (group != "runtime.wasmcloud.dev") {
      skipped.push_back(where + api + " " + (kind.empty() ? "(no kind)" : kind) + " '" +
                        scalar_field(doc["metadata"], "name") + "'");
      continue;
    }
    if (api != kManifestApiVersion) {
      problems.push_back(where + "apiVersion: '" + api + "' is not supported (expected " +
                         std::string(kManifestApiVersion) + ")");
      continue;
    }
    if (kind != "Workload" && kind != "WorkloadReplicaSet" && kind != "WorkloadDeployment") {
      problems.push_back(where + "kind: " + (kind.empty() ? "missing" : "'" + kind + "' is not a workload") +
                         " (expected Workload, WorkloadReplicaSet or WorkloadDeployment)");
      continue;
    }
    ManifestReader m;
    Manifest manifest;
    manifest.kind = kind;
    manifest.spec_path = kind == "Workload" ? "spec" : "spec.template.spec";
    Workload& w = manifest.workload;
    std::string service_name;
    bool has_spec = false, has_metadata = false;
    m.r.fields(doc, "", {"apiVersion", "kind", "metadata", "spec", "status"},
               [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                 if (key == "metadata") {
                   has_metadata = true;
                   m.metadata(v, p, w);
                 } else if (key == "status") {
                   m.note(p, "written by the operator, ignored");
                 } else if (key == "spec") {
                   has_spec = true;
                   if (kind == "Workload") {
                     m.workload_spec(v, p, w, service_name);
                     return;
                   }
                   Fields known = {"replicas", "template"};
                   if (kind == "WorkloadDeployment") known = plus(known, {"deployPolicy", "artifacts", "kubernetes"});
                   bool has_template = false;
                   m.r.fields(v, p, known, [&](const std::string& k, const YAML::Node& x, const std::string& xp) {
                     if (k == "replicas") {
                       m.replicas(x, xp);
                     } else if (k == "template") {
                       has_template = true;
                       m.template_spec(x, xp, w, service_name);
                     } else if (k == "deployPolicy") {
                       std::string policy;
                       if (m.r.scalar(x, xp, policy)) {
                         if (policy != "RollingUpdate" && policy != "Recreate") {
                           m.r.problem(xp, "'" + policy + "' is not one of RollingUpdate, Recreate");
                         } else {
                           m.note(xp, policy + " noted, ignored on one host (a new spec is a new `stratus up`)");
                         }
                       }
                     } else if (k == "artifacts") {
                       m.needs_kubernetes(xp, "names Artifact objects");
                     } else {
                       m.kubernetes(x, xp, service_name);
                     }
                   });
                   if ((v.IsMap() || v.IsNull()) && !has_template)
                     m.r.problem(p + ".template", "missing (the workload's template)");
                 }
               });
    if (!has_metadata) m.r.problem("metadata", "missing (the workload's name)");
    if (!has_spec) m.r.problem("spec", "missing");
    if (!service_name.empty()) add_service_aliases(w, service_name);
    for (const auto& p : m.r.problems) problems.push_back(where + p);
    for (const auto& n : m.notes) manifest.notes.push_back(where + kind + " " + w.name + ": " + n);
    out.push_back(std::move(manifest));
  }
  if (problems.empty() && out.empty()) {
    problems.push_back(
        "no " + std::string(kManifestApiVersion) + " Workload, WorkloadReplicaSet or WorkloadDeployment here" +
        (skipped.empty() ? std::string() : " (only " + skipped.front() + (skipped.size() > 1 ? ", ..." : "") + ")"));
  }
  if (!problems.empty()) {
    std::string message = source + ":";
    for (const auto& p : problems) message += "\n  " + p;
    return make_error(message);
  }
  for (const auto& s : skipped) out.front().notes.push_back(s + ": not a wasmCloud workload, skipped");
  return out;
}

Result<std::vector<Manifest>> read_workload_file(std::string_view text, const std::string& source) {
  if (is_manifest(text)) return parse_manifests(text, source);
  auto w = parse_workload(text, source);
  if (!w) return w.error();
  std::vector<Manifest> out(1);
  out[0].workload = std::move(*w);
  return out;
}

}  // namespace stratus::workload
