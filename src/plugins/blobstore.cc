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

// A call's client span. OpenTelemetry has no conventions for blob stores:
// stratus.plugin, stratus.blobstore.operation and .container.
observe::Span blob_span(const char* operation, const std::string& container) {
  return client_span(operation, container, [&](observe::Attributes& a) {
    a.emplace_back("stratus.plugin", std::string("wasi:blobstore"));
    a.emplace_back("stratus.blobstore.operation", std::string(operation));
    a.emplace_back("stratus.blobstore.container", container);
  });
}

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
using BlobAnswer = WitResult<T, std::string>;
template <class T>
using BlobReply = wit::Reply<BlobAnswer<T>>;

template <class T>
BlobAnswer<T> failed(const Error& e) {
  return BlobAnswer<T>::err(e.message);
}
BlobAnswer<Unit> done(const Result<void>& r) {
  if (!r) return BlobAnswer<Unit>::err(r.error().message);
  return BlobAnswer<Unit>::ok(Unit{});
}
template <class T>
BlobAnswer<T> answer_of(Result<T> r) {
  if (!r) return failed<T>(r.error());
  return BlobAnswer<T>::ok(std::move(*r));
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

// The calls of container and blobstore, answered later (their bindings
// are generated deferred): a container is looked up on the store's thread,
// the folder's work runs through the instance's BackendCalls with copies of
// what it needs, and new handles are made back on the store's thread.
class ContainerHost final : public container::Host {
 public:
  ContainerHost(BlobHandles& h, std::shared_ptr<FsBlobStore> store, BackendCalls& calls)
      : h_(h), store_(std::move(store)), calls_(calls) {}
  void drop_container(uint32_t rep) override { h_.containers.remove(rep); }
  void drop_stream_object_names(uint32_t rep) override { h_.names.remove(rep); }

  void container_name(const container::ContainerBorrow& self, BlobReply<std::string> reply) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return reply.trap(unknown_container());
    reply(BlobAnswer<std::string>::ok(*c));
  }
  void container_info(const container::ContainerBorrow& self, BlobReply<types::ContainerMetadata> reply) override {
    in_container("container-info", self.rep, reply, [](FsBlobStore& store, const std::string& c) {
      auto info = store.container_info(c);
      if (!info) return failed<types::ContainerMetadata>(info.error());
      return BlobAnswer<types::ContainerMetadata>::ok(types::ContainerMetadata{c, info->created_at});
    });
  }
  void container_get_data(const container::ContainerBorrow& self, const std::string& name, const uint64_t& start,
                          const uint64_t& end, BlobReply<types::IncomingValue> reply) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return reply.trap(unknown_container());
    calls_.run<BlobAnswer<types::IncomingValue>, Result<std::vector<uint8_t>>>(
        "wasi:blobstore", BackendPool::Lane::kIo, reply,
        [store = store_, c = *c, name, start, end] { return store->read(c, name, start, end); },
        [this](Result<std::vector<uint8_t>> data) -> wit::HostResult<BlobAnswer<types::IncomingValue>> {
          if (!data) return failed<types::IncomingValue>(data.error());
          uint32_t rep = h_.incoming.add(std::make_shared<std::vector<uint8_t>>(std::move(*data)));
          return BlobAnswer<types::IncomingValue>::ok(types::IncomingValue{rep});
        },
        blob_span("get-data", *c));
  }
  void container_write_data(const container::ContainerBorrow& self, const std::string& name,
                            const types::OutgoingValueBorrow& data, BlobReply<Unit> reply) override {
    auto c = h_.containers.get(self.rep);
    auto v = h_.outgoing.get(data.rep);
    if (!c || !v) return reply.trap(guest_error("wasi:blobstore: unknown container or outgoing-value"));
    // A copy: the guest may write more to the value meanwhile, or write it
    // again under another name.
    calls_.run<BlobAnswer<Unit>>(
        "wasi:blobstore", BackendPool::Lane::kIo, reply,
        [store = store_, c = *c, name, bytes = v->body->bytes] { return done(store->write(c, name, bytes)); },
        blob_span("write-data", *c));
  }
  void container_list_objects(const container::ContainerBorrow& self,
                              BlobReply<container::StreamObjectNames> reply) override {
    auto c = h_.containers.get(self.rep);
    if (!c) return reply.trap(unknown_container());
    calls_.run<BlobAnswer<container::StreamObjectNames>, Result<std::vector<std::string>>>(
        "wasi:blobstore", BackendPool::Lane::kIo, reply, [store = store_, c = *c] { return store->list(c); },
        [this](Result<std::vector<std::string>> names) -> wit::HostResult<BlobAnswer<container::StreamObjectNames>> {
          if (!names) return failed<container::StreamObjectNames>(names.error());
          uint32_t rep = h_.names.add(std::make_shared<NameStream>(NameStream{std::move(*names), 0}));
          return BlobAnswer<container::StreamObjectNames>::ok(container::StreamObjectNames{rep});
        },
        blob_span("list-objects", *c));
  }
  void container_delete_object(const container::ContainerBorrow& self, const std::string& name,
                               BlobReply<Unit> reply) override {
    in_container("delete-object", self.rep, reply,
                 [name](FsBlobStore& store, const std::string& c) { return done(store.remove(c, name)); });
  }
  void container_delete_objects(const container::ContainerBorrow& self, const std::vector<std::string>& names,
                                BlobReply<Unit> reply) override {
    in_container("delete-objects", self.rep, reply, [names](FsBlobStore& store, const std::string& c) {
      for (const auto& n : names) {
        auto r = store.remove(c, n);
        if (!r) return done(r);
      }
      return BlobAnswer<Unit>::ok(Unit{});
    });
  }
  void container_has_object(const container::ContainerBorrow& self, const std::string& name,
                            BlobReply<bool> reply) override {
    in_container("has-object", self.rep, reply,
                 [name](FsBlobStore& store, const std::string& c) { return answer_of(store.has(c, name)); });
  }
  void container_object_info(const container::ContainerBorrow& self, const std::string& name,
                             BlobReply<types::ObjectMetadata> reply) override {
    in_container("object-info", self.rep, reply, [name](FsBlobStore& store, const std::string& c) {
      auto info = store.info(c, name);
      if (!info) return failed<types::ObjectMetadata>(info.error());
      return BlobAnswer<types::ObjectMetadata>::ok(types::ObjectMetadata{name, c, info->created_at, info->size});
    });
  }
  void container_clear(const container::ContainerBorrow& self, BlobReply<Unit> reply) override {
    in_container("clear", self.rep, reply,
                 [](FsBlobStore& store, const std::string& c) { return done(store.clear(c)); });
  }

  using Page = std::tuple<std::vector<std::string>, bool>;
  void stream_object_names_read_stream_object_names(const container::StreamObjectNamesBorrow& self, const uint64_t& len,
                                                    BlobReply<Page> reply) override {
    auto s = h_.names.get(self.rep);
    if (!s) return reply.trap(guest_error("wasi:blobstore: unknown stream-object-names"));
    std::vector<std::string> page;
    while (page.size() < len && s->at < s->names.size()) page.push_back(s->names[s->at++]);
    reply(BlobAnswer<Page>::ok(Page{std::move(page), s->at >= s->names.size()}));
  }
  void stream_object_names_skip_stream_object_names(const container::StreamObjectNamesBorrow& self, const uint64_t& num,
                                                    BlobReply<std::tuple<uint64_t, bool>> reply) override {
    auto s = h_.names.get(self.rep);
    if (!s) return reply.trap(guest_error("wasi:blobstore: unknown stream-object-names"));
    uint64_t skipped = std::min<uint64_t>(num, s->names.size() - s->at);
    s->at += static_cast<size_t>(skipped);
    reply(BlobAnswer<std::tuple<uint64_t, bool>>::ok(std::make_tuple(skipped, s->at >= s->names.size())));
  }

 private:
  static engine::Trap unknown_container() { return guest_error("wasi:blobstore: unknown container"); }

  // Answers `reply` with op(store, container name) from the backend pool.
  template <class T, class Op>
  void in_container(const char* operation, uint32_t rep, const BlobReply<T>& reply, Op op) {
    auto c = h_.containers.get(rep);
    if (!c) return reply.trap(unknown_container());
    calls_.run<BlobAnswer<T>>(
        "wasi:blobstore", BackendPool::Lane::kIo, reply,
        [store = store_, c = *c, op = std::move(op)] { return op(*store, c); }, blob_span(operation, *c));
  }

  BlobHandles& h_;
  std::shared_ptr<FsBlobStore> store_;
  BackendCalls& calls_;
};

