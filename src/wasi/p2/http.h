// wasi:http's host objects: header fields, the request a server received,
// the response a guest builds, and their bodies. The server (serve/) gives
// each request a ResponseSink; the guest's response head and body go to it
// once the guest passes the response to response-outparam.set. Outbound
// requests (outgoing-handler) are http_client.h's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "wasi/p2/streams.h"

namespace stratus::wasi::p2 {

class ByteChannel;    // wasi/p2/byte_channel.h
struct ExchangeHold;  // wasi/p2/http_client.h

struct HttpFields {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> entries;
  bool immutable = false;
};

// Header checks both WASI versions make: hop-by-hop and framing headers
// are the server's to write (`lower` is the name in lower case); names are
// RFC 9110 tokens; values have no CR, LF or NUL.
bool forbidden_header(const std::string& lower);
bool valid_name(const std::string& name);
bool valid_value(const std::vector<uint8_t>& value);
std::string lower(std::string s);

// Where a response goes: the connection of the request being handled.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // The response head; called once, before any write.
  virtual std::optional<StreamFailure> start(uint16_t status, const HttpFields& headers) = 0;
  virtual std::optional<StreamFailure> write(std::span<const uint8_t> bytes) = 0;
  // The guest flushed the body stream: what it wrote must go out now.
  virtual std::optional<StreamFailure> flush() { return std::nullopt; }
  // The body is complete (outgoing-body.finish).
  virtual void finish() = 0;
  // Trailers to send after the body, given before finish(): sent when the
  // body is chunked (HTTP/1.1 has no place for them otherwise).
  virtual void set_trailers(const HttpFields& trailers) {}
  // The guest answered with an error-code instead of a response.
  virtual void fail(const std::string& why) = 0;
};

struct IncomingRequest {
  std::string method;  // as received: GET, POST, ...
  std::string path_with_query;
  std::string authority;
  std::string scheme = "http";
  std::shared_ptr<HttpFields> headers;
  std::shared_ptr<InputStream> body;  // the request body, read as the guest reads it
  // Once the body was read to its end: its trailers (null: none). Unset: none.
  std::function<std::shared_ptr<HttpFields>()> trailers;
  bool body_taken = false;
};

struct IncomingBody {
  std::shared_ptr<InputStream> stream;
  bool stream_taken = false;
  std::shared_ptr<ExchangeHold> exchange;  // the body of an outbound request's response
};

struct FutureTrailers {
  bool taken = false;                      // future-trailers.get answers once
  std::shared_ptr<ExchangeHold> exchange;  // a response's trailers; none: a served request's (none)
};

// The body of an outgoing response or request. A response's writes before
// it is sent (response-outparam.set) are kept and go out when it is; a
// request's go to `channel`, which the request's thread reads.
struct OutgoingBody {
  std::string pending;
  ResponseSink* sink = nullptr;  // set when the response is sent
  bool stream_taken = false;
  bool finished = false;
  bool failed = false;
  std::shared_ptr<ByteChannel> channel;    // a request body
  std::optional<uint64_t> content_length;  // a request body's, when its headers give one
};

struct OutgoingResponse {
  uint16_t status = 200;
  std::shared_ptr<HttpFields> headers;
  std::shared_ptr<OutgoingBody> body;  // made by outgoing-response.body
  bool body_taken = false;
};

struct ResponseOutparam {
  ResponseSink* sink = nullptr;
  bool set = false;
};

struct RequestOptions {
  std::optional<uint64_t> connect_timeout, first_byte_timeout, between_bytes_timeout;
};

struct OutgoingRequest {
  std::string method = "GET";
  std::optional<std::string> path_with_query, authority, scheme;
  std::shared_ptr<HttpFields> headers;
  std::shared_ptr<OutgoingBody> body;
  bool body_taken = false;
};

// The answer to an outbound request, once its head arrived. Dropped with
// its body not consumed, nobody reads that body: the request ends.
struct IncomingResponse {
  ~IncomingResponse();
  uint16_t status = 0;
  std::shared_ptr<HttpFields> headers;  // immutable
  std::shared_ptr<ByteChannel> body;
  std::shared_ptr<ExchangeHold> exchange;
  bool body_taken = false;
};

struct FutureIncomingResponse {
  std::shared_ptr<ExchangeHold> exchange;
  bool taken = false;  // get answers with the response once
};

// Outbound requests whose threads are still running (all instances of the
// process): a request the guest dropped ends soon after.
size_t outbound_http_requests_running();

}  // namespace stratus::wasi::p2
