#include "plugins/plugins.h"

#include <algorithm>
#include <charconv>

#include "plugins/blobstore_fs.h"
#include "plugins/hosts.h"
#include "plugins/message_broker.h"

namespace stratus::plugins {
namespace {

namespace fs = std::filesystem;

struct Offer {
  const char* ns;
  const char* package;
  const char* version;
  std::vector<std::string> interfaces;
};

const std::vector<Offer>& offers() {
  static const std::vector<Offer> all = {
      {"wasi", "keyvalue", "0.2.0-draft", {"store", "atomics", "batch"}},
      {"wasi", "config", "0.2.0-rc.1", {"store"}},
      {"wasi", "logging", "0.1.0-draft", {"logging"}},
      {"wasmcloud", "messaging", "0.2.0", {"consumer", "handler"}},
      {"wasi", "blobstore", "0.2.0-draft", {"types", "container", "blobstore"}},
      {"wasi", "otel", "0.2.0-rc.2", {"types", "tracing", "logs", "metrics"}},
      {"stratus", "workload", "0.1.0", {"instances"}},
  };
  return all;
}

// major, minor and patch of a version, its pre-release tag left out.
std::optional<std::array<uint64_t, 3>> parse_version(std::string_view v) {
  v = v.substr(0, v.find_first_of("-+"));
  std::array<uint64_t, 3> out{};
  for (size_t i = 0; i < 3; ++i) {
    auto dot = v.find('.');
    std::string_view part = v.substr(0, dot);
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out[i]);
    if (ec != std::errc() || end != part.data() + part.size() || part.empty()) return std::nullopt;
    if (i < 2 && dot == std::string_view::npos) return std::nullopt;
    v = dot == std::string_view::npos ? std::string_view() : v.substr(dot + 1);
  }
  return v.empty() ? std::optional(out) : std::nullopt;
}

// Semver's compatibility as Wasmtime applies it to WIT packages: the same
// major, and for 0.x the same minor.
bool compatible(std::string_view want, std::string_view have) {
  if (want.empty() || want == have) return true;
  auto a = parse_version(want), b = parse_version(have);
  if (!a || !b) return false;
  return (*a)[0] == (*b)[0] && ((*a)[0] != 0 || (*a)[1] == (*b)[1]);
}

std::optional<LogLevel> parse_level(std::string_view name) {
  for (auto l :
       {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kCritical})
    if (name == level_name(l)) return l;
  return std::nullopt;
}

std::string config_or(const InterfaceRequest& r, const std::string& key, const std::string& fallback) {
  auto it = r.config.find(key);
  return it == r.config.end() ? fallback : it->second;
}

}  // namespace

HostPlugins::~HostPlugins() = default;

std::shared_ptr<BackendPool> make_backend_pool(observe::Family<observe::Histogram>* call_durations) {
  return std::make_shared<BackendPool>(call_durations);
}

std::vector<std::string> HostPlugins::offered() {
  std::vector<std::string> out;
  for (const auto& o : offers()) out.push_back(std::string(o.ns) + ":" + o.package + "@" + o.version);
  return out;
}

std::vector<HostPlugins::OfferedPackage> HostPlugins::offered_packages() {
  std::vector<OfferedPackage> out;
  for (const auto& o : offers()) out.push_back({o.ns, o.package, o.version, o.interfaces});
  return out;
}

