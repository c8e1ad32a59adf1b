// Host interfaces beyond WASI, chosen per workload by its host_interfaces:
//
//   wasi:keyvalue@0.2.0-draft  store, atomics, batch    config: backend = sqlite (default; path =
//                                                        FILE, else DATA_DIR/keyvalue.sqlite) | redis (url =
//                                                        redis://HOST:PORT[/DB]) | nats (url = nats://HOST:PORT,
//                                                        bucket = a JetStream KV bucket, default stratus: shared
//                                                        by every host that names it)
//   wasi:config@0.2.0-rc.1     store                     the component's local_resources.config
//   wasi:logging@0.1.0-draft   logging                   config: level = trace|debug|info (default)|warn|error|critical
//   wasi:blobstore@0.2.0-draft types, container,       a folder per container, a file per object
//                              blobstore                 (blobstore_fs.h) under config root = FOLDER (the
//                                                        runtime sets it from config volume = a workload
//                                                        volume), else DATA_DIR/blobstore/NS
//   wasmcloud:messaging@0.2.0  consumer, handler         config: backend = in-process (default: the host's
//                                                        broker) | nats (url = nats://HOST:PORT); subscriptions =
//                                                        "a.b, c.>": the subjects whose messages go to the
//                                                        workload's components exporting handler
//   wasi:otel@0.2.0-rc.2       types, tracing, logs,     a guest's own spans (under the request's trace:
//                              metrics                   outer-span-context is its server span), log
//                                                        records and metrics, to the OTLP exporters
//                                                        (HostOptions::otel); none: dropped
//   stratus:workload@0.1.0     instances                 the service only: instances of the workload's other
//                                                        components made and called at run time (InstanceMaker)
//
// A bucket a component opens is its workload's namespace's ("NS/identifier"
// in the backend), so workloads in different namespaces never see each
// other's data. The WIT is in wit/, one file per package, as wasmCloud v2 has it.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "component/runtime/runtime.h"
#include "observe/metrics.h"
#include "support/result.h"
#include "wasi/p2/wasi.h"

namespace stratus::observe {
class LogExporter;
class MetricExporter;
class TraceExporter;
}  // namespace stratus::observe

namespace stratus::plugins {

class BackendPool;
class FsBlobStore;
class KeyValueStore;
class MessageBroker;

// One entry of a workload's host_interfaces.
struct InterfaceRequest {
  std::string ns;                       // "wasi"
  std::string package;                  // "keyvalue"
  std::string version;                  // "0.2.0-draft"; empty: the host's
  std::vector<std::string> interfaces;  // empty: every interface of the package
  std::map<std::string, std::string> config;
  std::string where;  // the field path, for messages ("host_interfaces[0]")
};

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical };
const char* level_name(LogLevel level);
// OpenTelemetry's severity number of `level` (trace 1, debug 5, info 9,
// warn 13, error 17, critical 21: fatal).
int32_t otel_severity(LogLevel level);

struct LogRecord {
  LogLevel level;
  std::string_view workload, component, context, message;
};

struct HostOptions {
  // Where wasi:otel's spans, log records and metrics go: the process's
  // OTLP exporters (observe/otlp); a null one drops what would go there.
  struct OtelSinks {
    observe::TraceExporter* traces = nullptr;
    observe::LogExporter* logs = nullptr;
    observe::MetricExporter* metrics = nullptr;
  };
  OtelSinks otel;
  // Where embedded backends keep their files.
  std::filesystem::path data_dir = ".stratus/data";
  // Where wasi:logging's records go; by default stderr, one line each.
  std::function<void(const LogRecord&)> log;
  // The host's in-process broker, which workloads asking for messaging
  // without a backend share; made on first need when null.
  std::shared_ptr<MessageBroker> broker;
  // The bounded threads that do the backends' blocking work for async
  // callers (backend_calls.h), best one per host; made when null.
  std::shared_ptr<BackendPool> backend_pool;
};

// `call_durations` (a histogram family labelled by plugin), when set, gets
// the time of each call's backend work (a query, a file, a broker's reply).
std::shared_ptr<BackendPool> make_backend_pool(observe::Family<observe::Histogram>* call_durations = nullptr);

