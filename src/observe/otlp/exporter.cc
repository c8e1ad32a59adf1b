#include "observe/otlp/exporter.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "trace.pb.h"

namespace stratus::observe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

uint64_t unix_now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

namespace {

// OTEL_RESOURCE_ATTRIBUTES values are percent-encoded (W3C Baggage's rules).
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return std::nullopt;
    out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

struct Url {
  std::string host, port, path;
};

Result<Url> parse_http_url(const std::string& what, const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0)
    return make_error(what + " '" + url + "': https is not supported (yet): use an http:// collector endpoint");
  if (url.rfind(scheme, 0) != 0) return make_error(what + " '" + url + "': expected http://HOST[:PORT][/PATH]");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return make_error(what + " '" + url + "': an IPv6 address without its ]");
    u.host = authority.substr(1, close - 1);
    colon = authority.find(':', close);
  } else {
    u.host = authority.substr(0, colon);
  }
  u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (u.host.empty()) return make_error(what + " '" + url + "': no host");
  if (u.port.empty() || u.port.size() > 5 || u.port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(u.port) > 65535)
    return make_error(what + " '" + url + "': the port must be a number from 0 to 65535");
  return u;
}

void set_value(stratus::otlp::AnyValue& out, const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v))
    out.set_string_value(*s);
  else if (const auto* i = std::get_if<int64_t>(&v))
    out.set_int_value(*i);
  else if (const auto* b = std::get_if<bool>(&v))
    out.set_bool_value(*b);
  else
    out.set_double_value(std::get<double>(v));
}

void add_attributes(google::protobuf::RepeatedPtrField<stratus::otlp::KeyValue>& out, const Attributes& attributes) {
  for (const auto& [key, value] : attributes) {
    auto* kv = out.Add();
    kv->set_key(key);
    set_value(*kv->mutable_value(), value);
  }
}

void log_to_stderr(const std::string& message) {
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s stratus: otlp: %s\n", when, message.c_str());
}

}  // namespace

Result<std::optional<OtlpConfig>> otlp_config(const std::string& flag,
                                              const std::function<const char*(const char*)>& env_fn) {
  auto env = [&](const char* name) -> std::string {
    const char* v = env_fn ? env_fn(name) : std::getenv(name);
    return v != nullptr ? trim(v) : std::string();
  };
  OtlpConfig config;
  if (!flag.empty()) {
    config.traces_url = flag;
    if (config.traces_url.back() != '/') config.traces_url += '/';
    config.traces_url += "v1/traces";
    STRATUS_TRY(parse_http_url("--otlp-endpoint", config.traces_url));
  } else {
    std::string exporter = env("OTEL_TRACES_EXPORTER");
    if (exporter == "none") return std::optional<OtlpConfig>();
    if (!exporter.empty() && exporter != "otlp")
      return make_error("OTEL_TRACES_EXPORTER '" + exporter + "': stratus exports traces with otlp (or none)");
    if (std::string t = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); !t.empty()) {
      config.traces_url = t;
      STRATUS_TRY(parse_http_url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", config.traces_url));
    } else if (std::string base = env("OTEL_EXPORTER_OTLP_ENDPOINT"); !base.empty()) {
      config.traces_url = base;
      if (config.traces_url.back() != '/') config.traces_url += '/';
      config.traces_url += "v1/traces";
      STRATUS_TRY(parse_http_url("OTEL_EXPORTER_OTLP_ENDPOINT", config.traces_url));
    } else {
      return std::optional<OtlpConfig>();
    }
  }
  for (const char* name : {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"}) {
    std::string protocol = env(name);
    if (!protocol.empty() && protocol != "http/protobuf")
      return make_error(std::string(name) + " '" + protocol + "': stratus sends http/protobuf only");
  }
  std::string service = "stratus";
  std::string attributes = env("OTEL_RESOURCE_ATTRIBUTES");
  size_t at = 0;
  while (at < attributes.size()) {
    size_t comma = attributes.find(',', at);
    std::string pair = attributes.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? attributes.size() : comma + 1;
    if (trim(pair).empty()) continue;
    auto eq = pair.find('=');
    auto key = trim(pair.substr(0, eq));
    auto value = eq == std::string::npos ? std::nullopt : percent_decode(trim(pair.substr(eq + 1)));
    if (key.empty() || !value)
      return make_error("OTEL_RESOURCE_ATTRIBUTES: '" + pair + "' is not KEY=VALUE (values percent-encoded)");
    if (key == "service.name")
      service = *value;
    else
      config.resource.emplace_back(key, *value);
  }
  if (std::string name = env("OTEL_SERVICE_NAME"); !name.empty()) service = name;
  config.resource.insert(config.resource.begin(), {"service.name", service});
  config.resource.emplace_back("telemetry.sdk.name", std::string("stratus"));
  config.resource.emplace_back("telemetry.sdk.language", std::string("cpp"));
  return std::optional<OtlpConfig>(std::move(config));
}

Result<std::unique_ptr<TraceExporter>> TraceExporter::start(OtlpConfig config) {
  auto url = parse_http_url("the OTLP traces endpoint", config.traces_url);
  if (!url) return url.error();
  std::unique_ptr<TraceExporter> e(new TraceExporter(std::move(config)));
  e->host_ = url->host;
  e->port_ = url->port;
  e->path_ = url->path;
  e->thread_ = std::thread([p = e.get()] { p->run(); });
  return e;
}

TraceExporter::~TraceExporter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TraceExporter::submit(SpanData span) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= config_.max_queue) {
      dropped_++;
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() < config_.max_batch) return;
  }
  wake_.notify_one();
}

