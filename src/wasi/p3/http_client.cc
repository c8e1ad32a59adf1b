#include "wasi/p3/http_client.h"

#include <poll.h>

#include <span>
#include <string>
#include <variant>
#include <vector>

#include "wasi/p2/byte_channel.h"
#include "wasi/p3/byte_pumps.h"
#include "wasi/p3/http.h"

namespace stratus::wasi::p3 {
namespace {

namespace types = ::p3::wasi::http::types;
using component::CopyResult;
using component::HostElements;
using component::HostReadEnd;
using component::HostWriteEnd;
using component::Reactor;
using component::Val;
using wit::Unit;
using wit::WitResult;

using Sent = WitResult<types::Response, types::ErrorCode>;
using TrailersResult = WitResult<std::optional<types::Fields>, types::ErrorCode>;
using BodyStatus = WitResult<Unit, types::ErrorCode>;

constexpr uint32_t kChunk = 64 * 1024;
// What may wait between the guest and the connection, each way.
constexpr size_t kBodyWindow = 256 * 1024;

// WASI 0.2's error-code as 0.3's: the same cases, in the same order.
types::ErrorCode p3_error(const p2::HttpErrorCode& error) {
  using wit::from_val;
  using wit::to_val;
  wit::HostResourcesScope none(nullptr);
  types::ErrorCode out;
  from_val(to_val(error), out);  // each version's own, found by their namespaces
  return out;
}

Val status_val(const std::optional<types::ErrorCode>& error) {
  wit::HostResourcesScope none(nullptr);
  return wit::to_val(error ? BodyStatus::err(*error) : BodyStatus::ok(Unit{}));
}

// The guest's request body into the request's channel: a chunk at a time,
// each once the channel has room (the reactor waits for that), then the
// trailers the guest writes to its future, then the end. The request's
// own future (request.new's) hears how it went.
class RequestBodyPump : public std::enable_shared_from_this<RequestBodyPump> {
 public:
  RequestBodyPump(Reactor& reactor, WasiCtx& ctx, HostReadEnd data, HostReadEnd trailers,
                  std::shared_ptr<p2::ByteChannel> channel, std::shared_ptr<p2::HttpExchange> exchange,
                  std::optional<uint64_t> content_length, std::shared_ptr<HostWriteEnd> transmitted)
      : reactor_(reactor),
        ctx_(ctx),
        data_(std::move(data)),
        trailers_(std::move(trailers)),
        channel_(std::move(channel)),
        exchange_(std::move(exchange)),
        content_length_(content_length),
        transmitted_(std::move(transmitted)) {}

  void next() {
    auto room = channel_->room();
    if (std::holds_alternative<p2::StreamFailure>(room)) {
      // The request ended (failed, or the response came without waiting
      // for the rest): what the guest still writes goes nowhere.
      finish(types::ErrorCode{types::ErrorCodeConnectionTerminated{}});
      return;
    }
    auto self = shared_from_this();
    if (std::get<uint64_t>(room) == 0) {
      reactor_.watch(channel_->room_fd(), POLLIN, [self](short) { self->next(); });
      return;
    }
    auto ok = data_.read(kChunk, [self](CopyResult r, HostElements got) { self->took(r, std::move(got.bytes)); });
    if (!ok.ok()) finish(types::ErrorCode{types::ErrorCodeInternalError{"the request body: " + ok.error().message}});
  }

 private:
  void took(CopyResult r, std::vector<uint8_t> bytes) {
    if (!bytes.empty()) {
      if (content_length_ && channel_->total_pushed() + bytes.size() > *content_length_) {
        finish(types::ErrorCode{types::ErrorCodeHttpRequestBodySize{channel_->total_pushed() + bytes.size()}});
        return;
      }
      channel_->push(bytes);
    }
    if (r == CopyResult::Completed) {
      next();
      return;
    }
    // The guest dropped its end: the body is whole.
    if (content_length_ && channel_->total_pushed() != *content_length_) {
      finish(types::ErrorCode{types::ErrorCodeHttpRequestBodySize{channel_->total_pushed()}});
      return;
    }
    read_trailers();
  }

  void read_trailers() {
    if (!trailers_.valid()) {
      finish(std::nullopt);
      return;
    }
    auto self = shared_from_this();
    auto ok = trailers_.read(1, [self](CopyResult r, HostElements got) {
      if (r != CopyResult::Completed || got.values.empty()) {
        self->finish(std::nullopt);  // no trailers written: none
        return;
      }
      TrailersResult result = TrailersResult::ok(std::nullopt);
      wit::from_val(got.values.front(), result);
      if (!result.is_ok()) {
        self->finish(result.error());
        return;
      }
      if (const auto& fields = result.value()) {
        auto f = self->ctx_.fields.get(fields->rep);
        self->ctx_.fields.remove(fields->rep);
        if (f) self->exchange_->set_request_trailers(f);
      }
      self->finish(std::nullopt);
    });
    if (!ok.ok()) finish(std::nullopt);
  }

