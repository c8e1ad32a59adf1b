#include "wire.h"

#include <algorithm>
#include <utility>

namespace mysql {

std::string Error::describe() const {
  if (kind != Kind::Server) return message;
  std::string out = "ERROR " + std::to_string(code);
  if (!sql_state.empty()) out += " (" + sql_state + ")";
  return out + ": " + message;
}

std::unexpected<Error> PayloadReader::short_by(size_t need, std::string_view field) const {
  return protocol_error(std::string(what_) + ": " + std::string(field) + ": needs " + std::to_string(need) + " byte" +
                        (need == 1 ? "" : "s") + ", " + std::to_string(left()) + " left");
}

Result<uint64_t> PayloadReader::fixed(size_t size, std::string_view field) {
  if (left() < size) return short_by(size, field);
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) v |= uint64_t{bytes_[at_ + i]} << (8 * i);
  at_ += size;
  return v;
}

Result<uint8_t> PayloadReader::u8(std::string_view field) {
  auto v = fixed(1, field);
  if (!v) return std::unexpected(std::move(v).error());
  return static_cast<uint8_t>(*v);
}

Result<uint16_t> PayloadReader::u16(std::string_view field) {
  auto v = fixed(2, field);
  if (!v) return std::unexpected(std::move(v).error());
  return static_cast<uint16_t>(*v);
}

Result<uint32_t> PayloadReader::u32(std::string_view field) {
  auto v = fixed(4, field);
  if (!v) return std::unexpected(std::move(v).error());
  return static_cast<uint32_t>(*v);
}

Result<uint64_t> PayloadReader::lenenc(std::string_view field) {
  auto first = u8(field);
  if (!first) return first;
  if (*first < 0xfb) return *first;
  if (*first == 0xfc) return fixed(2, field);
  if (*first == 0xfd) return fixed(3, field);
  if (*first == 0xfe) return fixed(8, field);
  return protocol_error(std::string(what_) + ": " + std::string(field) + ": 0x" + (*first == 0xfb ? "fb" : "ff") +
                        " does not start a length-encoded integer");
}

Result<std::span<const uint8_t>> PayloadReader::bytes(size_t size, std::string_view field) {
  if (left() < size) return short_by(size, field);
  auto out = bytes_.subspan(at_, size);
  at_ += size;
  return out;
}

Result<std::string> PayloadReader::string(size_t size, std::string_view field) {
  auto b = bytes(size, field);
  if (!b) return std::unexpected(std::move(b).error());
  return std::string(b->begin(), b->end());
}

Result<std::string> PayloadReader::lenenc_string(std::string_view field) {
  auto size = lenenc(field);
  if (!size) return std::unexpected(std::move(size).error());
  if (*size > left()) return short_by(static_cast<size_t>(std::min<uint64_t>(*size, SIZE_MAX)), field);
  return string(static_cast<size_t>(*size), field);
}

Result<std::string> PayloadReader::nul_string(std::string_view field) {
  auto rest = bytes_.subspan(at_);
  auto nul = std::find(rest.begin(), rest.end(), uint8_t{0});
  if (nul == rest.end()) {
    return protocol_error(std::string(what_) + ": " + std::string(field) + ": no NUL before the end");
  }
  std::string out(rest.begin(), nul);
  at_ += out.size() + 1;
  return out;
}

std::string PayloadReader::nul_or_rest_string() {
  auto rest = bytes_.subspan(at_);
  auto nul = std::find(rest.begin(), rest.end(), uint8_t{0});
  std::string out(rest.begin(), nul);
  at_ += out.size() + (nul == rest.end() ? 0 : 1);
  return out;
}

std::string PayloadReader::rest_string() {
  std::string out(bytes_.begin() + static_cast<ptrdiff_t>(at_), bytes_.end());
  at_ = bytes_.size();
  return out;
}

Result<void> PayloadReader::skip(size_t size, std::string_view field) {
  if (left() < size) return short_by(size, field);
  at_ += size;
  return {};
}

PayloadWriter& PayloadWriter::u8(uint8_t v) {
  out_.push_back(v);
  return *this;
}

PayloadWriter& PayloadWriter::fixed(uint64_t v, size_t size) {
  for (size_t i = 0; i < size; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return *this;
}

PayloadWriter& PayloadWriter::lenenc(uint64_t v) {
  if (v < 0xfb) return u8(static_cast<uint8_t>(v));
  if (v <= 0xffff) return u8(0xfc).fixed(v, 2);
  if (v <= 0xffffff) return u8(0xfd).fixed(v, 3);
  return u8(0xfe).fixed(v, 8);
}

PayloadWriter& PayloadWriter::bytes(std::span<const uint8_t> b) {
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}

PayloadWriter& PayloadWriter::text(std::string_view s) {
  out_.insert(out_.end(), s.begin(), s.end());
  return *this;
}

PayloadWriter& PayloadWriter::lenenc_string(std::string_view s) { return lenenc(s.size()).text(s); }

PayloadWriter& PayloadWriter::nul_string(std::string_view s) { return text(s).u8(0); }

PayloadWriter& PayloadWriter::zeros(size_t n) {
  out_.insert(out_.end(), n, 0);
  return *this;
}

Bytes frame(std::span<const uint8_t> payload, uint8_t& seq) {
  Bytes out;
  out.reserve(payload.size() + 4 * (payload.size() / kMaxPacketPayload + 1));
  size_t at = 0;
  for (;;) {
    size_t size = std::min(payload.size() - at, kMaxPacketPayload);
    out.push_back(static_cast<uint8_t>(size));
    out.push_back(static_cast<uint8_t>(size >> 8));
    out.push_back(static_cast<uint8_t>(size >> 16));
    out.push_back(seq++);
    out.insert(out.end(), payload.begin() + static_cast<ptrdiff_t>(at),
               payload.begin() + static_cast<ptrdiff_t>(at + size));
    at += size;
    if (size < kMaxPacketPayload) return out;
  }
}

void PacketReader::feed(std::span<const uint8_t> bytes) { buffer_.insert(buffer_.end(), bytes.begin(), bytes.end()); }

Result<std::optional<Bytes>> PacketReader::next() {
  size_t at = start_;
  std::optional<Bytes> whole;
  while (!whole && buffer_.size() - at >= 4) {
    size_t size = buffer_[at] | (size_t{buffer_[at + 1]} << 8) | (size_t{buffer_[at + 2]} << 16);
    uint8_t seq = buffer_[at + 3];
    if (seq != seq_) {
      return protocol_error("packet out of order: sequence number " + std::to_string(seq) + ", expected " +
                            std::to_string(seq_));
    }
    if (partial_.size() + size > max_payload_) {
      return protocol_error("a packet of more than " + std::to_string(max_payload_) + " bytes (the client's bound)");
    }
    if (buffer_.size() - at - 4 < size) break;
    partial_.insert(partial_.end(), buffer_.begin() + static_cast<ptrdiff_t>(at + 4),
                    buffer_.begin() + static_cast<ptrdiff_t>(at + 4 + size));
    at += 4 + size;
    ++seq_;
    if (size < kMaxPacketPayload) whole = std::exchange(partial_, {});
  }
  // Consumed bytes go when they are all of the buffer or most of a large
  // one: erasing after every payload would copy a result set's rows over and over.
  start_ = at;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ >= 65536 && start_ * 2 >= buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(start_));
    start_ = 0;
  }
  return whole;
}

}  // namespace mysql
