// wasi:keyvalue/store, atomics and batch over a KeyValueStore. A bucket
// handle holds the bucket's name in the backend ("NS/identifier"). The
// calls are answered later (their bindings are generated deferred): the
// backend's work runs through the instance's BackendCalls.
#include <algorithm>

#include "plugins/hosts.h"
#include "wasi/p2/table.h"

namespace stratus::plugins {
namespace {

namespace store = ::wasi::keyvalue::store;
namespace atomics = ::wasi::keyvalue::atomics;
namespace batch = ::wasi::keyvalue::batch;
using wit::Unit;
using wit::WitResult;

constexpr size_t kMaxIdentifier = 256;

engine::Trap guest_error(const std::string& message) { return engine::Trap{engine::TrapKind::HostError, message}; }

template <class T>
using KvAnswer = WitResult<T, store::Error>;
template <class T>
using KvReply = wit::Reply<KvAnswer<T>>;

template <class T>
KvAnswer<T> answer_of(Result<T> r) {
  if (!r) return KvAnswer<T>::err(store::ErrorOther{r.error().message});
  return KvAnswer<T>::ok(std::move(*r));
}
KvAnswer<Unit> answer_of(const Result<void>& r) {
  if (!r) return KvAnswer<Unit>::err(store::ErrorOther{r.error().message});
  return KvAnswer<Unit>::ok(Unit{});
}

// The buckets one instance holds open, and the calls on them: a bucket is
// looked up on the store's thread, its backend work runs on the backend
// pool (backend_calls.h) with copies of what it needs.
class Buckets {
 public:
  Buckets(std::shared_ptr<KeyValueStore> kv, BackendCalls& calls) : kv_(std::move(kv)), calls_(calls) {}

  // Answers `reply` with op(store, bucket name), or traps for a bucket the
  // instance does not hold. `operation` names the call in its client span
  // (OpenTelemetry's database conventions: db.system.name,
  // db.operation.name, db.namespace the bucket).
  template <class T, class Op>
  void run(const char* operation, uint32_t rep, const KvReply<T>& reply, Op op) {
    auto bucket = table.get(rep);
    if (!bucket) return reply.trap(guest_error("wasi:keyvalue: unknown bucket"));
    auto span = client_span(operation, *bucket, [&](observe::Attributes& a) {
      a.emplace_back("db.system.name", std::string(kv_->system_name()));
      a.emplace_back("db.operation.name", std::string(operation));
      a.emplace_back("db.namespace", *bucket);
    });
    calls_.run<KvAnswer<T>>(
        "wasi:keyvalue", BackendPool::Lane::kIo, reply,
        [kv = kv_, name = *bucket, op = std::move(op)] { return op(*kv, name); }, std::move(span));
  }

  wasi::p2::ResourceTable<std::string> table;

 private:
  std::shared_ptr<KeyValueStore> kv_;
  BackendCalls& calls_;
};

class StoreHost final : public store::Host {
 public:
  StoreHost(Buckets& buckets, std::string ns) : buckets_(buckets), ns_(std::move(ns)) {}

  void drop_bucket(uint32_t rep) override { buckets_.table.remove(rep); }

  void open(const std::string& identifier, KvReply<store::Bucket> reply) override {
    if (identifier.empty() || identifier.size() > kMaxIdentifier)
      return reply(KvAnswer<store::Bucket>::err(store::ErrorNoSuchStore{}));
    uint32_t rep = buckets_.table.add(std::make_shared<std::string>(ns_ + "/" + identifier));
    reply(KvAnswer<store::Bucket>::ok(store::Bucket{rep}));
  }

  void bucket_get(const store::BucketBorrow& self, const std::string& key,
                  KvReply<std::optional<Bytes>> reply) override {
    buckets_.run("get", self.rep, reply,
                 [key](KeyValueStore& kv, const std::string& b) { return answer_of(kv.get(b, key)); });
  }

  void bucket_set(const store::BucketBorrow& self, const std::string& key, const Bytes& value,
                  KvReply<Unit> reply) override {
    buckets_.run("set", self.rep, reply,
                 [key, value](KeyValueStore& kv, const std::string& b) { return answer_of(kv.set(b, key, value)); });
  }

  void bucket_delete_(const store::BucketBorrow& self, const std::string& key, KvReply<Unit> reply) override {
    buckets_.run("delete", self.rep, reply,
                 [key](KeyValueStore& kv, const std::string& b) { return answer_of(kv.remove(b, key)); });
  }

  void bucket_exists(const store::BucketBorrow& self, const std::string& key, KvReply<bool> reply) override {
    buckets_.run("exists", self.rep, reply,
                 [key](KeyValueStore& kv, const std::string& b) { return answer_of(kv.exists(b, key)); });
  }

