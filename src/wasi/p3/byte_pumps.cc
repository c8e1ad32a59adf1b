#include "wasi/p3/byte_pumps.h"

#include <cerrno>
#include <span>
#include <utility>
#include <vector>

namespace stratus::wasi::p3 {
namespace {

using component::CopyResult;
using component::HostElements;

constexpr uint32_t kChunk = 64 * 1024;

p2::StreamFailure transfer_failure(const std::string& what) { return p2::StreamFailure::from_errno(EIO, what); }

class OutputPump : public std::enable_shared_from_this<OutputPump> {
 public:
  OutputPump(component::HostReadEnd data, std::shared_ptr<p2::OutputStream> out, PumpDone done)
      : data_(std::move(data)), out_(std::move(out)), done_(std::move(done)) {}

  void next() {
    auto self = shared_from_this();
    auto ok = data_.read(kChunk, [self](CopyResult r, HostElements got) {
      if (!got.bytes.empty()) {
        auto failed = self->out_->write(got.bytes);
        if (!failed) failed = self->out_->flush();
        if (failed) {
          self->finish(std::move(failed));
          return;
        }
      }
      if (r == CopyResult::Completed) {
        self->next();
      } else {
        self->finish(std::nullopt);
      }
    });
    if (!ok.ok()) finish(transfer_failure(ok.error().message));
  }

 private:
  void finish(std::optional<p2::StreamFailure> failure) {
    data_.drop();
    if (done_) std::exchange(done_, nullptr)(std::move(failure));
  }

  component::HostReadEnd data_;
  std::shared_ptr<p2::OutputStream> out_;
  PumpDone done_;
};

class InputPump : public std::enable_shared_from_this<InputPump> {
 public:
  InputPump(component::HostWriteEnd data, std::shared_ptr<p2::InputStream> in, PumpDone done)
      : data_(std::move(data)), in_(std::move(in)), done_(std::move(done)) {}

  void wait_for_reader() {
    auto self = shared_from_this();
    auto ok = data_.write(HostElements::of_count(0), [self](CopyResult r, uint32_t) {
      if (r == CopyResult::Completed) {
        self->offer_chunk();
      } else {
        self->finish(std::nullopt);
      }
    });
    if (!ok.ok()) finish(transfer_failure(ok.error().message));
  }

 private:
  void offer_chunk() {
    auto got = in_->read(kChunk, true);
    if (auto* failure = std::get_if<p2::StreamFailure>(&got)) {
      finish(failure->closed ? std::nullopt : std::optional(std::move(*failure)));
      return;
    }
    auto bytes = std::get<std::vector<uint8_t>>(std::move(got));
    if (bytes.empty()) {
      wait_for_reader();
      return;
    }
    write_rest(std::make_shared<std::vector<uint8_t>>(std::move(bytes)), 0);
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
    if (!ok.ok()) finish(transfer_failure(ok.error().message));
  }

  void finish(std::optional<p2::StreamFailure> failure) {
    data_.drop();
    if (done_) std::exchange(done_, nullptr)(std::move(failure));
  }

  component::HostWriteEnd data_;
  std::shared_ptr<p2::InputStream> in_;
  PumpDone done_;
};

}  // namespace

void pump_to_output(component::HostReadEnd data, std::shared_ptr<p2::OutputStream> out, PumpDone done) {
  std::make_shared<OutputPump>(std::move(data), std::move(out), std::move(done))->next();
}

void pump_from_input(component::HostWriteEnd data, std::shared_ptr<p2::InputStream> in, PumpDone done) {
  std::make_shared<InputPump>(std::move(data), std::move(in), std::move(done))->wait_for_reader();
}

void answer_future(const std::shared_ptr<component::HostWriteEnd>& future, component::Val value) {
  std::vector<component::Val> values;
  values.push_back(std::move(value));
  auto ok = future->write(component::HostElements::of_values(std::move(values)),
                          [future](component::CopyResult, uint32_t) { future->drop(); });
  if (!ok.ok()) future->drop();
}

}  // namespace stratus::wasi::p3
