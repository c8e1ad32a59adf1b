// wasi:keyvalue/store, atomics and batch over a KeyValueStore. A bucket
// handle holds the bucket's name in the backend ("NS/identifier").
#include <algorithm>

#include "plugins/hosts.h"
#include "wasi/p2/table.h"

namespace stratus::plugins {
namespace {

namespace store = ::wasi::keyvalue::store;
namespace atomics = ::wasi::keyvalue::atomics;
namespace batch = ::wasi::keyvalue::batch;
using wit::HostResult;
using wit::Unit;
using wit::WitResult;

constexpr size_t kMaxIdentifier = 256;

engine::Trap guest_error(const std::string& message) { return engine::Trap{engine::TrapKind::HostError, message}; }

// The buckets one instance holds open.
struct Buckets {
  wasi::p2::ResourceTable<std::string> table;
};

template <class T>
using KvResult = HostResult<WitResult<T, store::Error>>;

template <class T>
KvResult<T> other(const Error& e) {
  return WitResult<T, store::Error>::err(store::ErrorOther{e.message});
}

class StoreHost final : public store::Host {
 public:
  StoreHost(std::shared_ptr<KeyValueStore> kv, Buckets& buckets, std::string ns)
      : kv_(std::move(kv)), buckets_(buckets), ns_(std::move(ns)) {}

  void drop_bucket(uint32_t rep) override { buckets_.table.remove(rep); }

  KvResult<store::Bucket> open(const std::string& identifier) override {
    if (identifier.empty() || identifier.size() > kMaxIdentifier)
      return WitResult<store::Bucket, store::Error>::err(store::ErrorNoSuchStore{});
    uint32_t rep = buckets_.table.add(std::make_shared<std::string>(ns_ + "/" + identifier));
    return WitResult<store::Bucket, store::Error>::ok(store::Bucket{rep});
  }

