// A bounded byte queue between a guest and a host thread, for wasi:http's
// client bodies: the guest side never blocks on it unless asked to (it asks
// what is there and waits on a pollable: an eventfd, so wait_any stays one
// poll(2)); the thread side blocks on the same eventfds beside its socket.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "wasi/p2/streams.h"

namespace stratus::wasi::p2 {

class ByteChannel {
 public:
  // `capacity`: how many bytes may wait before room() says 0. An unbounded
  // channel (capacity 0) takes everything; bound() turns it bounded later
  // (a request body the guest writes before the request is sent).
  // Null when the process is out of file descriptors (eventfd failed).
  static std::shared_ptr<ByteChannel> create(size_t capacity);
  ByteChannel(size_t capacity, std::shared_ptr<OwnedFd> data_fd, std::shared_ptr<OwnedFd> room_fd);
  ByteChannel(const ByteChannel&) = delete;
  ByteChannel& operator=(const ByteChannel&) = delete;

  // ---- writer side
  // How many bytes push() takes now (0: full); StreamFailure::end() once the
  // reader is gone or the channel was closed.
  std::variant<uint64_t, StreamFailure> room() const;
  // Queues `bytes`, even past the capacity (a write check-write allowed, or
  // a blocking write of at most 4 KiB): the queue is bounded by capacity
  // plus one write.
  void push(std::span<const uint8_t> bytes);
  // No more bytes: the reader sees the end after what is queued, or
  // `failure` when given.
  void close(std::optional<StreamFailure> failure = std::nullopt);
  bool reader_gone() const;
  bool closed() const;
  // Readable while room() would not say 0.
  int room_fd() const { return room_fd_->get(); }
  std::shared_ptr<OwnedFd> room_fd_owner() const { return room_fd_; }

  // ---- reader side
  // Up to `max` bytes: an empty vector when nothing is queued yet; the end
  // (or the failure close() gave) once everything queued was taken.
  std::variant<std::vector<uint8_t>, StreamFailure> take(size_t max);
  void drop_reader();
  // Readable while take() would not return an empty vector.
  int data_fd() const { return data_fd_->get(); }
  std::shared_ptr<OwnedFd> data_fd_owner() const { return data_fd_; }

  void bound(size_t capacity);
  uint64_t total_pushed() const;

 private:
  // Sets each eventfd to match the state; called with mu_ held.
  void signal_locked();

  mutable std::mutex mu_;
  size_t capacity_;
  std::deque<uint8_t> bytes_;
  uint64_t pushed_ = 0;
  bool closed_ = false, reader_gone_ = false;
  std::optional<StreamFailure> failure_;
  std::shared_ptr<OwnedFd> data_fd_, room_fd_;
  bool data_signalled_ = false, room_signalled_ = false;
};

// The guest's ends of a channel: an input-stream that reads it (dropping it
// tells the writer nobody reads any more) and an output-stream that writes
// it. `keep` is held as long as the stream is (the exchange it belongs to).
std::shared_ptr<InputStream> channel_input(std::shared_ptr<ByteChannel> channel, std::shared_ptr<void> keep);

}  // namespace stratus::wasi::p2
