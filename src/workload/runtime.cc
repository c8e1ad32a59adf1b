#include "workload/runtime.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <set>
#include <thread>

#include <sys/stat.h>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/stack_state.h"
#include "oci/reference.h"
#include "plugins/message_broker.h"
#include "plugins_bindings.h"
#include "support/file.h"
#include "support/hash.h"
#include "wasi/p2/wasi.h"
#include "workload/grants.h"
#include "workload/link_spans.h"
#include "workload/linked_instance.h"
#include "workload/links.h"
#include "workload/wave_call.h"

namespace stratus::workload {

namespace fs = std::filesystem;

const char* state_name(WorkloadState state) {
  switch (state) {
    case WorkloadState::kStarting: return "STARTING";
    case WorkloadState::kRunning: return "RUNNING";
    case WorkloadState::kCompleted: return "COMPLETED";
    case WorkloadState::kStopping: return "STOPPING";
    case WorkloadState::kError: return "ERROR";
  }
  return "?";
}

namespace {

constexpr const char* kIncomingHandler = "wasi:http/incoming-handler@0.2.";
constexpr const char* kHandlerP3 = "wasi:http/handler@0.3.";
// The WASI versions the host serves: any 0.2.x, and these of 0.3 (wasi/p3).
bool served_wasi_version(const std::string& v) {
  return v.empty() || v.rfind("0.2.", 0) == 0 || v == "0.3.0" || v == "0.3.0-rc-2026-03-15";
}
constexpr const char* kRun = "wasi:cli/run@0.2.";
constexpr const char* kMessageHandler = "wasmcloud:messaging/handler@0.2.";
constexpr const char* kInstances = "stratus:workload/instances@";
// The WASI 0.2 packages the host always provides (wasi/p2).
constexpr const char* kWasiPackages[] = {"io", "clocks", "random", "cli", "filesystem", "sockets", "http"};

bool is_wasi_package(const std::string& ns, const std::string& package) {
  if (ns != "wasi") return false;
  return std::any_of(std::begin(kWasiPackages), std::end(kWasiPackages), [&](const char* p) { return package == p; });
}

bool is_wasi_import(const std::string& name) {
  for (const char* p : kWasiPackages) {
    std::string prefix = std::string("wasi:") + p + "/";
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

// One component of the workload as it runs.
struct Member {
  std::string name;
  std::string where;  // its field path
  component::ComponentPtr component;
  LocalResources resources;
  wasi::p2::WasiConfig wasi;
  plugins::ComponentScope scope;
  std::optional<uint64_t> max_memory_bytes;
  const Component* spec = nullptr;  // null for the service
  uint64_t max_restarts = 0;
};

}  // namespace

class ServiceInstances;

class WorkloadHost::Running {
 public:
  std::string id;
  Workload spec;
  std::unique_ptr<plugins::HostPlugins> plugins;
  std::vector<Member> members;  // the components, then the service
  // The core modules of the members made at start, compiled while the
  // others were read (WorkloadHost::start), kept so that the engine hands
  // them to the workers and the service as they are.
  std::vector<std::shared_ptr<engine::Module>> compiled_ahead;
  std::vector<std::vector<Link>> links;
  std::vector<std::string> routes;       // names given to the router
  std::vector<std::string> route_texts;  // what each serves, for status
  std::vector<fs::path> empty_dirs;

  mutable std::mutex mu;
  std::condition_variable wake;
  WorkloadState state = WorkloadState::kStarting;
  std::string message;
  uint64_t restarts = 0;
  bool stopping = false;
  std::shared_ptr<component::ComponentInstance> service_instance;
  std::thread service_thread;
  // Message handlers: pools first, so that the subscriptions (which
  // deliver into them) go before them.
  std::vector<std::unique_ptr<class InvocationPool>> pools;
  std::vector<std::unique_ptr<plugins::Subscription>> subscriptions;
  // Itself, for the lazy providers' functions (which must not keep it).
  std::weak_ptr<Running> weak_self;
  // What stratus:workload/instances makes the service's instances with,
  // when the service imports it.
  std::shared_ptr<ServiceInstances> service_instances;
  // Instances made of each member (WorkloadStatus::instances_made).
  std::unique_ptr<std::atomic<uint64_t>[]> instantiations;

  void set_state(WorkloadState s, std::string why) {
    std::lock_guard lock(mu);
    state = s;
    message = std::move(why);
  }

  // The providers of component `i`, for the instance `linker` (component
  // i's) makes: `linker` is given what i imports from them, each made on
  // the first call of one of its functions (component::LazyExport), but
  // for the members of i's HTTP chain, made now.
  Result<std::unique_ptr<ProviderChain>> make_providers(engine::Engine& engine, size_t i, component::Linker& linker,
                                                        std::chrono::milliseconds timeout) const {
    auto made = std::make_unique<ProviderChain>(linker.store());
    std::set<std::string> defined;
    STRATUS_TRY(link_member(engine, i, linker, timeout, *made, defined));
    return made;
  }

  component::InstantiateOptions provider_options(size_t p, std::chrono::milliseconds timeout) const {
    component::InstantiateOptions options;
    options.limits.call_timeout = timeout;
    options.limits.max_memory_bytes = members[p].max_memory_bytes;
    options.allow_sync_cancel_in_waitable_set = true;  // runtime.h: older toolchains' components
    return options;
  }

  // Gives `linker` what member i imports from others (`defined`: the names
  // it has so far). A provider is made once per chain, in a linker of its
  // own, on first use; the next member of i's HTTP chain is made now in
  // `linker` itself, as the instances of one chain must share one WASI
  // host: the request and response handles they pass along are that
  // host's resources.
  Result<void> link_member(engine::Engine& engine, size_t i, component::Linker& linker,
                           std::chrono::milliseconds timeout, ProviderChain& made,
                           std::set<std::string>& defined) const {
    for (const auto& l : links[i]) {
      if (l.chain) continue;
      if (!defined.insert(l.import_name).second) continue;  // a member of the chain imports it too
      component::LazyExport lazy;
      lazy.component = members[l.provider].component;
      lazy.name = l.export_name;
      auto& types = made.resource_types[l.provider];
      if (!types) types = std::make_shared<component::LazyResourceTypes>();
      lazy.resource_types = types;
      lazy.observer = link_spans(id, members[i].name, members[l.provider].name);
      lazy.instantiate = [weak = weak_self, &engine, p = l.provider, timeout,
                          chain = &made]() -> Result<std::shared_ptr<component::ComponentInstance>> {
        auto r = weak.lock();
        if (!r) return make_error("the workload was stopped");
        return r->provider_instance(engine, p, timeout, *chain);
      };
      STRATUS_TRY(linker.define_lazy_export(l.import_name, std::move(lazy)));
    }
    for (const auto& l : links[i]) {
      if (!l.chain) continue;
      const Member& next = members[l.provider];
      STRATUS_TRY(link_member(engine, l.provider, linker, timeout, made, defined));
      auto li = std::make_unique<LinkedInstance>(engine, next.wasi, linker.store());
      li->in_requester = true;
      auto instance = linker.instantiate(next.component, provider_options(l.provider, timeout));
      if (!instance) return std::move(instance).error().context("instantiating " + next.name);
      li->instance = std::move(*instance);
      ++instantiations[l.provider];
      // The member after next took the definition before: it goes to next
      // now, for the member before it (instances keep what they were given).
      auto observer = link_spans(id, members[i].name, next.name);
      if (defined.insert(l.import_name).second) {
        STRATUS_TRY(linker.define_export(l.import_name, li->instance, l.export_name, std::move(observer)));
      } else {
        STRATUS_TRY(linker.redefine_export(l.import_name, li->instance, l.export_name, std::move(observer)));
      }
      made.list.push_back(std::move(li));
    }
    return {};
  }

  // Member p's instance in `chain`, made now if it is not there yet, in a
  // linker of its own (its own grants, plugins and memory limit); the
  // group made now goes to the front of the chain (ProviderChain).
  Result<std::shared_ptr<component::ComponentInstance>> provider_instance(engine::Engine& engine, size_t p,
                                                                          std::chrono::milliseconds timeout,
                                                                          ProviderChain& chain) const {
    if (auto it = chain.by_index.find(p); it != chain.by_index.end()) return it->second->instance;
    size_t before = chain.list.size();
    const Member& m = members[p];
    auto li = std::make_unique<LinkedInstance>(engine, m.wasi, chain.store);
    STRATUS_TRY(li->wasi.add_to_linker(li->linker));
    auto state = plugins->define(li->linker, li->wasi, m.scope);
    if (!state) return std::move(state).error().context(m.name);
    li->plugin_state = std::move(*state);
    std::set<std::string> defined;
    STRATUS_TRY(link_member(engine, p, li->linker, timeout, chain, defined));
    auto instance = li->linker.instantiate(m.component, provider_options(p, timeout));
    if (!instance) return std::move(instance).error().context("instantiating " + m.name);
    ++instantiations[p];
    li->instance = std::move(*instance);
    li->used = true;  // made for the call under way: fresh already
    chain.by_index[p] = li.get();
    chain.list.push_back(std::move(li));
    std::rotate(chain.list.begin(), chain.list.begin() + static_cast<std::ptrdiff_t>(before), chain.list.end());
    return chain.by_index[p]->instance;
  }

  // An instance of member `i` with its host interfaces, linked to new
  // instances of its providers; calls into it end after `timeout`, unless
  // it is `long_lived` (the service: its providers' calls still do).
  Result<MemberInstance> instantiate_member(engine::Engine& engine, size_t i, std::chrono::milliseconds timeout,
                                            bool long_lived = false) const {
    const Member& m = members[i];
    MemberInstance made;
    made.self = std::make_unique<LinkedInstance>(engine, m.wasi);
    LinkedInstance& self = *made.self;
    STRATUS_TRY(self.wasi.add_to_linker(self.linker));
    auto state = plugins->define(self.linker, self.wasi, m.scope);
    if (!state) return std::move(state).error().context(m.name);
    self.plugin_state = std::move(*state);
    auto providers = make_providers(engine, i, self.linker, timeout);
    if (!providers) return std::move(providers).error();
    made.providers = std::move(*providers);
    component::InstantiateOptions options;
    if (!long_lived) options.limits.call_timeout = timeout;
    options.limits.max_memory_bytes = m.max_memory_bytes;
    options.allow_sync_cancel_in_waitable_set = true;  // runtime.h: older toolchains' components
    auto instance = self.linker.instantiate(m.component, options);
    if (!instance) return std::move(instance).error().context("instantiating " + m.name);
    self.instance = std::move(*instance);
    ++instantiations[i];
    self.used = true;  // made for this use: fresh already
    for (auto& p : made.providers->list) p->used = true;
    return made;
  }
};

// stratus:workload/instances for the service: instances of the other
// members, each made as a pool's would be (its own grants, host
// interfaces, memory limit and call timeout), at most max_concurrency of a
// member (16 when unset) alive at once. Each call runs on a thread of its
// own, so the created instance's traps and deadline are not the service's.
class ServiceInstances final : public plugins::InstanceMaker {
 public:
  static constexpr size_t kDefaultCap = 16;

  ServiceInstances(std::weak_ptr<WorkloadHost::Running> run, engine::Engine& engine, std::chrono::milliseconds timeout)
      : run_(std::move(run)), engine_(engine), timeout_(timeout), live_(std::make_shared<Live>()) {}

  Result<std::unique_ptr<plugins::MadeInstance>> create(const std::string& name) override {
    auto r = run_.lock();
    if (!r) return make_error("the workload was stopped");
    auto it = std::find_if(r->members.begin(), r->members.end(),
                           [&](const Member& m) { return m.spec != nullptr && m.name == name; });
    if (it == r->members.end()) {
      if (name == "service") return make_error("the service cannot make an instance of itself");
      std::string names;
      for (const auto& m : r->members)
        if (m.spec != nullptr) names += (names.empty() ? "" : ", ") + m.name;
      return make_error("no component named `" + name + "` in " + r->id + " (it has " + names + ")");
    }
    size_t index = static_cast<size_t>(it - r->members.begin());
    size_t cap = kDefaultCap;
    std::string why = "the default";
    if (it->spec->max_concurrency && *it->spec->max_concurrency > 0) {
      cap = static_cast<size_t>(*it->spec->max_concurrency);
      why = "its max_concurrency";
    }
    {
      std::lock_guard lock(live_->mu);
      if (live_->stopped) return make_error("the workload is stopping");
      if (live_->count[index] >= cap)
        return make_error("already " + std::to_string(cap) + " instances of " + name + " alive, at most " +
                          std::to_string(cap) + " at once (" + why + "): drop one first");
      ++live_->count[index];
    }
    auto made = std::make_unique<Made>(name, index, live_, timeout_);
    std::optional<Result<MemberInstance>> member;
    on_own_thread([&] { member.emplace(r->instantiate_member(engine_, index, timeout_)); });
    if (!*member) return std::move(*member).error().context(name);
    made->instance = std::move(**member);
    {
      std::lock_guard lock(live_->mu);
      if (live_->stopped) return make_error("the workload is stopping");
      live_->running.insert(made->instance.self->instance.get());
    }
    return std::unique_ptr<plugins::MadeInstance>(std::move(made));
  }

  // The workload stops: calls under way in the instances made are
  // interrupted (they end as a trap at their next check), and no more are made.
  void stop() {
    std::lock_guard lock(live_->mu);
    live_->stopped = true;
    for (auto* instance : live_->running) instance->interrupt();
  }

 private:
  // Runs `work` on a thread of its own and waits for it. The locks the
  // service's call holds across its host calls (the interpreter's store
  // lock) are let go meanwhile, as a fiber switch lets them go: the work
  // needs the store too.
  static void on_own_thread(const std::function<void()>& work) {
    engine::HeldLocks held = engine::HeldLocks::release();
    std::thread(work).join();
    held.retake();
  }

  struct Live {
    std::mutex mu;
    std::map<size_t, size_t> count;  // member index -> instances alive
    std::set<component::ComponentInstance*> running;
    bool stopped = false;
  };

  class Made final : public plugins::MadeInstance {
   public:
    Made(std::string name, size_t index, std::shared_ptr<Live> live, std::chrono::milliseconds timeout)
        : name_(std::move(name)), index_(index), live_(std::move(live)), timeout_(timeout) {}
    ~Made() override {
      {
        std::lock_guard lock(live_->mu);
        if (instance.self) live_->running.erase(instance.self->instance.get());
        --live_->count[index_];
      }
      instance.self.reset();  // the instance, then what it links to
      instance.providers.reset();
    }
    Made(const Made&) = delete;
    Made& operator=(const Made&) = delete;

    const std::string& member() const override { return name_; }

    Result<std::string> call(const std::string& function, const std::string& args) override {
      if (!broken_.empty())
        return make_error("this instance of " + name_ + " trapped before (" + broken_ + "): make another");
      bool trapped = false;
      std::optional<Result<std::string>> result;
      on_own_thread([&] { result.emplace(call_with_wave(instance, function, args, timeout_, &trapped)); });
      if (trapped) broken_ = result->error().message;
      return std::move(*result);
    }

    MemberInstance instance;

   private:
    std::string name_;
    size_t index_;
    std::shared_ptr<Live> live_;
    std::chrono::milliseconds timeout_;
    std::string broken_;
  };

  std::weak_ptr<WorkloadHost::Running> run_;
  engine::Engine& engine_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<Live> live_;
};

// Instances of one component invoked per event (a message), made on need
// up to max_concurrency, each started over before its next use and made
// anew after max_invocations or a trap.
class InvocationPool {
 public:
  InvocationPool(const WorkloadHost::Running& run, size_t index, engine::Engine& engine,
                 std::chrono::milliseconds timeout)
      : run_(run), index_(index), engine_(engine), timeout_(timeout) {
    const Component* spec = run.members[index].spec;
    if (spec != nullptr && spec->max_concurrency && *spec->max_concurrency > 0)
      max_ = static_cast<size_t>(*spec->max_concurrency);
    if (spec != nullptr && spec->max_invocations && *spec->max_invocations > 0)
      max_invocations_ = static_cast<uint64_t>(*spec->max_invocations);
  }

  // Calls `function` with `args`; what went wrong, if anything (a trap, an
  // instance that could not be made, or the err of a result<_, string>).
  std::optional<std::string> invoke(const std::string& function, const std::vector<component::Val>& args) {
    auto slot = checkout();
    if (!slot) return std::move(slot).error().message;
    auto outcome = (*slot)->member.call(function, args, timeout_);
    std::optional<std::string> problem;
    bool keep = true;
    if (outcome.trapped()) {
      problem = "trap: " + outcome.trap().message;
      keep = false;
    } else if (outcome.failed()) {
      problem = outcome.error().message;
      keep = false;
    } else if (const auto& r = outcome.result();
               r && r->kind() == component::ValKind::Result && r->discriminant() == 1) {
      problem = r->payload() != nullptr && r->payload()->kind() == component::ValKind::String
                    ? r->payload()->as_string()
                    : std::string("the handler returned an error");
    }
    give_back(std::move(*slot), keep);
    return problem;
  }

 private:
  struct Slot {
    MemberInstance member;
    uint64_t invocations = 0;
  };

  Result<std::unique_ptr<Slot>> make() {
    auto member = run_.instantiate_member(engine_, index_, timeout_);
    if (!member) return std::move(member).error();
    auto slot = std::make_unique<Slot>();
    slot->member = std::move(*member);
    return slot;
  }

  // An instance ready for a call: an idle one started over, or a new one.
  Result<std::unique_ptr<Slot>> checkout() {
    std::unique_lock lock(mu_);
    for (;;) {
      while (!idle_.empty()) {
        auto slot = std::move(idle_.back());
        idle_.pop_back();
        lock.unlock();
        if (slot->member.prepare().ok()) return slot;
        slot.reset();
        lock.lock();
        --count_;
      }
      if (count_ < max_) break;
      freed_.wait(lock);
    }
    ++count_;
    lock.unlock();
    auto made = make();
    if (!made) {
      std::lock_guard relock(mu_);
      --count_;
      freed_.notify_one();
      return std::move(made).error();
    }
    return made;
  }

  void give_back(std::unique_ptr<Slot> slot, bool keep) {
    ++slot->invocations;
    if (max_invocations_ != 0 && slot->invocations >= max_invocations_) keep = false;
    if (!keep) slot.reset();
    std::lock_guard lock(mu_);
    if (keep) {
      idle_.push_back(std::move(slot));
    } else {
      --count_;
    }
    freed_.notify_one();
  }

  const WorkloadHost::Running& run_;
  size_t index_;
  engine::Engine& engine_;
  std::chrono::milliseconds timeout_;
  size_t max_ = 64;
  uint64_t max_invocations_ = 0;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Slot>> idle_;
  size_t count_ = 0;
};

namespace {

// What a routed component's worker holds beside its instance: its host
// plugins' state and the instances of the components it links to.
class LinkedExtension final : public serve::InstanceExtension {
 public:
  Result<void> prepare() override {
    if (plugin_state) plugin_state->reset();
    for (auto& p : providers->list) STRATUS_TRY(p->prepare());
    return {};
  }
  std::unique_ptr<plugins::InstanceState> plugin_state;  // before the providers: those of its chain use it
  std::unique_ptr<ProviderChain> providers;
};

// The exit code a run of wasi:cli/run ended with; a trap is its message.
std::variant<int, std::string> run_outcome(const component::CallOutcome& outcome) {
  if (outcome.failed()) return outcome.error().message;
  if (outcome.trapped()) {
    if (outcome.trap().kind == engine::TrapKind::Exit) return outcome.trap().exit_code;
    return "trap: " + outcome.trap().message;
  }
  const auto& r = outcome.result();
  return r && r->kind() == component::ValKind::Result && r->discriminant() == 1 ? 1 : 0;
}

}  // namespace

WorkloadHost::WorkloadHost(engine::Engine& engine, serve::HttpServer& router, HostSettings settings)
    : engine_(engine), router_(router), settings_(std::move(settings)) {
  if (!settings_.guest_stdout) settings_.guest_stdout = wasi::p2::fd_output(1);
  if (!settings_.guest_stderr) settings_.guest_stderr = wasi::p2::fd_output(2);
  if (!settings_.log)
    settings_.log = [](const std::string& line) { std::fprintf(stderr, "stratus up: %s\n", line.c_str()); };
  // One in-process broker per host: workloads on it reach each other.
  if (!settings_.plugins.broker) settings_.plugins.broker = plugins::make_in_process_broker();
  // And one pool of backend threads, whatever the number of workloads.
  if (!settings_.plugins.backend_pool) settings_.plugins.backend_pool = plugins::make_backend_pool();
}

WorkloadHost::~WorkloadHost() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, w] : workloads_) ids.push_back(id);
  }
  for (const auto& id : ids) (void)stop(id);
}