class BlobstoreHost final : public blobstore::Host {
 public:
  BlobstoreHost(BlobHandles& h, std::shared_ptr<FsBlobStore> store, BackendCalls& calls)
      : h_(h), store_(std::move(store)), calls_(calls) {}

  void create_container(const std::string& name, BlobReply<container::Container> reply) override {
    with_handle(
        "create-container", reply, [name](FsBlobStore& store) -> Result<void> { return store.create_container(name); },
        name);
  }
  void get_container(const std::string& name, BlobReply<container::Container> reply) override {
    with_handle(
        "get-container", reply,
        [name](FsBlobStore& store) -> Result<void> {
          auto exists = store.container_exists(name);
          if (!exists) return std::move(exists).error();
          if (!*exists) return make_error("no container `" + name + "`");
          return {};
        },
        name);
  }
  void delete_container(const std::string& name, BlobReply<Unit> reply) override {
    run("delete-container", name, reply, [name](FsBlobStore& store) { return done(store.delete_container(name)); });
  }
  void container_exists(const std::string& name, BlobReply<bool> reply) override {
    run("container-exists", name, reply,
        [name](FsBlobStore& store) { return answer_of(store.container_exists(name)); });
  }
  void copy_object(const types::ObjectId& src, const types::ObjectId& dest, BlobReply<Unit> reply) override {
    run("copy-object", src.container, reply, [src, dest](FsBlobStore& store) {
      return done(store.copy(src.container, src.object, dest.container, dest.object));
    });
  }
  void move_object(const types::ObjectId& src, const types::ObjectId& dest, BlobReply<Unit> reply) override {
    run("move-object", src.container, reply, [src, dest](FsBlobStore& store) {
      return done(store.move(src.container, src.object, dest.container, dest.object));
    });
  }