void TraceExporter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, config_.interval, [this] { return stopping_ || queue_.size() >= config_.max_batch; });
    bool last = stopping_;
    while (!queue_.empty()) {
      std::vector<SpanData> batch;
      while (!queue_.empty() && batch.size() < config_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      if (send(batch, last))
        exported_ += batch.size();
      else
        dropped_ += batch.size();
      lock.lock();
      if (!last && queue_.size() < config_.max_batch) break;  // the rest waits for the next interval
    }
    if (last) return;
  }
}

std::string TraceExporter::encode(const std::vector<SpanData>& batch) const {
  stratus::otlp::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  add_attributes(*rs->mutable_resource()->mutable_attributes(), config_.resource);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("stratus");
  for (const auto& s : batch) {
    auto* span = ss->add_spans();
    span->set_trace_id(s.trace_id.data(), s.trace_id.size());
    span->set_span_id(s.span_id.data(), s.span_id.size());
    if (s.parent) span->set_parent_span_id(s.parent->data(), s.parent->size());
    if (!s.trace_state.empty()) span->set_trace_state(s.trace_state);
    span->set_flags(s.flags);
    span->set_name(s.name);
    span->set_kind(static_cast<stratus::otlp::Span::SpanKind>(s.kind));
    span->set_start_time_unix_nano(s.start_unix_ns);
    span->set_end_time_unix_nano(s.end_unix_ns);
    add_attributes(*span->mutable_attributes(), s.attributes);
    if (s.error) {
      span->mutable_status()->set_code(stratus::otlp::Status::STATUS_CODE_ERROR);
      span->mutable_status()->set_message(s.status_message);
    }
  }
  return request.SerializeAsString();
}

bool TraceExporter::send(const std::vector<SpanData>& batch, bool last) {
  std::string body = encode(batch);
  auto log = [this](const std::string& m) { log_ ? log_(m) : log_to_stderr(m); };
  std::string why;
  auto backoff = std::chrono::milliseconds(200);
  const int attempts = last ? 1 : config_.attempts;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    asio::io_context io;
    int status = 0;
    beast::error_code error;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto executor = io.get_executor();
          tcp::resolver resolver(executor);
          beast::tcp_stream stream(executor);
          stream.expires_after(config_.timeout);
          auto [ec1, endpoints] = co_await resolver.async_resolve(host_, port_, asio::as_tuple(asio::use_awaitable));
          if (ec1) {
            error = ec1;
            co_return;
          }
          auto [ec2, ep] = co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
          if (ec2) {
            error = ec2;
            co_return;
          }
          http::request<http::string_body> req{http::verb::post, path_, 11};
          req.set(http::field::host, host_ + ":" + port_);
          req.set(http::field::content_type, "application/x-protobuf");
          req.set(http::field::user_agent, "stratus");
          req.body() = body;
          req.prepare_payload();
          auto [ec3, n3] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
          if (ec3) {
            error = ec3;
            co_return;
          }
          beast::flat_buffer buffer;
          http::response<http::string_body> res;
          auto [ec4, n4] = co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
          if (ec4) {
            error = ec4;
            co_return;
          }
          status = res.result_int();
          beast::error_code ignored;
          stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        },
        asio::detached);
    io.run();
    if (status >= 200 && status < 300) {
      if (failing_) log("the collector at " + config_.traces_url + " takes spans again");
      failing_ = false;
      return true;
    }
    bool retryable = status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
    why = status != 0 ? "HTTP " + std::to_string(status) : error.message();
    if (!retryable || attempt == attempts) break;
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
  if (!failing_)
    log("cannot send " + std::to_string(batch.size()) + " spans to " + config_.traces_url + ": " + why +
        " (dropped; said once until it works again)");
  failing_ = true;
  return false;
}

}  // namespace stratus::observe