Result<std::string> WorkloadHost::start(const Workload& workload, const fs::path& base_dir) {
  auto problems = validate_workload(workload, base_dir.string());
  if (!problems.empty()) return make_error(joined(problems));
  auto run = std::make_shared<Running>();
  run->weak_self = run;
  run->spec = workload;
  run->id = (workload.ns.empty() ? std::string("default") : workload.ns) + "/" + workload.name;
  {
    std::lock_guard lock(mu_);
    if (workloads_.count(run->id) != 0) return make_error("workload " + run->id + " is already running");
  }

  // Volumes: a host folder, or an empty one made for this workload (gone
  // again if the start fails).
  struct EmptyDirs {
    std::vector<fs::path>& dirs;
    bool keep = false;
    ~EmptyDirs() {
      std::error_code ec;
      if (!keep)
        for (const auto& d : dirs) fs::remove_all(d, ec);
    }
  } empty_dirs{run->empty_dirs};
  std::map<std::string, fs::path> volumes;
  for (const auto& v : workload.volumes) {
    if (v.kind == Volume::Kind::HostPath) {
      volumes[v.name] = fs::absolute(base_dir / v.local_path);
    } else {
      fs::path dir = fs::absolute(settings_.plugins.data_dir) / "empty_dir" / run->id / v.name;
      std::error_code ec;
      fs::remove_all(dir, ec);
      fs::create_directories(dir, ec);
      if (ec) return make_error("volumes: cannot make the empty_dir " + dir.string() + ": " + ec.message());
      volumes[v.name] = dir;
      run->empty_dirs.push_back(dir);
    }
  }

  // Host interfaces: WASI is always there (wasi:http's config routes);
  // the rest are plugins.
  std::vector<plugins::InterfaceRequest> requests;
  std::string route_host, route_prefix;
  std::vector<std::string> route_aliases;   // more hosts for the routes (with a route_host only)
  std::optional<std::string> http_version;  // asked for by a wasi:http host interface
  for (size_t i = 0; i < workload.host_interfaces.size(); ++i) {
    const auto& h = workload.host_interfaces[i];
    std::string where = "wit_world.host_interfaces[" + std::to_string(i) + "]";
    if (is_wasi_package(h.ns, h.package)) {
      if (!served_wasi_version(h.version)) {
        problems.push_back(where + ": wasi:" + h.package + "@" + h.version +
                           " is not served by this host (it serves 0.2.x, 0.3.0 and 0.3.0-rc-2026-03-15)");
        continue;
      }
      if (h.package == "http") {
        http_version = h.version;
        for (const auto& [k, v] : h.config) {
          if (k == "host") {
            route_host = v;
          } else if (k == "path_prefix") {
            route_prefix = v;
          } else if (k == "host-aliases") {
            // wasmCloud's operator adds the names of a workload's
            // Kubernetes Service here: more Host headers for its routes.
            for (size_t at = 0; at <= v.size();) {
              auto comma = std::min(v.find(',', at), v.size());
              auto alias = v.substr(at, comma - at);
              alias.erase(0, alias.find_first_not_of(" \t"));
              alias.erase(alias.find_last_not_of(" \t") + 1);
              if (!alias.empty()) route_aliases.push_back(alias);
              at = comma + 1;
            }
          } else {
            problems.push_back(where + ".config." + k + ": wasi:http takes `host`, `host-aliases` and `path_prefix`");
          }
        }
      }
      continue;
    }
    plugins::InterfaceRequest request{h.ns, h.package, h.version, h.interfaces, h.config, where};
    if (h.ns == "wasi" && h.package == "blobstore") {
      // Its folder: a volume of the workload, else one of its namespace's.
      auto volume = request.config.find("volume");
      if (volume != request.config.end()) {
        auto dir = volumes.find(volume->second);
        if (dir == volumes.end()) {
          problems.push_back(where + ".config.volume: `" + volume->second + "` is not in volumes");
          continue;
        }
        request.config["root"] = dir->second.string();
        request.config.erase("volume");
      } else {
        request.config["root"] =
            (fs::absolute(settings_.plugins.data_dir) / "blobstore" / (workload.ns.empty() ? "default" : workload.ns))
                .string();
      }
    }
    requests.push_back(std::move(request));
  }
  auto plugins = plugins::HostPlugins::create(requests, settings_.plugins);
  if (!plugins) problems.push_back(plugins.error().message);
  if (!problems.empty()) return make_error(joined(problems));
  run->plugins = std::move(*plugins);

  // The components, then the service.
  LocalResources none;
  auto load = [&](const std::string& name, const std::string& where, const std::string& image,
                  const LocalResources& own, const std::optional<ImagePullSecret>& secret,
                  ImagePullPolicy policy) -> Result<Member> {
    Member m;
    m.name = name;
    m.where = where;
    fs::path file = fs::path(image).is_absolute() ? fs::path(image) : base_dir / image;
    if (oci::is_oci_reference(image)) {
      auto pulled = pull_image(image, secret, policy);
      if (!pulled) return std::move(pulled).error().context(where + ".image");
      file = std::move(*pulled);
    }
    auto component = decode_image(file);
    if (!component) return std::move(component).error().context(where + ".image");
    m.component = std::move(*component);
    m.resources = effective_resources(settings_.defaults, workload, own);
    if (m.resources.memory_limit_mb && *m.resources.memory_limit_mb > 0)
      m.max_memory_bytes = static_cast<uint64_t>(*m.resources.memory_limit_mb) << 20;
    m.scope = plugins::ComponentScope{workload.ns.empty() ? "default" : workload.ns, run->id, name, m.resources.config};
    auto wasi = guest_grants(name, m.resources, volumes);
    if (!wasi) return std::move(wasi).error().context(where);
    m.wasi = std::move(*wasi);
    m.wasi.stdout_stream = settings_.guest_stdout;
    m.wasi.stderr_stream = settings_.guest_stderr;
    m.wasi.on_refused = [log = settings_.log, who = run->id + " " + name](const std::string& what) {
      log(observe::Severity::kWarn, who + ": " + what);
    };
    return m;
  };
  // The members made at start (HTTP handlers, the service) are compiled on
  // threads of their own while the rest are read, when the engine hands a
  // module compiled earlier to whoever compiles the same bytes later: so a
  // workload's idle members add little to its start. A compile that fails
  // here fails again, with its context, where the member is made.
  using Compiled = Result<std::vector<std::shared_ptr<engine::Module>>>;
  std::vector<std::future<Compiled>> compiling;
  std::set<const component::Component*> compiled;
  auto made_at_start = [](const Member& m) {
    bool made = m.spec == nullptr;  // the service
    for (const auto& e : m.component->type->exports)
      made = made || e.name.rfind(kIncomingHandler, 0) == 0 || e.name.rfind(kHandlerP3, 0) == 0;
    return made;
  };
  auto compile_ahead = [&](const Member& m) {
    if (!engine_.remembers_modules() || !made_at_start(m) || !compiled.insert(m.component.get()).second) return;
    component::ComponentPtr c = m.component;
    compiling.push_back(
        std::async(std::launch::async, [&engine = engine_, c] { return component::compile_modules(engine, *c); }));
  };
  for (size_t i = 0; i < workload.components.size(); ++i) {
    const auto& c = workload.components[i];
    auto m = load(c.name, "wit_world.components[" + std::to_string(i) + "]", c.image, c.local_resources,
                  c.image_pull_secret, c.image_pull_policy);
    if (!m) {
      problems.push_back(m.error().message);
      continue;
    }
    m->spec = &run->spec.components[i];
    compile_ahead(*m);
    run->members.push_back(std::move(*m));
  }
  if (workload.service) {
    auto m = load("service", "service", workload.service->image, workload.service->local_resources,
                  workload.service->image_pull_secret, workload.service->image_pull_policy);
    if (m) {
      m->max_restarts = workload.service->max_restarts;
      compile_ahead(*m);
      run->members.push_back(std::move(*m));
    } else {
      problems.push_back(m.error().message);
    }
  }
  if (!problems.empty()) return make_error(joined(problems));
  // The tiered engine runs each member made at start on the interpreter at
  // once and compiles it for aot in the background from here, naming it in
  // its lines ("component NS/NAME MEMBER: now on aot ..."); the others are
  // compiled when first made, as on aot. Pools need nothing more: an
  // instance made on the interpreter refuses reset() once aot is ready, so
  // each is made anew on aot at its next use (runtime.h, reset).
  if (engine_.name() == "tiered") {
    for (auto& m : run->members) {
      if (!made_at_start(m)) continue;
      component::Linker linker(engine_);
      if (auto compiled = linker.precompile(m.component, run->id + " " + m.name); !compiled)
        problems.push_back(m.where + " (" + m.name + "): " + compiled.error().message);
    }
    if (!problems.empty()) return make_error(joined(problems));
  }
  // stratus:workload/instances: the service's alone, and only when the
  // workload asks for it.
  for (auto& m : run->members) {
    for (const auto& i : m.component->type->imports) {
      if (i.name.rfind(kInstances, 0) != 0) continue;
      if (m.spec != nullptr) {
        problems.push_back(m.where + " (" + m.name + "): imports " + i.name +
                           ", which only the workload's service may use");
      } else if (!run->plugins->offers_instances()) {
        problems.push_back("service: imports " + i.name +
                           " but wit_world.host_interfaces does not declare {namespace: stratus, package: "
                           "workload, interfaces: [instances]}");
      } else {
        run->service_instances = std::make_shared<ServiceInstances>(run, engine_, settings_.call_timeout);
        m.scope.instances = run->service_instances;
      }
    }
  }
  if (!problems.empty()) return make_error(joined(problems));
  run->instantiations = std::make_unique<std::atomic<uint64_t>[]>(run->members.size());

  // Links: what the host does not provide comes from another component.
  std::vector<LinkableComponent> linkable;
  for (const auto& m : run->members) {
    LinkableComponent l{m.name, m.where, {}, {}};
    for (const auto& i : m.component->type->imports) l.imports.push_back(i.name);
    if (m.spec != nullptr)  // the service is no provider
      for (const auto& e : m.component->type->exports) l.exports.push_back(e.name);
    linkable.push_back(std::move(l));
  }
  const plugins::HostPlugins& host_plugins = *run->plugins;
  auto links = plan_links(linkable,
                          [&](const std::string& name) { return is_wasi_import(name) || host_plugins.provides(name); });
  if (!links) return std::move(links).error();
  run->links = std::move(*links);
  for (auto& f : compiling) {
    auto modules = f.get();
    if (modules) run->compiled_ahead.insert(run->compiled_ahead.end(), modules->begin(), modules->end());
  }

  // Routes: each component exporting wasi:http/incoming-handler@0.2.x or
  // wasi:http/handler@0.3.x, of the version the wasi:http host interface
  // asks for, but for those inside an HTTP chain. Asked for and exported
  // by none: the workload does not start (it would answer every request
  // 404).
  std::vector<size_t> routed;
  std::vector<std::string> mismatched;
  bool want_p3 = http_version && http_version->rfind("0.3", 0) == 0;
  // Members inside an HTTP chain (links.h) are reached through its head.
  std::vector<bool> chained(run->members.size(), false);
  for (const auto& member_links : run->links)
    for (const auto& l : member_links)
      if (l.chain) chained[l.provider] = true;
  for (size_t i = 0; i < run->members.size(); ++i) {
    const auto& m = run->members[i];
    if (m.spec == nullptr || chained[i]) continue;
    for (const auto& e : m.component->type->exports) {
      bool p2 = e.name.rfind(kIncomingHandler, 0) == 0, p3 = e.name.rfind(kHandlerP3, 0) == 0;
      if (!p2 && !p3) continue;
      if (http_version && p3 != want_p3) {
        mismatched.push_back(m.name + " exports " + e.name);
        continue;
      }
      routed.push_back(i);
    }
  }
  if (http_version && routed.empty()) {
    std::string why = "wit_world.host_interfaces: wasi:http@" + *http_version +
                      " is asked for but no component exports " +
                      (want_p3 ? "wasi:http/handler@0.3.x" : "wasi:http/incoming-handler@0.2.x");
    if (!mismatched.empty()) why += " (" + joined(mismatched) + ")";
    return make_error(why);
  }
  // Several HTTP components in one workload: each under the prefix of its
  // own name ("/PREFIX/NAME").
  for (size_t i : routed) {
    const Member& m = run->members[i];
    serve::Route route;
    route.name = routed.size() == 1 ? run->id : run->id + "/" + m.name;
    route.workload_name = run->id;
    route.component_name = m.name;
    route.host = route_host;
    route.path_prefix = routed.size() == 1 ? route_prefix : route_prefix + "/" + m.name;
    route.component = m.component;
    route.wasi = m.wasi;
    route.max_memory_bytes = m.max_memory_bytes;
    if (m.spec->pool_size && *m.spec->pool_size > 0) route.warm_workers = static_cast<size_t>(*m.spec->pool_size);
    if (m.spec->max_concurrency && *m.spec->max_concurrency > 0)
      route.max_workers = static_cast<size_t>(*m.spec->max_concurrency);
    if (m.spec->max_invocations && *m.spec->max_invocations > 0)
      route.max_invocations = static_cast<uint64_t>(*m.spec->max_invocations);
    std::weak_ptr<Running> weak = run;
    engine::Engine& engine = engine_;
    auto timeout = settings_.call_timeout;
    route.extend = [weak, i, &engine, timeout](
                       component::Linker& linker,
                       wasi::p2::WasiHost& wasi) -> Result<std::unique_ptr<serve::InstanceExtension>> {
      auto r = weak.lock();
      if (!r) return make_error("the workload was stopped");
      auto ext = std::make_unique<LinkedExtension>();
      // Its host plugins first: the members of its HTTP chain, made in its
      // linker, use them too.
      auto state = r->plugins->define(linker, wasi, r->members[i].scope);
      if (!state) return std::move(state).error();
      ext->plugin_state = std::move(*state);
      auto providers = r->make_providers(engine, i, linker, timeout);
      if (!providers) return std::move(providers).error();
      ext->providers = std::move(*providers);
      ++r->instantiations[i];  // the router makes the instance itself
      return std::unique_ptr<serve::InstanceExtension>(std::move(ext));
    };
    // The same route under each host alias (a route with no host takes
    // every host already).
    std::vector<serve::Route> hosted;
    if (!route.host.empty()) {
      for (const auto& alias : route_aliases) {
        bool seen = alias == route.host ||
                    std::any_of(hosted.begin(), hosted.end(), [&](const serve::Route& r) { return r.host == alias; });
        if (seen) continue;
        serve::Route& copy = hosted.emplace_back(route);
        copy.host = alias;
        copy.name = route.name + " (" + alias + ")";
      }
    }
    hosted.insert(hosted.begin(), std::move(route));
    for (auto& r : hosted) {
      std::string text =
          (r.host.empty() ? std::string("*") : r.host) + (r.path_prefix.empty() ? std::string("/") : r.path_prefix);
      std::string name = r.name;
      auto added = router_.add_route(std::move(r));
      if (!added) {
        for (const auto& n : run->routes) router_.remove_route(n);
        return std::move(added).error().context(m.where + " (" + m.name + ")");
      }
      run->routes.push_back(name);
      run->route_texts.push_back(text);
    }
  }

  // Message handlers: the components exporting wasmcloud:messaging/handler
  // get the messages of the workload's subscriptions.
  if (const auto& broker = run->plugins->broker()) {
    for (size_t i = 0; i < run->members.size(); ++i) {
      const Member& m = run->members[i];
      if (m.spec == nullptr) continue;
      std::string handler;
      for (const auto& e : m.component->type->exports)
        if (e.name.rfind(kMessageHandler, 0) == 0) handler = e.name + "#handle-message";
      if (handler.empty()) continue;
      run->pools.push_back(std::make_unique<InvocationPool>(*run, i, engine_, settings_.call_timeout));
      InvocationPool* pool = run->pools.back().get();
      std::string who = run->id + "/" + m.name;
      for (const auto& subject : run->plugins->subscriptions()) {
        auto sub = broker->subscribe(
            subject, [pool, handler, who, log = settings_.log, traces = router_.traces(), workload = run->id,
                      component = m.name, system = broker->system_name()](plugins::Message message) {
              // The invocation continues the trace of the message (its
              // publisher's span), or starts one.
              auto span = message_span(traces, message, system, workload, component);
              ::wasmcloud::messaging::types::BrokerMessage msg{std::move(message.subject), std::move(message.body),
                                                               std::move(message.reply_to)};
              std::string subject = msg.subject;
              std::optional<std::string> problem;
              {
                observe::CurrentSpan current(span.scope());
                problem = pool->invoke(handler, {to_val(msg)});
              }
              if (problem) {
                span.fail(*problem, "_OTHER");
                log(observe::Severity::kError, who + ": handle-message on " + subject + ": " + *problem);
              }
            });
        if (!sub) {
          run->subscriptions.clear();
          for (const auto& n : run->routes) router_.remove_route(n);
          return std::move(sub).error().context(m.where + " (" + m.name + ")");
        }
        run->subscriptions.push_back(std::move(*sub));
      }
    }
  }

  // The service: run, and run again when it fails, up to max_restarts.
  if (workload.service) {
    size_t index = run->members.size() - 1;
    engine::Engine& engine = engine_;
    auto timeout = settings_.call_timeout;
    Running* r = run.get();
    run->service_thread = std::thread([r, index, &engine, timeout, log = settings_.log] {
      const Member& m = r->members[index];
      std::string run_export;
      for (const auto& e : m.component->type->exports)
        if (e.name.rfind(kRun, 0) == 0) run_export = e.name + "#run";
      uint64_t failures = 0;
      for (;;) {
        std::string failure;
        if (run_export.empty()) {
          failure = "the service does not export wasi:cli/run@0.2.x";
        } else {
          auto member = r->instantiate_member(engine, index, timeout, /*long_lived=*/true);
          if (!member) {
            failure = member.error().message;
          } else {
            const auto& instance = member->self->instance;
            {
              std::lock_guard lock(r->mu);
              if (r->stopping) return;
              r->service_instance = instance;
              r->state = WorkloadState::kRunning;
            }
            auto outcome = run_outcome(instance->call(run_export, {}));
            {
              std::lock_guard lock(r->mu);
              r->service_instance.reset();
              if (r->stopping) return;
            }
            if (auto* code = std::get_if<int>(&outcome); code != nullptr && *code == 0) {
              std::lock_guard lock(r->mu);
              if (r->routes.empty()) r->state = WorkloadState::kCompleted;
              r->message = "the service finished";
              return;
            }
            failure = std::holds_alternative<int>(outcome)
                          ? "the service exited with code " + std::to_string(std::get<int>(outcome))
                          : std::get<std::string>(outcome);
          }
        }
        log(observe::Severity::kError, r->id + ": " + failure);
        std::unique_lock lock(r->mu);
        if (failures >= m.max_restarts) {
          r->state = WorkloadState::kError;
          r->message = failure + " (restarted " + std::to_string(failures) + " times, max_restarts " +
                       std::to_string(m.max_restarts) + ")";
          return;
        }
        auto backoff = std::chrono::milliseconds(std::min<uint64_t>(5000, 100ull << std::min<uint64_t>(failures, 6)));
        ++failures;
        r->restarts = failures;
        if (r->wake.wait_for(lock, backoff, [r] { return r->stopping; })) return;
      }
    });
  }

  {
    std::lock_guard lock(run->mu);
    if (run->state == WorkloadState::kStarting) run->state = WorkloadState::kRunning;
  }
  empty_dirs.keep = true;
  std::lock_guard lock(mu_);
  workloads_[run->id] = run;
  return run->id;
}