 private:
  template <class T, class Op>
  void run(const char* operation, const std::string& container, const BlobReply<T>& reply, Op op) {
    calls_.run<BlobAnswer<T>>(
        "wasi:blobstore", BackendPool::Lane::kIo, reply, [store = store_, op = std::move(op)] { return op(*store); },
        blob_span(operation, container));
  }
  // Answers with a new handle of container `name` once op(store) succeeded.
  template <class Op>
  void with_handle(const char* operation, const BlobReply<container::Container>& reply, Op op,
                   const std::string& name) {
    calls_.run<BlobAnswer<container::Container>, Result<void>>(
        "wasi:blobstore", BackendPool::Lane::kIo, reply, [store = store_, op = std::move(op)] { return op(*store); },
        [this, name](Result<void> r) -> wit::HostResult<BlobAnswer<container::Container>> {
          if (!r) return failed<container::Container>(r.error());
          return BlobAnswer<container::Container>::ok(
              container::Container{h_.containers.add(std::make_shared<std::string>(name))});
        },
        blob_span(operation, name));
  }

  BlobHandles& h_;
  std::shared_ptr<FsBlobStore> store_;
  BackendCalls& calls_;
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
        auto c = std::make_shared<ContainerHost>(*handles, store, state.calls);
        auto b = std::make_shared<BlobstoreHost>(*handles, store, state.calls);
        state.objects.insert(state.objects.end(), {t, c, b});
        STRATUS_TRY(types::define(l, *t, resources));
        STRATUS_TRY(container::define(l, *c, resources));
        return blobstore::define(l, *b, resources);
      });
}

}  // namespace stratus::plugins
