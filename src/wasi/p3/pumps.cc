#include "wasi/p3/pumps.h"

#include <vector>

namespace stratus::wasi::p3 {
namespace {

using component::CopyResult;
using component::HostElements;

constexpr uint32_t kChunk = 64 * 1024;

class InputPump : public std::enable_shared_from_this<InputPump> {
 public:
  InputPump(component::HostWriteEnd data, std::shared_ptr<p2::InputStream> in,
            std::function<void(std::optional<p2::StreamFailure>)> on_end)
      : data_(std::move(data)), in_(std::move(in)), on_end_(std::move(on_end)) {}

  void wait_for_reader() {
    auto self = shared_from_this();
    auto ok = data_.write(HostElements::of_count(0), [self](CopyResult r, uint32_t) {
      if (r == CopyResult::Completed) {
        self->offer_chunk();
      } else {
        self->finish(std::nullopt);
      }
    });
    if (!ok.ok()) finish(p2::StreamFailure{false, 0, ok.error().message});
  }

 private:
  void offer_chunk() {
    auto got = in_->read(kChunk, true);
    if (auto* failure = std::get_if<p2::StreamFailure>(&got)) {
      finish(failure->closed ? std::nullopt : std::optional(*failure));
      return;
    }
    auto bytes = std::make_shared<std::vector<uint8_t>>(std::get<std::vector<uint8_t>>(std::move(got)));
    if (bytes->empty()) {
      wait_for_reader();
      return;
    }
    write_rest(bytes, 0);
  }

  void write_rest(const std::shared_ptr<std::vector<uint8_t>>& bytes, size_t from) {
    auto self = shared_from_this();
    auto rest = std::span<const uint8_t>(*bytes).subspan(from);
    auto ok = data_.write(HostElements::of_bytes(rest), [self, bytes, from](CopyResult r, uint32_t n) {
      if (r != CopyResult::Completed) {
        self->finish(std::nullopt);
      } else if (from + n < bytes->size()) {
        self->write_rest(bytes, from + n);
      } else {
        self->wait_for_reader();
      }
    });
    if (!ok.ok()) finish(p2::StreamFailure{false, 0, ok.error().message});
  }

  void finish(std::optional<p2::StreamFailure> failure) {
    data_.drop();
    if (auto end = std::move(on_end_)) end(std::move(failure));
    on_end_ = nullptr;
  }

  component::HostWriteEnd data_;
  std::shared_ptr<p2::InputStream> in_;
  std::function<void(std::optional<p2::StreamFailure>)> on_end_;
};

class OutputPump : public std::enable_shared_from_this<OutputPump> {
 public:
  OutputPump(component::HostReadEnd data, std::function<bool(std::span<const uint8_t>)> write,
             std::function<void(bool)> on_end)
      : data_(std::move(data)), write_(std::move(write)), on_end_(std::move(on_end)) {}

  void next() {
    auto self = shared_from_this();
    auto ok = data_.read(kChunk, [self](CopyResult r, HostElements got) {
      if (!got.bytes.empty() && !self->write_(got.bytes)) {
        self->finish(false);
        return;
      }
      if (r == CopyResult::Completed) {
        self->next();
      } else {
        self->finish(r == CopyResult::Dropped);
      }
    });
    if (!ok.ok()) finish(false);
  }

 private:
  void finish(bool ok) {
    data_.drop();
    if (auto end = std::move(on_end_)) end(ok);
    on_end_ = nullptr;
  }

  component::HostReadEnd data_;
  std::function<bool(std::span<const uint8_t>)> write_;
  std::function<void(bool)> on_end_;
};

}  // namespace

void pump_input(component::HostWriteEnd data, std::shared_ptr<p2::InputStream> in,
                std::function<void(std::optional<p2::StreamFailure>)> on_end) {
  std::make_shared<InputPump>(std::move(data), std::move(in), std::move(on_end))->wait_for_reader();
}

void pump_output(component::HostReadEnd data, std::function<bool(std::span<const uint8_t>)> write,
                 std::function<void(bool ok)> on_end) {
  std::make_shared<OutputPump>(std::move(data), std::move(write), std::move(on_end))->next();
}

}  // namespace stratus::wasi::p3
