// What the guest MySQL tests build server messages from: hex, column
// definitions, and a scripted server (a Transport that answers each
// command with canned packets).
#pragma once

#include <algorithm>
#include <deque>
#include <string>
#include <string_view>

#include "mysql/client.h"

namespace mysql::test_packets {

inline Bytes from_hex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (char c : text) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

inline std::string hex(std::span<const uint8_t> bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) out += {kDigits[b >> 4], kDigits[b & 15]};
  return out;
}

// A column definition of table todo.todos.
inline Bytes column(std::string_view name, ColumnType type, uint16_t flags) {
  PayloadWriter w;
  w.lenenc_string("def").lenenc_string("todo").lenenc_string("todos").lenenc_string("todos");
  w.lenenc_string(name).lenenc_string(name).lenenc(0x0c);
  w.fixed(kUtf8mb4, 2).fixed(20, 4).u8(static_cast<uint8_t>(type)).fixed(flags, 2).u8(0).zeros(2);
  return w.take();
}

inline Bytes ok_packet(uint64_t affected = 0, uint64_t insert_id = 0, uint16_t status = 2) {
  return PayloadWriter().u8(0).lenenc(affected).lenenc(insert_id).fixed(status, 2).fixed(0, 2).take();
}

inline Bytes eof_packet(uint16_t status = 2) { return PayloadWriter().u8(0xfe).fixed(0, 2).fixed(status, 2).take(); }

inline Bytes err_packet(uint16_t code, std::string_view state, std::string_view message) {
  return PayloadWriter().u8(0xff).fixed(code, 2).u8('#').text(state).text(message).take();
}

// A server that answers each write with the next scripted reply (payloads
// framed from sequence 1 up, or raw bytes), delivered `chunk` bytes per
// read; then the connection closes. Records what the client wrote.
class ScriptedServer : public Transport {
 public:
  explicit ScriptedServer(size_t chunk = 1 << 20) : chunk_(chunk) {}

  // The greeting, sent before the client writes.
  void greet(const Bytes& payload) {
    uint8_t seq = 0;
    pending_ = frame(payload, seq);
  }
  // The reply to the next write: payloads with sequence numbers from `seq`.
  void reply(const std::vector<Bytes>& payloads, uint8_t seq = 1) {
    Bytes bytes;
    for (const auto& p : payloads) {
      Bytes f = frame(p, seq);
      bytes.insert(bytes.end(), f.begin(), f.end());
    }
    replies_.push_back(std::move(bytes));
  }
  void reply_raw(Bytes bytes) { replies_.push_back(std::move(bytes)); }

  Result<Bytes> read() override {
    if (pending_.empty()) return io_error("the server closed the connection");
    size_t n = std::min(chunk_, pending_.size());
    Bytes out(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(n));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(n));
    return out;
  }
  Result<void> write(std::span<const uint8_t> bytes) override {
    written_.emplace_back(bytes.begin(), bytes.end());
    if (!replies_.empty()) {
      pending_.insert(pending_.end(), replies_.front().begin(), replies_.front().end());
      replies_.pop_front();
    }
    return {};
  }
  bool peer_gone() override { return gone_; }

  std::vector<Bytes> written_;
  bool gone_ = false;

 private:
  size_t chunk_;
  Bytes pending_;
  std::deque<Bytes> replies_;
};

}  // namespace mysql::test_packets