  void finish(std::optional<types::ErrorCode> error) {
    data_.drop();
    trailers_.drop();
    if (error) {
      channel_->close(p2::StreamFailure{false, 0, "the request body failed: " + describe(*error)});
    } else {
      channel_->close();
    }
    answer_future(transmitted_, status_val(error));
  }

  static std::string describe(const types::ErrorCode& error) {
    if (const auto* internal = std::get_if<types::ErrorCodeInternalError>(&error); internal && internal->value)
      return *internal->value;
    return "error-code case " + std::to_string(error.index());
  }

  Reactor& reactor_;
  WasiCtx& ctx_;
  HostReadEnd data_, trailers_;
  std::shared_ptr<p2::ByteChannel> channel_;
  std::shared_ptr<p2::HttpExchange> exchange_;
  std::optional<uint64_t> content_length_;
  std::shared_ptr<HostWriteEnd> transmitted_;
};

// A received body into the guest's stream: nothing until the guest reads
// (a zero-length write completes only then), then what the thread has
// received, waiting on the reactor for it when there is none yet. A guest
// that drops the stream stops the request.
class ResponseBodyPump : public std::enable_shared_from_this<ResponseBodyPump> {
 public:
  ResponseBodyPump(Reactor& reactor, HostWriteEnd data, ReceivedBody body)
      : reactor_(reactor), data_(std::move(data)), body_(std::move(body)) {}

  void wait_for_reader() {
    auto self = shared_from_this();
    auto ok = data_.write(HostElements::of_count(0), [self](CopyResult r, uint32_t) {
      if (r == CopyResult::Completed) {
        self->take();
      } else {
        self->stop();
      }
    });
    if (!ok.ok()) stop();
  }

 private:
  void take() {
    auto taken = body_.channel->take(kChunk);
    if (std::holds_alternative<p2::StreamFailure>(taken)) {
      // The end, or a failure: the trailers future says which.
      data_.drop();
      return;
    }
    auto bytes = std::get<std::vector<uint8_t>>(std::move(taken));
    if (bytes.empty()) {
      auto self = shared_from_this();
      reactor_.watch(body_.channel->data_fd(), POLLIN, [self](short) { self->take(); });
      return;
    }
    write_rest(std::make_shared<std::vector<uint8_t>>(std::move(bytes)), 0);
  }

  void write_rest(const std::shared_ptr<std::vector<uint8_t>>& bytes, size_t from) {
    auto self = shared_from_this();
    auto rest = std::span<const uint8_t>(*bytes).subspan(from);
    auto ok = data_.write(HostElements::of_bytes(rest), [self, bytes, from](CopyResult r, uint32_t n) {
      if (r != CopyResult::Completed) {
        self->stop();
      } else if (from + n < bytes->size()) {
        self->write_rest(bytes, from + n);
      } else {
        self->wait_for_reader();
      }
    });
    if (!ok.ok()) stop();
  }

  void stop() {
    body_.channel->drop_reader();
    data_.drop();
  }

  Reactor& reactor_;
  HostWriteEnd data_;
  ReceivedBody body_;
};

// The trailers future of a received body, answered once the thread has
// them (or the error-code that cut the body short).
void answer_trailers(Reactor& reactor, std::shared_ptr<HostWriteEnd> future, ReceivedBody body, WasiCtx& ctx,
                     wit::HostResources& resources) {
  auto& exchange = *body.hold->exchange;
  reactor.watch(exchange.trailers_fd(), POLLIN, [future, body, &ctx, &resources](short) {
    auto t = body.hold->exchange->trailers();
    TrailersResult result = TrailersResult::ok(std::nullopt);
    if (t) {
      if (const auto* error = std::get_if<p2::HttpErrorCode>(&*t)) {
        result = TrailersResult::err(p3_error(*error));
      } else if (const auto& fields = std::get<std::shared_ptr<p2::HttpFields>>(*t)) {
        result = TrailersResult::ok(types::Fields{ctx.fields.add(fields)});
      }
    }
    wit::HostResourcesScope scope(&resources);
    answer_future(future, wit::to_val(result));
  });
}

class ClientHost final : public ::p3::wasi::http::client::Host {
 public:
  ClientHost(WasiCtx& ctx, Reactor& reactor) : ctx_(ctx), reactor_(reactor) {}