  void bucket_list_keys(const store::BucketBorrow& self, const std::optional<uint64_t>& cursor,
                        KvReply<store::KeyResponse> reply) override {
    buckets_.run("list-keys", self.rep, reply, [cursor](KeyValueStore& kv, const std::string& b) {
      auto r = kv.list_keys(b, cursor);
      if (!r) return KvAnswer<store::KeyResponse>::err(store::ErrorOther{r.error().message});
      return KvAnswer<store::KeyResponse>::ok(store::KeyResponse{std::move(r->keys), r->cursor});
    });
  }

 private:
  Buckets& buckets_;
  std::string ns_;
};

class AtomicsHost final : public atomics::Host {
 public:
  explicit AtomicsHost(Buckets& buckets) : buckets_(buckets) {}

  void increment(const store::BucketBorrow& b, const std::string& key, const uint64_t& delta,
                 KvReply<uint64_t> reply) override {
    buckets_.run("increment", b.rep, reply, [key, delta](KeyValueStore& kv, const std::string& bucket) {
      return answer_of(kv.increment(bucket, key, delta));
    });
  }

 private:
  Buckets& buckets_;
};

class BatchHost final : public batch::Host {
 public:
  explicit BatchHost(Buckets& buckets) : buckets_(buckets) {}

  using Entry = std::optional<std::tuple<std::string, Bytes>>;
  void get_many(const store::BucketBorrow& b, const std::vector<std::string>& keys,
                KvReply<std::vector<Entry>> reply) override {
    buckets_.run("get-many", b.rep, reply, [keys](KeyValueStore& kv, const std::string& bucket) {
      auto r = kv.get_many(bucket, keys);
      if (!r) return KvAnswer<std::vector<Entry>>::err(store::ErrorOther{r.error().message});
      std::vector<Entry> out;
      out.reserve(keys.size());
      for (size_t i = 0; i < keys.size(); ++i) {
        if ((*r)[i]) {
          out.emplace_back(std::make_tuple(keys[i], std::move(*(*r)[i])));
        } else {
          out.emplace_back(std::nullopt);
        }
      }
      return KvAnswer<std::vector<Entry>>::ok(std::move(out));
    });
  }

  void set_many(const store::BucketBorrow& b, const std::vector<std::tuple<std::string, Bytes>>& key_values,
                KvReply<Unit> reply) override {
    std::vector<std::pair<std::string, Bytes>> pairs;
    pairs.reserve(key_values.size());
    for (const auto& [k, v] : key_values) pairs.emplace_back(k, v);
    buckets_.run("set-many", b.rep, reply, [pairs = std::move(pairs)](KeyValueStore& kv, const std::string& bucket) {
      return answer_of(kv.set_many(bucket, pairs));
    });
  }

  void delete_many(const store::BucketBorrow& b, const std::vector<std::string>& keys, KvReply<Unit> reply) override {
    buckets_.run("delete-many", b.rep, reply, [keys](KeyValueStore& kv, const std::string& bucket) {
      return answer_of(kv.delete_many(bucket, keys));
    });
  }

 private:
  Buckets& buckets_;
};

bool wants(const std::vector<std::string>& interfaces, const std::string& name) {
  return interfaces.empty() || std::find(interfaces.begin(), interfaces.end(), name) != interfaces.end();
}

}  // namespace

Result<void> define_keyvalue(component::Linker& linker, const std::shared_ptr<KeyValueStore>& kv,
                             const std::vector<std::string>& interfaces, const ComponentScope& scope,
                             PluginState& state) {
  auto buckets = std::make_shared<Buckets>(kv, state.calls);
  state.objects.push_back(buckets);
  state.resets.emplace_back([b = buckets.get()] { b->table = {}; });
  // atomics and batch use store's bucket: store is defined whenever either is.
  auto store_host = std::make_shared<StoreHost>(*buckets, scope.workload_namespace);
  state.objects.push_back(store_host);
  STRATUS_TRY(store::define(linker, *store_host, state.resources));
  if (wants(interfaces, "atomics")) {
    auto host = std::make_shared<AtomicsHost>(*buckets);
    state.objects.push_back(host);
    STRATUS_TRY(atomics::define(linker, *host, state.resources));
  }
  if (wants(interfaces, "batch")) {
    auto host = std::make_shared<BatchHost>(*buckets);
    state.objects.push_back(host);
    STRATUS_TRY(batch::define(linker, *host, state.resources));
  }
  return {};
}

}  // namespace stratus::plugins
