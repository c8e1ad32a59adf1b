#include "wasi/p2/byte_channel.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace stratus::wasi::p2 {
namespace {

// The most one take() returns when the reader asks for more.
constexpr size_t kMaxTake = 64 * 1024;

void set_eventfd(int fd, bool on) {
  if (on) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
  } else {
    uint64_t value = 0;
    [[maybe_unused]] auto n = ::read(fd, &value, sizeof value);
  }
}

class ChannelInput final : public InputStream {
 public:
  ChannelInput(std::shared_ptr<ByteChannel> channel, std::shared_ptr<void> keep)
      : channel_(std::move(channel)), keep_(std::move(keep)) {}
  ~ChannelInput() override { channel_->drop_reader(); }

  std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool blocking) override {
    size_t max = static_cast<size_t>(std::min<uint64_t>(len, kMaxTake));
    for (;;) {
      auto r = channel_->take(max);
      auto* bytes = std::get_if<std::vector<uint8_t>>(&r);
      if (!blocking || !bytes || !bytes->empty() || max == 0) return r;
      pollfd p{channel_->data_fd(), POLLIN, 0};
      before_blocking();
      ::poll(&p, 1, -1);
    }
  }
  Pollable subscribe() override {
    return Pollable{Pollable::Kind::Readable, 0, channel_->data_fd_owner(), channel_->data_fd()};
  }

 private:
  std::shared_ptr<ByteChannel> channel_;
  std::shared_ptr<void> keep_;
};

}  // namespace

std::shared_ptr<ByteChannel> ByteChannel::create(size_t capacity) {
  int data = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (data < 0) return nullptr;
  auto data_fd = std::make_shared<OwnedFd>(data);
  int room = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (room < 0) return nullptr;
  return std::make_shared<ByteChannel>(capacity, std::move(data_fd), std::make_shared<OwnedFd>(room));
}

ByteChannel::ByteChannel(size_t capacity, std::shared_ptr<OwnedFd> data_fd, std::shared_ptr<OwnedFd> room_fd)
    : capacity_(capacity), data_fd_(std::move(data_fd)), room_fd_(std::move(room_fd)) {
  std::lock_guard lock(mu_);
  signal_locked();
}

std::variant<uint64_t, StreamFailure> ByteChannel::room() const {
  std::lock_guard lock(mu_);
  if (closed_ || reader_gone_) return StreamFailure::end();
  if (capacity_ == 0) return uint64_t{kMaxTake};
  return uint64_t{bytes_.size() >= capacity_ ? 0 : capacity_ - bytes_.size()};
}

void ByteChannel::push(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  if (closed_ || reader_gone_) return;
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  pushed_ += bytes.size();
  signal_locked();
}

void ByteChannel::close(std::optional<StreamFailure> failure) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  closed_ = true;
  failure_ = std::move(failure);
  signal_locked();
}

bool ByteChannel::reader_gone() const {
  std::lock_guard lock(mu_);
  return reader_gone_;
}

bool ByteChannel::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::variant<std::vector<uint8_t>, StreamFailure> ByteChannel::take(size_t max) {
  std::lock_guard lock(mu_);
  if (bytes_.empty()) {
    if (!closed_) return std::vector<uint8_t>{};
    return failure_ ? *failure_ : StreamFailure::end();
  }
  size_t n = std::min(max, bytes_.size());
  std::vector<uint8_t> out(bytes_.begin(), bytes_.begin() + static_cast<ptrdiff_t>(n));
  bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<ptrdiff_t>(n));
  signal_locked();
  return out;
}

void ByteChannel::drop_reader() {
  std::lock_guard lock(mu_);
  reader_gone_ = true;
  bytes_.clear();
  signal_locked();
}

void ByteChannel::bound(size_t capacity) {
  std::lock_guard lock(mu_);
  capacity_ = capacity;
  signal_locked();
}

uint64_t ByteChannel::total_pushed() const {
  std::lock_guard lock(mu_);
  return pushed_;
}

void ByteChannel::signal_locked() {
  bool data = !bytes_.empty() || closed_;
  bool room = closed_ || reader_gone_ || capacity_ == 0 || bytes_.size() < capacity_;
  if (data != data_signalled_) {
    set_eventfd(data_fd_->get(), data);
    data_signalled_ = data;
  }
  if (room != room_signalled_) {
    set_eventfd(room_fd_->get(), room);
    room_signalled_ = room;
  }
}

std::shared_ptr<InputStream> channel_input(std::shared_ptr<ByteChannel> channel, std::shared_ptr<void> keep) {
  return std::make_shared<ChannelInput>(std::move(channel), std::move(keep));
}

}  // namespace stratus::wasi::p2