namespace {

// What identifies a file's contents without reading them; empty when it
// cannot be stat'ed.
std::string file_identity(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return {};
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec);
}

}  // namespace

Result<fs::path> WorkloadHost::pull_image(const std::string& image, const std::optional<ImagePullSecret>& secret,
                                          ImagePullPolicy policy) {
  if (!settings_.images) return make_error("'" + image + "' is an OCI reference, and this host pulls no images");
  oci::PullRequest request;
  if (policy == ImagePullPolicy::Always) request.policy = oci::PullPolicy::Always;
  if (policy == ImagePullPolicy::Never) request.policy = oci::PullPolicy::Never;
  if (secret) request.credentials = oci::Credentials{secret->username, secret->password};
  return settings_.images->pull(image, request);
}

Result<component::ComponentPtr> WorkloadHost::decode_image(const fs::path& file) {
  auto known = [&](const std::string& key) -> component::ComponentPtr {
    std::lock_guard lock(decoded_mu_);
    auto it = decoded_.find(key);
    if (it == decoded_.end()) return nullptr;
    if (auto c = it->second.lock()) return c;
    decoded_.erase(it);
    return nullptr;
  };
  std::string identity = file_identity(file);
  if (!identity.empty())
    if (auto c = known("file " + identity)) return c;
  auto bytes = read_file(file);
  if (!bytes) return std::move(bytes).error();
  // Kept by identity only if the file did not change while it was read.
  bool stable = !identity.empty() && file_identity(file) == identity;
  std::string content = "sha256 " + sha256_hex(*bytes);
  auto component = known(content);
  if (!component) {
    // A member's code is validated when it is first instantiated (the
    // engine compiling it does), so members never called cost a read of
    // the sections that type them.
    auto decoded = component::decode_component(*bytes, {.validate_core_code = false});
    if (!decoded) return std::move(decoded).error().context(file.string());
    component = std::move(*decoded);
  }
  std::lock_guard lock(decoded_mu_);
  std::erase_if(decoded_, [](const auto& entry) { return entry.second.expired(); });
  decoded_[content] = component;
  if (stable) decoded_["file " + identity] = component;
  return component;
}

