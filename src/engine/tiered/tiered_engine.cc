#include "engine/tiered/tiered_engine.h"

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/aot/aot_engine.h"
#include "engine/interp/interp_engine.h"
#include "support/hash.h"

namespace stratus::engine {
namespace tiered {
namespace {

// The modules of one compile_many call (a component's core modules): one
// background aot compile, one shared object.
struct Batch {
  std::string label;
  uint64_t functions = 0;
  std::atomic<TierState> state{TierState::Compiling};
  std::vector<std::shared_ptr<Module>> interp;
  std::vector<std::shared_ptr<Module>> aot;  // set before state becomes Ready
};

class TieredModule final : public Module {
 public:
  TieredModule(std::shared_ptr<Batch> batch, size_t index) : batch_(std::move(batch)), index_(index) {}
  const std::vector<ImportDesc>& imports() const override { return interp().imports(); }
  const std::vector<ExportDesc>& exports() const override { return interp().exports(); }
  const std::string& hash() const override { return interp().hash(); }

  const Module& interp() const { return *batch_->interp[index_]; }
  const std::shared_ptr<Batch>& batch() const { return batch_; }
  size_t index() const { return index_; }

 private:
  std::shared_ptr<Batch> batch_;
  size_t index_;
};

// The number of functions a (validated) module defines: its function
// section's count.
uint64_t defined_functions(std::span<const uint8_t> bytes) {
  size_t p = 8;
  auto leb = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; p < bytes.size() && shift < 64; shift += 7) {
      uint8_t b = bytes[p++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  while (p < bytes.size()) {
    uint8_t id = bytes[p++];
    uint64_t size = 0;
    if (!leb(size) || size > bytes.size() - p) return 0;
    if (id == 3) {
      uint64_t n = 0;
      return leb(n) ? n : 0;
    }
    p += size;
  }
  return 0;
}

std::string first_line(const std::string& text) {
  auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

}  // namespace

class TieredEngine final : public Engine {
 public:
  TieredEngine(std::unique_ptr<Engine> interp, std::unique_ptr<Engine> aot, const EngineOptions& options)
      : interp_(std::move(interp)), aot_(std::move(aot)), log_(options.log) {
    if (!log_) log_ = [](const std::string& line) { std::fprintf(stderr, "stratus: %s\n", line.c_str()); };
  }
  ~TieredEngine() override {
    // A compile under way finishes (its shared object goes to the cache
    // for the next start); nothing is loaded from it any more.
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }
  TieredEngine(const TieredEngine&) = delete;
  TieredEngine& operator=(const TieredEngine&) = delete;

  std::string_view name() const override { return "tiered"; }

  Result<std::shared_ptr<Module>> compile(std::span<const uint8_t> bytes, const CompileOptions& options) override {
    std::span<const uint8_t> one[] = {bytes};
    return std::move(compile_many(one, options)[0]);
  }

  std::vector<Result<std::shared_ptr<Module>>> compile_many(std::span<const std::span<const uint8_t>> modules,
                                                            const CompileOptions& options) override;

  // Direct instantiation (core modules, not components) is on the interpreter.
  std::variant<std::shared_ptr<Instance>, Trap, Error> instantiate(const std::shared_ptr<Module>& module,
                                                                   std::span<const ImportValue> imports,
                                                                   const InstanceLimits& limits) override {
    auto m = on_tier(module, *interp_);
    if (!m) return std::move(m).error();
    return interp_->instantiate(*m, imports, limits);
  }

  Engine& tier_for(const Module& module) override {
    const auto* t = dynamic_cast<const TieredModule*>(&module);
    if (t != nullptr && t->batch()->state.load(std::memory_order_acquire) == TierState::Ready) return *aot_;
    return *interp_;
  }

  Result<std::shared_ptr<Module>> on_tier(const std::shared_ptr<Module>& module, const Engine& tier) override {
    const auto* t = dynamic_cast<const TieredModule*>(module.get());
    if (t == nullptr) {
      if (&tier == interp_.get() || &tier == this) return module;
      return make_error("tiered: the module has no aot code");
    }
    if (&tier == aot_.get()) {
      if (t->batch()->state.load(std::memory_order_acquire) != TierState::Ready)
        return make_error("tiered: the module's aot code is not ready");
      return t->batch()->aot[t->index()];
    }
    if (&tier == interp_.get() || &tier == this) return t->batch()->interp[t->index()];
    return make_error("tiered: not one of this engine's tiers");
  }

  std::shared_ptr<Func> host_func(FuncType type, HostCallback callback) override {
    return interp_->host_func(std::move(type), std::move(callback));
  }
  Result<std::shared_ptr<Memory>> host_memory(MemoryType type) override { return interp_->host_memory(type); }
  Result<std::shared_ptr<Table>> host_table(TableType type) override { return interp_->host_table(type); }
  Result<std::shared_ptr<Global>> host_global(GlobalType type, Value init) override {
    return interp_->host_global(type, std::move(init));
  }

  std::optional<TierState> state(const Module& module) const {
    const auto* t = dynamic_cast<const TieredModule*>(&module);
    if (t == nullptr) return std::nullopt;
    return t->batch()->state.load(std::memory_order_acquire);
  }

  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return idle_.wait_for(lock, timeout, [&] { return pending_ == 0; });
  }

  const Engine& aot() const { return *aot_; }

 private:
  void compile_aot(const std::shared_ptr<Batch>& batch, std::vector<std::vector<uint8_t>> bytes,
                   const CompileOptions& options);

  std::unique_ptr<Engine> interp_, aot_;
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::condition_variable idle_;
  size_t pending_ = 0;  // background compiles under way
  std::vector<std::thread> threads_;
  // Every batch compiled, by the hashes of its modules: each worker's
  // linker compiles a component anew, and must find the same batch.
  std::map<std::string, std::shared_ptr<Batch>> batches_;
  std::map<std::string, std::pair<std::shared_ptr<Batch>, size_t>> by_module_;  // module hash -> first batch with it
};

std::vector<Result<std::shared_ptr<Module>>> TieredEngine::compile_many(
    std::span<const std::span<const uint8_t>> modules, const CompileOptions& options) {
  const std::string marks =
      std::string(options.exceptions ? "+exceptions" : "") + (options.multi_memory ? "+multi-memory" : "");
  Sha256 key;
  std::vector<std::string> hashes;
  for (auto bytes : modules) {
    hashes.push_back(sha256_hex(bytes) + marks);
    key.update(hashes.back()).update("\n");
  }
  const std::string k = key.hex();

  std::vector<Result<std::shared_ptr<Module>>> out;
  std::lock_guard lock(mu_);  // one compile of a batch, however many linkers ask at once
  // Modules compiled before in other batches (a nested component's copy
  // of one, compiled on its own): their batch, so that they change tier
  // with the rest of their component.
  bool all_known = !modules.empty();
  for (const auto& h : hashes) all_known = all_known && by_module_.count(h) != 0;
  if (all_known && batches_.count(k) == 0) {
    for (const auto& h : hashes) {
      const auto& [batch, index] = by_module_.at(h);
      out.emplace_back(std::shared_ptr<Module>(std::make_shared<TieredModule>(batch, index)));
    }
    return out;
  }
  auto it = batches_.find(k);
  std::shared_ptr<Batch> batch;
  if (it != batches_.end()) {
    batch = it->second;
  } else {
    auto interp = interp_->compile_many(modules, options);
    bool all = true;
    for (const auto& r : interp) all = all && r.ok();
    if (!all) return interp;  // the errors; the others stay on the interpreter
    batch = std::make_shared<Batch>();
    batch->label = options.name.empty() ? "module" : options.name;
    for (size_t i = 0; i < modules.size(); ++i) {
      batch->interp.push_back(*interp[i]);
      batch->functions += defined_functions(modules[i]);
    }
    batches_[k] = batch;
    for (size_t i = 0; i < hashes.size(); ++i) by_module_.emplace(hashes[i], std::make_pair(batch, i));
    std::vector<std::vector<uint8_t>> copies;
    for (auto bytes : modules) copies.emplace_back(bytes.begin(), bytes.end());
    log_("component " + batch->label + ": serving on interp while aot compiles (" + std::to_string(batch->functions) +
         " functions)");
    ++pending_;
    threads_.emplace_back([this, batch, copies = std::move(copies), options]() mutable {
      compile_aot(batch, std::move(copies), options);
    });
  }
  for (size_t i = 0; i < modules.size(); ++i)
    out.emplace_back(std::shared_ptr<Module>(std::make_shared<TieredModule>(batch, i)));
  return out;
}

// On the batch's own thread, at a lower priority (Linux gives each thread
// its nice value; the C compiler's processes inherit it), so serving
// threads keep the cores they need.
void TieredEngine::compile_aot(const std::shared_ptr<Batch>& batch, std::vector<std::vector<uint8_t>> bytes,
                               const CompileOptions& options) {
  setpriority(PRIO_PROCESS, 0, 10);
  const auto began = std::chrono::steady_clock::now();
  std::vector<std::span<const uint8_t>> spans(bytes.begin(), bytes.end());
  auto compiled = aot_->compile_many(spans, options);
  std::optional<Error> failed;
  std::vector<std::shared_ptr<Module>> aot;
  for (auto& r : compiled) {
    if (!r.ok()) {
      if (!failed) failed = r.error();
      continue;
    }
    aot.push_back(*r);
  }
  const double seconds =
      std::chrono::duration_cast<std::chrono::duration<double>>(std::chrono::steady_clock::now() - began).count();
  if (failed) {
    batch->state.store(TierState::Failed, std::memory_order_release);
    log_("component " + batch->label + ": aot compile failed, staying on interp: " + first_line(failed->message));
  } else {
    batch->aot = std::move(aot);
    batch->state.store(TierState::Ready, std::memory_order_release);
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", seconds);
    log_("component " + batch->label + ": now on aot (compiled in " + secs + " s)");
  }
  std::lock_guard lock(mu_);
  --pending_;
  idle_.notify_all();
}

}  // namespace tiered

Result<std::unique_ptr<Engine>> make_tiered_engine(const EngineOptions& options) {
  auto interp = make_interp_engine(options);
  if (!interp) return std::move(interp).error();
  auto aot = make_aot_engine(options);
  if (!aot) return std::move(aot).error();
  return std::unique_ptr<Engine>(std::make_unique<tiered::TieredEngine>(std::move(*interp), std::move(*aot), options));
}

std::optional<TierState> tier_state(Engine& engine, const Module& module) {
  auto* t = dynamic_cast<tiered::TieredEngine*>(&engine);
  return t != nullptr ? t->state(module) : std::nullopt;
}

bool wait_for_tiers(Engine& engine, std::chrono::milliseconds timeout) {
  auto* t = dynamic_cast<tiered::TieredEngine*>(&engine);
  return t == nullptr || t->wait(timeout);
}

const Engine* aot_tier(const Engine& engine) {
  const auto* t = dynamic_cast<const tiered::TieredEngine*>(&engine);
  return t != nullptr ? &t->aot() : nullptr;
}

}  // namespace stratus::engine