Result<std::unique_ptr<HostPlugins>> HostPlugins::create(const std::vector<InterfaceRequest>& requests,
                                                         HostOptions options) {
  std::unique_ptr<HostPlugins> plugins(new HostPlugins());
  plugins->options_ = std::move(options);
  if (!plugins->options_.backend_pool) plugins->options_.backend_pool = make_backend_pool();
  std::vector<std::string> problems;
  std::vector<std::string> seen;
  std::string offered_list;
  for (const auto& o : offered()) offered_list += (offered_list.empty() ? "" : ", ") + o;

  for (const auto& r : requests) {
    std::string id = r.ns + ":" + r.package;
    std::string where = r.where.empty() ? id : r.where;
    auto offer = std::find_if(offers().begin(), offers().end(),
                              [&](const Offer& o) { return r.ns == o.ns && r.package == o.package; });
    if (offer == offers().end()) {
      problems.push_back(where + ": the host has no " + id + " (it offers " + offered_list + ")");
      continue;
    }
    if (!compatible(r.version, offer->version)) {
      problems.push_back(where + ": the host has " + id + "@" + offer->version + ", which does not serve @" +
                         r.version);
      continue;
    }
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) {
      problems.push_back(where + ": " + id + " is asked for twice (one backend per package and workload)");
      continue;
    }
    seen.push_back(id);
    bool ok = true;
    for (const auto& i : r.interfaces) {
      if (std::find(offer->interfaces.begin(), offer->interfaces.end(), i) == offer->interfaces.end()) {
        problems.push_back(where + ": " + id + " has no interface `" + i + "`");
        ok = false;
      }
    }
    if (!ok) continue;

    if (r.package == "keyvalue") {
      std::string backend = config_or(r, "backend", "sqlite");
      Result<std::unique_ptr<KeyValueStore>> store = make_error("");
      if (backend == "sqlite") {
        auto path = config_or(r, "path", (plugins->options_.data_dir / "keyvalue.sqlite").string());
        store = open_sqlite_store(path);
      } else if (backend == "redis") {
        auto url = r.config.find("url");
        if (url == r.config.end()) {
          problems.push_back(where + ".config.url: the redis backend needs a url (redis://HOST:PORT)");
          continue;
        }
        store = open_redis_store(url->second);
      } else if (backend == "nats") {
        auto url = r.config.find("url");
        if (url == r.config.end()) {
          problems.push_back(where + ".config.url: the nats backend needs a url (nats://HOST:PORT)");
          continue;
        }
        store = open_nats_kv_store(url->second, config_or(r, "bucket", "stratus"));
      } else {
        problems.push_back(where + ".config.backend: `" + backend +
                           "` is not a keyvalue backend (sqlite, redis, nats)");
        continue;
      }
      if (!store) {
        problems.push_back(where + ": " + store.error().message);
        continue;
      }
      plugins->keyvalue_ = std::shared_ptr<KeyValueStore>(std::move(*store));
      plugins->keyvalue_interfaces_ = r.interfaces;
    } else if (r.package == "messaging") {
      std::string backend = config_or(r, "backend", "in-process");
      if (backend == "in-process") {
        if (!plugins->options_.broker) plugins->options_.broker = make_in_process_broker();
        plugins->broker_ = plugins->options_.broker;
      } else if (backend == "nats") {
        auto url = r.config.find("url");
        if (url == r.config.end()) {
          problems.push_back(where + ".config.url: the nats backend needs a url (nats://HOST:PORT)");
          continue;
        }
        auto broker = open_nats_broker(url->second);
        if (!broker) {
          problems.push_back(where + ": " + broker.error().message);
          continue;
        }
        plugins->broker_ = std::move(*broker);
      } else {
        problems.push_back(where + ".config.backend: `" + backend + "` is not a messaging backend (in-process, nats)");
        continue;
      }
      std::string list = config_or(r, "subscriptions", "");
      for (size_t at = 0; at <= list.size();) {
        size_t comma = list.find(',', at);
        std::string subject = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        subject.erase(0, subject.find_first_not_of(" \t"));
        subject.erase(subject.find_last_not_of(" \t") + 1);
        if (!subject.empty()) {
          if (valid_subject(subject, true)) {
            plugins->subscriptions_.push_back(subject);
          } else {
            problems.push_back(where + ".config.subscriptions: `" + subject + "` is not a subject");
          }
        }
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
    } else if (r.package == "blobstore") {
      auto root = r.config.find("root");
      fs::path dir = root != r.config.end() ? fs::path(root->second) : plugins->options_.data_dir / "blobstore";
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) {
        problems.push_back(where + ": cannot make the blobstore folder " + dir.string() + ": " + ec.message());
        continue;
      }
      plugins->blobstore_ = std::make_shared<FsBlobStore>(dir);
    } else if (r.package == "config") {
      plugins->config_ = true;
    } else if (r.package == "otel") {
      plugins->otel_ = true;
    } else if (r.package == "workload") {
      plugins->instances_ = true;
    } else if (r.package == "logging") {
      plugins->logging_ = true;
      auto level = parse_level(config_or(r, "level", "info"));
      if (!level) {
        problems.push_back(where + ".config.level: not one of trace, debug, info, warn, error, critical");
        continue;
      }
      plugins->log_level_ = *level;
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return make_error(message);
  }
  return plugins;
}

