// The MySQL/MariaDB wire format: packets (a 3-byte length, a sequence
// number, the payload; a payload of 0xffffff bytes continues in the next
// packet) and the integers and strings inside payloads. The reader checks
// every length against what is left and says which field was cut short.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "error.h"

namespace mysql {

using Bytes = std::vector<uint8_t>;

inline constexpr size_t kMaxPacketPayload = 0xffffff;

// Reads one payload, front to back. Each read names the field it reads, so
// a short payload gives "OK packet: affected_rows: needs 8 bytes, 3 left".
class PayloadReader {
 public:
  PayloadReader(std::span<const uint8_t> payload, std::string_view what) : bytes_(payload), what_(what) {}

  size_t left() const { return bytes_.size() - at_; }
  bool at_end() const { return at_ == bytes_.size(); }
  // The next byte, without reading it; nullopt at the end.
  std::optional<uint8_t> peek() const { return at_end() ? std::nullopt : std::optional(bytes_[at_]); }

  Result<uint64_t> fixed(size_t size, std::string_view field);  // little-endian, size 1..8
  Result<uint8_t> u8(std::string_view field);
  Result<uint16_t> u16(std::string_view field);
  Result<uint32_t> u32(std::string_view field);
  // A length-encoded integer; 0xfb (SQL NULL in rows) and 0xff are errors here.
  Result<uint64_t> lenenc(std::string_view field);
  Result<std::span<const uint8_t>> bytes(size_t size, std::string_view field);
  Result<std::string> string(size_t size, std::string_view field);
  Result<std::string> lenenc_string(std::string_view field);
  // Up to a NUL (read, not returned); a missing NUL is an error.
  Result<std::string> nul_string(std::string_view field);
  // Up to a NUL or the end, whichever comes first.
  std::string nul_or_rest_string();
  std::string rest_string();
  Result<void> skip(size_t size, std::string_view field);

 private:
  std::unexpected<Error> short_by(size_t need, std::string_view field) const;

  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
  std::string_view what_;
};

// Builds one payload.
class PayloadWriter {
 public:
  PayloadWriter& u8(uint8_t v);
  PayloadWriter& fixed(uint64_t v, size_t size);  // little-endian
  PayloadWriter& lenenc(uint64_t v);
  PayloadWriter& bytes(std::span<const uint8_t> b);
  PayloadWriter& text(std::string_view s);
  PayloadWriter& lenenc_string(std::string_view s);
  PayloadWriter& nul_string(std::string_view s);
  PayloadWriter& zeros(size_t n);
  const Bytes& payload() const { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

// `payload` framed as packets from sequence number `seq` on (which ends one
// past the last packet's): payloads of 0xffffff bytes or more are split,
// with an empty packet after an exact multiple.
Bytes frame(std::span<const uint8_t> payload, uint8_t& seq);

// Cuts a byte stream into payloads: feed() what the connection read, then
// next() until it has no whole payload. The sequence number must be the one
// expected (reset() at each command); a payload over `max_payload` (the
// client's memory bound) is an error before it is buffered.
class PacketReader {
 public:
  explicit PacketReader(size_t max_payload = 64u << 20) : max_payload_(max_payload) {}
  void feed(std::span<const uint8_t> bytes);
  // The next whole payload; nullopt when more bytes are needed.
  Result<std::optional<Bytes>> next();
  void reset(uint8_t seq = 0) { seq_ = seq; }
  uint8_t seq() const { return seq_; }
  // Whether bytes are buffered that no payload has taken yet.
  bool has_unread() const { return start_ < buffer_.size(); }

 private:
  Bytes buffer_;
  size_t start_ = 0;  // buffer_ before it is consumed
  Bytes partial_;     // the pieces so far of a payload split over packets
  uint8_t seq_ = 0;
  size_t max_payload_;
};

}  // namespace mysql