// An instance of a workload's member made through stratus:workload/instances.
class MadeInstance {
 public:
  virtual ~MadeInstance() = default;
  virtual const std::string& member() const = 0;
  // Calls the export `function` with `args` (WAVE text); the WAVE text of
  // its result, or an error saying what went wrong (a trap too).
  virtual Result<std::string> call(const std::string& function, const std::string& args) = 0;
};

// What makes them: the workload runtime, for its service.
class InstanceMaker {
 public:
  virtual ~InstanceMaker() = default;
  virtual Result<std::unique_ptr<MadeInstance>> create(const std::string& member) = 0;
};

// Who an instance is: what its records and buckets are tagged with, and
// what wasi:config/store answers it.
struct ComponentScope {
  std::string workload_namespace;
  std::string workload;  // "NS/NAME"
  std::string component;
  std::map<std::string, std::string> config;
  // For the workload's service only: what stratus:workload/instances makes
  // its instances with (defined when the workload asked for it).
  std::shared_ptr<InstanceMaker> instances = nullptr;
};

// The host objects behind one instance's handles (open buckets).
class InstanceState {
 public:
  virtual ~InstanceState() = default;
  // Drops every handle: the instance starts over for its next invocation.
  virtual void reset() = 0;
};

class HostPlugins {
 public:
  // Checks every request (a package, interface or version the host lacks is
  // an error naming it and its field) and opens the backends they name.
  static Result<std::unique_ptr<HostPlugins>> create(const std::vector<InterfaceRequest>& requests,
                                                     HostOptions options);
  ~HostPlugins();
  HostPlugins(const HostPlugins&) = delete;
  HostPlugins& operator=(const HostPlugins&) = delete;

  // Defines the requested interfaces in `linker` for one instance of the
  // component `scope` names. The linker must not outlive the state returned.
  // Calls that reach a backend (keyvalue, messaging, blobstore) from an
  // async task do their blocking work on the backend pool's threads: the
  // task waits, its store runs the others. A synchronous caller alone in
  // its store (a WASI 0.2 component) does it on its own thread, as before.
  // `wasi` is the instance's WASI host, defined in `linker` already.
  Result<std::unique_ptr<InstanceState>> define(component::Linker& linker, wasi::p2::WasiHost& wasi,
                                                const ComponentScope& scope) const;

  // Whether an import named `name` ("wasi:keyvalue/store@0.2.0-draft") is
  // one the workload asked for and define() defines.
  bool provides(const std::string& name) const;

  // The broker and the subjects of wasmcloud:messaging, when it was asked
  // for: the runtime delivers their messages to the handler components.
  const std::shared_ptr<MessageBroker>& broker() const { return broker_; }
  const std::vector<std::string>& subscriptions() const { return subscriptions_; }

  // Whether the workload asked for stratus:workload/instances.
  bool offers_instances() const { return instances_; }

  // What the host offers, as "wasi:keyvalue@0.2.0-draft" and so on.
  static std::vector<std::string> offered();
  // The same, each package with its interfaces (a host's heartbeat lists them).
  struct OfferedPackage {
    std::string ns, package, version;
    std::vector<std::string> interfaces;
  };
  static std::vector<OfferedPackage> offered_packages();

 private:
  HostPlugins() = default;
  HostOptions options_;
  std::shared_ptr<KeyValueStore> keyvalue_;  // null unless requested
  std::vector<std::string> keyvalue_interfaces_;
  std::shared_ptr<MessageBroker> broker_;   // null unless requested
  std::shared_ptr<FsBlobStore> blobstore_;  // null unless requested
  std::vector<std::string> subscriptions_;
  bool config_ = false;
  bool logging_ = false;
  bool instances_ = false;
  bool otel_ = false;
  LogLevel log_level_ = LogLevel::kInfo;
};

// The default log sink: "TIME LEVEL WORKLOAD/COMPONENT CONTEXT: MESSAGE" on
// stderr, control characters of the guest's text escaped so that a guest
// cannot forge a line.
void log_to_stderr(const LogRecord& record);

}  // namespace stratus::plugins