bool HostPlugins::provides(const std::string& name) const {
  // ns:package/interface@version
  auto colon = name.find(':'), slash = name.find('/'), at = name.find('@');
  if (colon == std::string::npos || slash == std::string::npos || slash < colon) return false;
  std::string ns = name.substr(0, colon), package = name.substr(colon + 1, slash - colon - 1);
  std::string iface = name.substr(slash + 1, at == std::string::npos ? std::string::npos : at - slash - 1);
  std::string version = at == std::string::npos ? std::string() : name.substr(at + 1);
  auto offer = std::find_if(offers().begin(), offers().end(),
                            [&](const Offer& o) { return ns == o.ns && package == o.package; });
  if (offer == offers().end() || version.empty() || !compatible(version, offer->version)) return false;
  auto listed = [](const std::vector<std::string>& list, const std::string& i) {
    return list.empty() || std::find(list.begin(), list.end(), i) != list.end();
  };
  if (package == "keyvalue") {
    // store comes with atomics and batch, which use its bucket.
    return keyvalue_ != nullptr && (iface == "store" || listed(keyvalue_interfaces_, iface));
  }
  if (package == "config") return config_ && iface == "store";
  if (package == "workload") return instances_ && iface == "instances";
  if (package == "logging") return logging_ && iface == "logging";
  // All four together: tracing's types are used by logs and metrics.
  if (package == "otel")
    return otel_ && (iface == "types" || iface == "tracing" || iface == "logs" || iface == "metrics");
  if (package == "blobstore")
    return blobstore_ != nullptr && (iface == "types" || iface == "container" || iface == "blobstore");
  // handler is an export: only types and consumer are imports.
  if (package == "messaging") return broker_ != nullptr && (iface == "consumer" || iface == "types");
  return false;
}

Result<std::unique_ptr<InstanceState>> HostPlugins::define(component::Linker& linker, wasi::p2::WasiHost& wasi,
                                                           const ComponentScope& scope) const {
  auto state = std::make_unique<PluginState>(options_.backend_pool);
  if (keyvalue_) STRATUS_TRY(define_keyvalue(linker, keyvalue_, keyvalue_interfaces_, scope, *state));
  if (config_) STRATUS_TRY(define_config(linker, scope, *state));
  if (logging_) STRATUS_TRY(define_logging(linker, log_level_, options_.log, scope, *state));
  if (broker_) STRATUS_TRY(define_messaging(linker, broker_, *state));
  if (blobstore_) STRATUS_TRY(define_blobstore(linker, wasi, blobstore_, *state));
  if (otel_) STRATUS_TRY(define_otel(linker, wasi, options_.otel, options_.log, scope, *state));
  // Only the service's scope has a maker: another member importing it
  // finds it undefined (the runtime refuses such a workload at start).
  if (instances_ && scope.instances) STRATUS_TRY(define_instances(linker, scope.instances, *state));
  return std::unique_ptr<InstanceState>(std::move(state));
}

}  // namespace stratus::plugins
