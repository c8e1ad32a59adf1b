// Drives wasi:blobstore from messages; each reply is the outcome as text.
//   blob.put.C.O   body -> object O of container C (made when absent): "ok"
//   blob.get.C.O   the object's bytes, read through an input-stream
//   blob.list.C    the object names, joined by ','
//   blob.info.C.O  the object's size
//   blob.del.C.O   "ok"
// A failure replies "error: WHAT".
#include <expected>
#include <string>
#include <string_view>

#include "bindings.h"

namespace {

namespace bs = ::wasi::blobstore;
namespace consumer = ::wasmcloud::messaging::consumer;

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// "C.O" -> {C, O}; O may hold dots.
std::pair<std::string, std::string> split(std::string_view rest) {
  auto dot = rest.find('.');
  if (dot == std::string_view::npos) return {std::string(rest), ""};
  return {std::string(rest.substr(0, dot)), std::string(rest.substr(dot + 1))};
}

std::expected<bs::container::Container, std::string> open(const std::string& name, bool create) {
  auto exists = bs::blobstore::container_exists(name);
  if (!exists) return std::unexpected(exists.error());
  if (*exists) return bs::blobstore::get_container(name);
  if (!create) return std::unexpected("no container " + name);
  return bs::blobstore::create_container(name);
}

std::expected<std::string, std::string> run(std::string_view op, std::string_view rest,
                                            const std::vector<uint8_t>& body) {
  auto [c, o] = split(rest);
  auto container = open(c, op == "put");
  if (!container) return std::unexpected(container.error());
  if (op == "put") {
    auto value = bs::types::OutgoingValue::new_outgoing_value();
    {
      auto stream = value.outgoing_value_write_body();
      if (!stream) return std::unexpected(std::string("no body stream"));
      for (size_t at = 0; at < body.size(); at += 4096) {
        size_t n = std::min<size_t>(4096, body.size() - at);
        if (!stream->blocking_write_and_flush({body.data() + at, n})) return std::unexpected(std::string("write"));
      }
    }
    auto written = container->write_data(o, value);
    if (!written) return std::unexpected(written.error());
    auto finished = bs::types::OutgoingValue::finish(std::move(value));
    if (!finished) return std::unexpected(finished.error());
    return std::string("ok");
  }
  if (op == "get") {
    auto value = container->get_data(o, 0, UINT64_MAX);
    if (!value) return std::unexpected(value.error());
    auto stream = bs::types::IncomingValue::incoming_value_consume_async(std::move(*value));
    if (!stream) return std::unexpected(stream.error());
    std::string out;
    for (;;) {
      auto piece = stream->blocking_read(64 * 1024);
      if (!piece) break;  // closed: the end
      out.append(piece->begin(), piece->end());
    }
    return out;
  }
  if (op == "list") {
    auto names = container->list_objects();
    if (!names) return std::unexpected(names.error());
    std::string out;
    for (;;) {
      auto page = names->read_stream_object_names(2);
      if (!page) return std::unexpected(page.error());
      for (const auto& n : std::get<0>(*page)) out += (out.empty() ? "" : ",") + n;
      if (std::get<1>(*page)) break;
    }
    return out;
  }
  if (op == "info") {
    auto info = container->object_info(o);
    if (!info) return std::unexpected(info.error());
    return std::to_string(info->size);
  }
  if (op == "del") {
    auto deleted = container->delete_object(o);
    if (!deleted) return std::unexpected(deleted.error());
    return std::string("ok");
  }
  return std::unexpected("unknown operation " + std::string(op));
}

}  // namespace

namespace exports::wasmcloud::messaging::handler {

std::expected<void, std::string> handle_message(const BrokerMessage& msg) {
  std::string_view subject = msg.subject;
  if (subject.rfind("blob.", 0) != 0 || !msg.reply_to) return {};
  subject.remove_prefix(5);
  auto dot = subject.find('.');
  std::string_view op = subject.substr(0, dot);
  std::string_view rest = dot == std::string_view::npos ? std::string_view() : subject.substr(dot + 1);
  auto outcome = run(op, rest, msg.body);
  std::string answer = outcome ? *outcome : "error: " + outcome.error();
  auto sent = consumer::publish({*msg.reply_to, bytes(answer), std::nullopt});
  if (!sent) return std::unexpected(sent.error());
  return {};
}

}  // namespace exports::wasmcloud::messaging::handler
