// Fuzzes guest/mysql's client with arbitrary server bytes: the first byte
// picks the command and how many bytes each read returns, the rest is all
// the server says (greeting, login reply, command replies). Whatever comes,
// the connection logs in or reports an error, and each command gives a
// result or an error with a message, never a crash or a hang.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "mysql/client.h"

namespace {

class FuzzServer final : public mysql::Transport {
 public:
  FuzzServer(const uint8_t* data, size_t size, size_t chunk) : data_(data), size_(size), chunk_(chunk) {}
  mysql::Result<mysql::Bytes> read() override {
    if (at_ == size_) return mysql::io_error("closed");
    size_t n = std::min(chunk_, size_ - at_);
    mysql::Bytes out(data_ + at_, data_ + at_ + n);
    at_ += n;
    return out;
  }
  mysql::Result<void> write(std::span<const uint8_t>) override { return {}; }
  bool peer_gone() override { return at_ == size_; }

 private:
  const uint8_t* data_;
  size_t size_, at_ = 0, chunk_;
};

void require_message(const mysql::Error& e) {
  if (e.message.empty() && e.kind != mysql::Error::Kind::Server) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t control = data[0];
  size_t chunk = 1 + (control >> 2);
  auto c = mysql::Connection::open(std::make_unique<FuzzServer>(data + 1, size - 1, chunk), {"todo", "todo", "todo"});
  if (!c) {
    require_message(c.error());
    return 0;
  }
  for (int i = 0; i < 3 && (*c)->usable(); ++i) {
    switch ((control + i) & 3) {
      case 0: {
        auto r = (*c)->query("SELECT id, title, done FROM todos");
        if (!r) require_message(r.error());
        break;
      }
      case 1: {
        auto s = (*c)->prepare("SELECT id, title FROM todos WHERE id = ?");
        if (!s) {
          require_message(s.error());
          break;
        }
        std::vector<mysql::Value> params(s->prepared.params, mysql::Value(int64_t{1}));
        auto r = (*c)->execute(*s, params);
        if (!r) require_message(r.error());
        break;
      }
      case 2: {
        auto r = (*c)->ping();
        if (!r) require_message(r.error());
        break;
      }
      default: (*c)->quit();
    }
  }
  return 0;
}