  void send(const types::Request& request, wit::Reply<Sent> reply) override {
    auto r = ctx_.p3_requests.get(request.rep);
    ctx_.p3_requests.remove(request.rep);
    if (!r) {
      reply.trap(p2::guest_error("client.send: unknown request handle"));
      return;
    }
    auto& body = r->body;
    if (body.consumed) {
      reply.trap(p2::guest_error("client.send: the request's body was consumed already"));
      return;
    }
    body.consumed = true;
    auto data = body.contents ? HostReadEnd::take(*body.contents) : Result<HostReadEnd>(HostReadEnd());
    auto trailers = body.trailers ? HostReadEnd::take(*body.trailers) : Result<HostReadEnd>(HostReadEnd());
    if (!data.ok() || !trailers.ok()) {
      reply.trap(p2::guest_error("client.send: the request's body cannot be read"));
      return;
    }
    // A request that is not sent: its body is not read, its future hears why.
    auto refuse = [&](types::ErrorCode error) {
      data->drop();
      trailers->drop();
      answer_future(body.transmitted, status_val(error));
      reply(Sent::err(std::move(error)));
    };

    const p2::RequestOptions* options = r->options ? &*r->options : nullptr;
    auto out = p2::outbound_request(ctx_.config, p2::OutboundAsk{r->method, r->scheme, r->authority, r->path_with_query,
                                                                 r->headers.get(), data->valid(), options});
    if (auto* refused = std::get_if<p2::HttpErrorCode>(&out)) return refuse(p3_error(*refused));
    auto& outbound = std::get<p2::OutboundRequest>(out);
    std::shared_ptr<p2::ByteChannel> channel;
    if (data->valid()) {
      channel = p2::ByteChannel::create(kBodyWindow);
      if (!channel) return refuse(types::ErrorCodeInternalError{std::string("out of file descriptors")});
      outbound.body = channel;
    }
    auto content_length = outbound.content_length;
    auto started = p2::start_outbound(std::move(outbound));
    if (auto* failed = std::get_if<p2::HttpErrorCode>(&started)) return refuse(p3_error(*failed));
    auto exchange = std::get<std::shared_ptr<p2::HttpExchange>>(std::move(started));
    auto hold = std::make_shared<p2::ExchangeHold>(exchange);

    if (channel) {
      std::make_shared<RequestBodyPump>(reactor_, ctx_, std::move(*data), std::move(*trailers), channel, exchange,
                                        content_length, body.transmitted)
          ->next();
    } else {
      trailers->drop();
      answer_future(body.transmitted, status_val(std::nullopt));
    }

    auto* reactor = &reactor_;
    auto& ctx = ctx_;
    uint64_t watch = reactor->watch(exchange->head_fd(), POLLIN, [reply, hold, &ctx](short) {
      auto head = hold->exchange->head();
      if (!head) {
        reply(Sent::err(types::ErrorCodeInternalError{std::string("the request ended without a response")}));
        return;
      }
      if (const auto* error = std::get_if<p2::HttpErrorCode>(&*head)) {
        reply(Sent::err(p3_error(*error)));
        return;
      }
      auto& h = std::get<p2::HttpExchange::Head>(*head);
      auto response = std::make_shared<HttpResponse>();
      response->status = h.status;
      response->headers = h.headers;
      response->body.received = std::make_shared<ReceivedBody>(ReceivedBody{h.body, hold});
      reply(Sent::ok(types::Response{ctx.p3_responses.add(std::move(response))}));
    });
    // Cancelled while waiting for the head: the request stops.
    reply.on_cancel([reactor, watch, hold, reply] {
      if (!reactor->unwatch(watch)) return;
      hold->exchange->cancel();
      reply.cancelled();
    });
  }

 private:
  WasiCtx& ctx_;
  Reactor& reactor_;
};

}  // namespace

std::pair<Val, Val> consume_received(const ReceivedBody& body, Reactor& reactor, WasiCtx& ctx,
                                     wit::HostResources& resources) {
  auto [data, stream] = HostWriteEnd::make_stream();
  auto [trailers_end, trailers] = HostWriteEnd::make_future();
  std::make_shared<ResponseBodyPump>(reactor, std::move(data), body)->wait_for_reader();
  answer_trailers(reactor, std::make_shared<HostWriteEnd>(std::move(trailers_end)), body, ctx, resources);
  return {stream, trailers};
}

Result<void> define_client(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  auto& c = keep.keep(std::make_shared<ClientHost>(ctx, linker.reactor()));
  return define_versions(linker, ::p3::wasi::http::client::kInterface,
                         ::p3::wasi::http::client::make_host_instance(c, resources));
}

}  // namespace stratus::wasi::p3