  KvResult<std::optional<Bytes>> bucket_get(const store::BucketBorrow& self, const std::string& key) override {
    auto bucket = buckets_.table.get(self.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    auto r = kv_->get(*bucket, key);
    if (!r) return other<std::optional<Bytes>>(r.error());
    return WitResult<std::optional<Bytes>, store::Error>::ok(std::move(*r));
  }

  KvResult<Unit> bucket_set(const store::BucketBorrow& self, const std::string& key, const Bytes& value) override {
    auto bucket = buckets_.table.get(self.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    auto r = kv_->set(*bucket, key, value);
    if (!r) return other<Unit>(r.error());
    return WitResult<Unit, store::Error>::ok(Unit{});
  }

  KvResult<Unit> bucket_delete_(const store::BucketBorrow& self, const std::string& key) override {
    auto bucket = buckets_.table.get(self.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    auto r = kv_->remove(*bucket, key);
    if (!r) return other<Unit>(r.error());
    return WitResult<Unit, store::Error>::ok(Unit{});
  }

  KvResult<bool> bucket_exists(const store::BucketBorrow& self, const std::string& key) override {
    auto bucket = buckets_.table.get(self.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    auto r = kv_->exists(*bucket, key);
    if (!r) return other<bool>(r.error());
    return WitResult<bool, store::Error>::ok(*r);
  }

  KvResult<store::KeyResponse> bucket_list_keys(const store::BucketBorrow& self,
                                                const std::optional<uint64_t>& cursor) override {
    auto bucket = buckets_.table.get(self.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    auto r = kv_->list_keys(*bucket, cursor);
    if (!r) return other<store::KeyResponse>(r.error());
    return WitResult<store::KeyResponse, store::Error>::ok(store::KeyResponse{std::move(r->keys), r->cursor});
  }

 private:
  std::shared_ptr<KeyValueStore> kv_;
  Buckets& buckets_;
  std::string ns_;
};

class AtomicsHost final : public atomics::Host {
 public:
  AtomicsHost(std::shared_ptr<KeyValueStore> kv, Buckets& buckets) : kv_(std::move(kv)), buckets_(buckets) {}

  KvResult<uint64_t> increment(const store::BucketBorrow& b, const std::string& key, const uint64_t& delta) override {
    auto bucket = buckets_.table.get(b.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    auto r = kv_->increment(*bucket, key, delta);
    if (!r) return other<uint64_t>(r.error());
    return WitResult<uint64_t, store::Error>::ok(*r);
  }

 private:
  std::shared_ptr<KeyValueStore> kv_;
  Buckets& buckets_;
};

class BatchHost final : public batch::Host {
 public:
  BatchHost(std::shared_ptr<KeyValueStore> kv, Buckets& buckets) : kv_(std::move(kv)), buckets_(buckets) {}

  using Entry = std::optional<std::tuple<std::string, Bytes>>;
  KvResult<std::vector<Entry>> get_many(const store::BucketBorrow& b, const std::vector<std::string>& keys) override {
    auto bucket = buckets_.table.get(b.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    auto r = kv_->get_many(*bucket, keys);
    if (!r) return other<std::vector<Entry>>(r.error());
    std::vector<Entry> out;
    out.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      if ((*r)[i]) {
        out.emplace_back(std::make_tuple(keys[i], std::move(*(*r)[i])));
      } else {
        out.emplace_back(std::nullopt);
      }
    }
    return WitResult<std::vector<Entry>, store::Error>::ok(std::move(out));
  }

  KvResult<Unit> set_many(const store::BucketBorrow& b,
                          const std::vector<std::tuple<std::string, Bytes>>& key_values) override {
    auto bucket = buckets_.table.get(b.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    std::vector<std::pair<std::string, Bytes>> pairs;
    pairs.reserve(key_values.size());
    for (const auto& [k, v] : key_values) pairs.emplace_back(k, v);
    auto r = kv_->set_many(*bucket, pairs);
    if (!r) return other<Unit>(r.error());
    return WitResult<Unit, store::Error>::ok(Unit{});
  }

  KvResult<Unit> delete_many(const store::BucketBorrow& b, const std::vector<std::string>& keys) override {
    auto bucket = buckets_.table.get(b.rep);
    if (!bucket) return guest_error("wasi:keyvalue: unknown bucket");
    auto r = kv_->delete_many(*bucket, keys);
    if (!r) return other<Unit>(r.error());
    return WitResult<Unit, store::Error>::ok(Unit{});
  }

 private:
  std::shared_ptr<KeyValueStore> kv_;
  Buckets& buckets_;
};

bool wants(const std::vector<std::string>& interfaces, const std::string& name) {
  return interfaces.empty() || std::find(interfaces.begin(), interfaces.end(), name) != interfaces.end();
}

}  // namespace

Result<void> define_keyvalue(component::Linker& linker, const std::shared_ptr<KeyValueStore>& kv,
                             const std::vector<std::string>& interfaces, const ComponentScope& scope,
                             PluginState& state) {
  auto buckets = std::make_shared<Buckets>();
  state.objects.push_back(buckets);
  state.resets.emplace_back([b = buckets.get()] { b->table = {}; });
  // atomics and batch use store's bucket: store is defined whenever either is.
  auto store_host = std::make_shared<StoreHost>(kv, *buckets, scope.workload_namespace);
  state.objects.push_back(store_host);
  STRATUS_TRY(store::define(linker, *store_host, state.resources));
  if (wants(interfaces, "atomics")) {
    auto host = std::make_shared<AtomicsHost>(kv, *buckets);
    state.objects.push_back(host);
    STRATUS_TRY(atomics::define(linker, *host, state.resources));
  }
  if (wants(interfaces, "batch")) {
    auto host = std::make_shared<BatchHost>(kv, *buckets);
    state.objects.push_back(host);
    STRATUS_TRY(batch::define(linker, *host, state.resources));
  }
  return {};
}

}  // namespace stratus::plugins
