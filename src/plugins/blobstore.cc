// wasi:blobstore (types, container, blobstore) over an FsBlobStore. Bodies
// cross as wasi:io streams of the instance's WASI host: an incoming value's
// bytes as an input-stream, an outgoing value's as an output-stream that
// gathers them (up to FsBlobStore::kMaxObject) until write-data.
#include "plugins/blobstore_fs.h"
#include "plugins/hosts.h"
#include "wasi/p2/streams.h"
#include "wasi/p2/table.h"
#include "wasi_p2_bindings.h"

namespace stratus::plugins {
namespace {

namespace types = ::wasi::blobstore::types;
namespace container = ::wasi::blobstore::container;
namespace blobstore = ::wasi::blobstore::blobstore;
using wit::HostResult;
using wit::Unit;
using wit::WitResult;

engine::Trap guest_error(const std::string& message) { return engine::Trap{engine::TrapKind::HostError, message}; }

// An outgoing value's body: what the guest writes, gathered.
class GatheredBody final : public wasi::p2::OutputStream {
 public:
  std::variant<uint64_t, wasi::p2::StreamFailure> check_write() override {
    if (bytes.size() >= FsBlobStore::kMaxObject) return wasi::p2::StreamFailure{false, 0, "the value is too large"};
    return std::min<uint64_t>(FsBlobStore::kMaxObject - bytes.size(), 1 << 20);
  }
  std::optional<wasi::p2::StreamFailure> write(std::span<const uint8_t> b) override {
    if (bytes.size() + b.size() > FsBlobStore::kMaxObject)
      return wasi::p2::StreamFailure{false, 0, "the value is too large"};
    bytes.insert(bytes.end(), b.begin(), b.end());
    return std::nullopt;
  }
  wasi::p2::Pollable subscribe() override { return wasi::p2::Pollable{}; }
  std::vector<uint8_t> bytes;
};

struct OutgoingValue {
  std::shared_ptr<GatheredBody> body = std::make_shared<GatheredBody>();
  bool body_taken = false;
};

struct NameStream {
  std::vector<std::string> names;
  size_t at = 0;
};

// One instance's handles.
struct BlobHandles {
  wasi::p2::ResourceTable<std::string> containers;
  wasi::p2::ResourceTable<std::vector<uint8_t>> incoming;
  wasi::p2::ResourceTable<OutgoingValue> outgoing;
  wasi::p2::ResourceTable<NameStream> names;
};

template <class T>
HostResult<WitResult<T, std::string>> failed(const Error& e) {
  return WitResult<T, std::string>::err(e.message);
}
HostResult<WitResult<Unit, std::string>> done(const Result<void>& r) {
  if (!r) return WitResult<Unit, std::string>::err(r.error().message);
  return WitResult<Unit, std::string>::ok(Unit{});
}

class TypesHost final : public types::Host {
 public:
  TypesHost(BlobHandles& h, wasi::p2::WasiCtx& ctx) : h_(h), ctx_(ctx) {}
  void drop_outgoing_value(uint32_t rep) override { h_.outgoing.remove(rep); }
  void drop_incoming_value(uint32_t rep) override { h_.incoming.remove(rep); }

  HostResult<types::OutgoingValue> outgoing_value_new_outgoing_value() override {
    return types::OutgoingValue{h_.outgoing.add(std::make_shared<OutgoingValue>())};
  }
  HostResult<WitResult<::wasi::io::streams::OutputStream, Unit>> outgoing_value_outgoing_value_write_body(
      const types::OutgoingValueBorrow& self) override {
    auto v = h_.outgoing.get(self.rep);
    if (!v) return guest_error("wasi:blobstore: unknown outgoing-value");
    if (v->body_taken) return WitResult<::wasi::io::streams::OutputStream, Unit>::err(Unit{});
    v->body_taken = true;
    return WitResult<::wasi::io::streams::OutputStream, Unit>::ok(
        ::wasi::io::streams::OutputStream{ctx_.output_streams.add(v->body)});
  }
  HostResult<WitResult<Unit, std::string>> outgoing_value_finish(const types::OutgoingValue& self) override {
    if (!h_.outgoing.get(self.rep)) return guest_error("wasi:blobstore: unknown outgoing-value");
    h_.outgoing.remove(self.rep);
    return WitResult<Unit, std::string>::ok(Unit{});
  }
  HostResult<WitResult<std::vector<uint8_t>, std::string>> incoming_value_incoming_value_consume_sync(
      const types::IncomingValue& self) override {
    auto v = h_.incoming.get(self.rep);
    if (!v) return guest_error("wasi:blobstore: unknown incoming-value");
    h_.incoming.remove(self.rep);
    return WitResult<std::vector<uint8_t>, std::string>::ok(std::move(*v));
  }
  HostResult<WitResult<::wasi::io::streams::InputStream, std::string>> incoming_value_incoming_value_consume_async(
      const types::IncomingValue& self) override {
    auto v = h_.incoming.get(self.rep);
    if (!v) return guest_error("wasi:blobstore: unknown incoming-value");
    h_.incoming.remove(self.rep);
    uint32_t stream = ctx_.input_streams.add(wasi::p2::memory_input(std::move(*v)));
    return WitResult<::wasi::io::streams::InputStream, std::string>::ok(::wasi::io::streams::InputStream{stream});
  }
  HostResult<uint64_t> incoming_value_size(const types::IncomingValueBorrow& self) override {
    auto v = h_.incoming.get(self.rep);
    if (!v) return guest_error("wasi:blobstore: unknown incoming-value");
    return static_cast<uint64_t>(v->size());
  }