std::optional<WorkloadStatus> WorkloadHost::status(const std::string& id) const {
  std::shared_ptr<Running> run;
  {
    std::lock_guard lock(mu_);
    auto it = workloads_.find(id);
    if (it == workloads_.end()) return std::nullopt;
    run = it->second;
  }
  std::lock_guard lock(run->mu);
  WorkloadStatus s;
  s.id = run->id;
  s.state = run->state;
  s.message = run->message;
  s.service_restarts = run->restarts;
  s.routes = run->route_texts;
  for (size_t i = 0; i < run->members.size(); ++i) s.instances_made[run->members[i].name] = run->instantiations[i];
  return s;
}

std::vector<WorkloadStatus> WorkloadHost::list() const {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, w] : workloads_) ids.push_back(id);
  }
  std::vector<WorkloadStatus> out;
  for (const auto& id : ids)
    if (auto s = status(id)) out.push_back(std::move(*s));
  return out;
}

Result<component::CallOutcome> WorkloadHost::call(const std::string& id, const std::string& component,
                                                  const std::string& function, std::span<const component::Val> args) {
  std::shared_ptr<Running> run;
  {
    std::lock_guard lock(mu_);
    auto it = workloads_.find(id);
    if (it == workloads_.end()) return make_error("no workload " + id);
    run = it->second;
  }
  auto member = std::find_if(run->members.begin(), run->members.end(),
                             [&](const Member& m) { return m.spec != nullptr && m.name == component; });
  if (member == run->members.end()) return make_error(id + ": no component named `" + component + "`");
  auto made =
      run->instantiate_member(engine_, static_cast<size_t>(member - run->members.begin()), settings_.call_timeout);
  if (!made) return std::move(made).error().context(id + " " + component);
  return made->call(function, args, settings_.call_timeout);
}

Result<void> WorkloadHost::stop(const std::string& id) {
  std::shared_ptr<Running> run;
  {
    std::lock_guard lock(mu_);
    auto it = workloads_.find(id);
    if (it == workloads_.end()) return make_error("no workload " + id);
    run = it->second;
  }
  {
    std::lock_guard lock(run->mu);
    run->stopping = true;
    run->state = WorkloadState::kStopping;
    if (run->service_instance) run->service_instance->interrupt();
    if (run->service_instances) run->service_instances->stop();
    run->wake.notify_all();
  }
  for (const auto& name : run->routes) router_.remove_route(name);
  run->subscriptions.clear();  // waits for deliveries under way
  run->pools.clear();
  if (run->service_thread.joinable()) run->service_thread.join();
  for (const auto& dir : run->empty_dirs) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::lock_guard lock(mu_);
  workloads_.erase(id);
  return {};
}

}  // namespace stratus::workload