 private:
  BlobHandles& h_;
  wasi::p2::WasiCtx& ctx_;
};

class ContainerHost final : public container::Host {
 public:
  ContainerHost(BlobHandles& h, std::shared_ptr<FsBlobStore> store) : h_(h), store_(std::move(store)) {}
  void drop_container(uint32_t rep) override { h_.containers.remove(rep); }
  void drop_stream_object_names(uint32_t rep) override { h_.names.remove(rep); }

  HostResult<WitResult<std::string, std::string>> container_name(const container::ContainerBorrow& self) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    return WitResult<std::string, std::string>::ok(*c);
  }
  HostResult<WitResult<types::ContainerMetadata, std::string>> container_info(
      const container::ContainerBorrow& self) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    auto info = store_->container_info(*c);
    if (!info) return failed<types::ContainerMetadata>(info.error());
    return WitResult<types::ContainerMetadata, std::string>::ok(types::ContainerMetadata{*c, info->created_at});
  }
  HostResult<WitResult<types::IncomingValue, std::string>> container_get_data(const container::ContainerBorrow& self,
                                                                              const std::string& name,
                                                                              const uint64_t& start,
                                                                              const uint64_t& end) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    auto data = store_->read(*c, name, start, end);
    if (!data) return failed<types::IncomingValue>(data.error());
    uint32_t rep = h_.incoming.add(std::make_shared<std::vector<uint8_t>>(std::move(*data)));
    return WitResult<types::IncomingValue, std::string>::ok(types::IncomingValue{rep});
  }
  HostResult<WitResult<Unit, std::string>> container_write_data(const container::ContainerBorrow& self,
                                                                const std::string& name,
                                                                const types::OutgoingValueBorrow& data) override {
    auto c = h_.containers.get(self.rep);
    auto v = h_.outgoing.get(data.rep);
    if (!c || !v) return guest_error("wasi:blobstore: unknown container or outgoing-value");
    return done(store_->write(*c, name, v->body->bytes));
  }
  HostResult<WitResult<container::StreamObjectNames, std::string>> container_list_objects(
      const container::ContainerBorrow& self) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    auto names = store_->list(*c);
    if (!names) return failed<container::StreamObjectNames>(names.error());
    uint32_t rep = h_.names.add(std::make_shared<NameStream>(NameStream{std::move(*names), 0}));
    return WitResult<container::StreamObjectNames, std::string>::ok(container::StreamObjectNames{rep});
  }
  HostResult<WitResult<Unit, std::string>> container_delete_object(const container::ContainerBorrow& self,
                                                                   const std::string& name) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    return done(store_->remove(*c, name));
  }
  HostResult<WitResult<Unit, std::string>> container_delete_objects(const container::ContainerBorrow& self,
                                                                    const std::vector<std::string>& names) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    for (const auto& n : names) {
      auto r = store_->remove(*c, n);
      if (!r) return done(r);
    }
    return WitResult<Unit, std::string>::ok(Unit{});
  }
  HostResult<WitResult<bool, std::string>> container_has_object(const container::ContainerBorrow& self,
                                                                const std::string& name) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    auto has = store_->has(*c, name);
    if (!has) return failed<bool>(has.error());
    return WitResult<bool, std::string>::ok(*has);
  }
  HostResult<WitResult<types::ObjectMetadata, std::string>> container_object_info(
      const container::ContainerBorrow& self, const std::string& name) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    auto info = store_->info(*c, name);
    if (!info) return failed<types::ObjectMetadata>(info.error());
    return WitResult<types::ObjectMetadata, std::string>::ok(
        types::ObjectMetadata{name, *c, info->created_at, info->size});
  }
  HostResult<WitResult<Unit, std::string>> container_clear(const container::ContainerBorrow& self) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return guest_error("wasi:blobstore: unknown container");
    return done(store_->clear(*c));
  }

  using Page = std::tuple<std::vector<std::string>, bool>;
  HostResult<WitResult<Page, std::string>> stream_object_names_read_stream_object_names(
      const container::StreamObjectNamesBorrow& self, const uint64_t& len) override {
    auto s = h_.names.get(self.rep);
    if (!s) return guest_error("wasi:blobstore: unknown stream-object-names");
    std::vector<std::string> page;
    while (page.size() < len && s->at < s->names.size()) page.push_back(s->names[s->at++]);
    return WitResult<Page, std::string>::ok(Page{std::move(page), s->at >= s->names.size()});
  }
  HostResult<WitResult<std::tuple<uint64_t, bool>, std::string>> stream_object_names_skip_stream_object_names(
      const container::StreamObjectNamesBorrow& self, const uint64_t& num) override {
    auto s = h_.names.get(self.rep);
    if (!s) return guest_error("wasi:blobstore: unknown stream-object-names");
    uint64_t skipped = std::min<uint64_t>(num, s->names.size() - s->at);
    s->at += static_cast<size_t>(skipped);
    return WitResult<std::tuple<uint64_t, bool>, std::string>::ok(std::make_tuple(skipped, s->at >= s->names.size()));
  }

 private:
  BlobHandles& h_;
  std::shared_ptr<FsBlobStore> store_;
};

class BlobstoreHost final : public blobstore::Host {
 public:
  BlobstoreHost(BlobHandles& h, std::shared_ptr<FsBlobStore> store) : h_(h), store_(std::move(store)) {}

  HostResult<WitResult<container::Container, std::string>> create_container(const std::string& name) override {
    auto made = store_->create_container(name);
    if (!made) return failed<container::Container>(made.error());
    return handle(name);
  }
  HostResult<WitResult<container::Container, std::string>> get_container(const std::string& name) override {
    auto exists = store_->container_exists(name);
    if (!exists) return failed<container::Container>(exists.error());
    if (!*exists) return WitResult<container::Container, std::string>::err("no container `" + name + "`");
    return handle(name);
  }
  HostResult<WitResult<Unit, std::string>> delete_container(const std::string& name) override {
    return done(store_->delete_container(name));
  }
  HostResult<WitResult<bool, std::string>> container_exists(const std::string& name) override {
    auto exists = store_->container_exists(name);
    if (!exists) return failed<bool>(exists.error());
    return WitResult<bool, std::string>::ok(*exists);
  }
  HostResult<WitResult<Unit, std::string>> copy_object(const types::ObjectId& src,
                                                       const types::ObjectId& dest) override {
    return done(store_->copy(src.container, src.object, dest.container, dest.object));
  }
  HostResult<WitResult<Unit, std::string>> move_object(const types::ObjectId& src,
                                                       const types::ObjectId& dest) override {
    return done(store_->move(src.container, src.object, dest.container, dest.object));
  }

 private:
  HostResult<WitResult<container::Container, std::string>> handle(const std::string& name) {
    return WitResult<container::Container, std::string>::ok(
        container::Container{h_.containers.add(std::make_shared<std::string>(name))});
  }
  BlobHandles& h_;
  std::shared_ptr<FsBlobStore> store_;
};

}  // namespace

Result<void> define_blobstore(component::Linker& linker, wasi::p2::WasiHost& wasi,
                              const std::shared_ptr<FsBlobStore>& store, PluginState& state) {
  auto handles = std::make_shared<BlobHandles>();
  state.objects.push_back(handles);
  state.resets.emplace_back([h = handles.get()] { *h = BlobHandles{}; });
  return wasi.define_extra(
      linker, [&](component::Linker& l, wasi::p2::WasiCtx& ctx, wit::HostResources& resources) -> Result<void> {
        auto t = std::make_shared<TypesHost>(*handles, ctx);
        auto c = std::make_shared<ContainerHost>(*handles, store);
        auto b = std::make_shared<BlobstoreHost>(*handles, store);
        state.objects.insert(state.objects.end(), {t, c, b});
        STRATUS_TRY(types::define(l, *t, resources));
        STRATUS_TRY(container::define(l, *c, resources));
        return blobstore::define(l, *b, resources);
      });
}

}  // namespace stratus::plugins
