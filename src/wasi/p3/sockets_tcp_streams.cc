// The streams of wasi:sockets 0.3's TCP: a listener's stream of accepted
// sockets, and a connection's bytes each way. Each pump waits for its
// other side on the store's reactor, never on the thread: a writer pump
// offers nothing until the guest reads (a zero-length write completes only
// then) and only then waits for the socket; the send pump reads the next
// chunk from the guest only once the last one is in the kernel. So a slow
// peer or a slow guest holds the other back instead of filling memory.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "wasi/p3/sockets.h"

namespace stratus::wasi::p3 {
namespace {

using component::CopyResult;
using component::HostElements;

constexpr uint32_t kChunk = 64 * 1024;

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// accept(2)'s errors that are about the one connection, not the listener
// (Linux reports a connection's pending network error there): the next one
// may be fine.
bool transient_accept_error(int err) {
  switch (err) {
    case ECONNABORTED:
    case ECONNRESET:
    case ENETRESET:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case ENETUNREACH:
    case EPROTO:
    case ENOPROTOOPT:
    case ENONET:
    case EOPNOTSUPP:
    case EPERM: return true;
    default: return would_block(err);
  }
}

class AcceptPump : public std::enable_shared_from_this<AcceptPump> {
 public:
  AcceptPump(SocketsHost& host, component::Reactor& reactor, component::HostWriteEnd sockets,
             std::shared_ptr<TcpSocket> listener)
      : host_(host), reactor_(reactor), sockets_(std::move(sockets)), listener_(std::move(listener)) {}

  void wait_for_reader() {
    auto self = shared_from_this();
    auto ok = sockets_.write(HostElements::of_count(0), [self](CopyResult r, uint32_t) {
      if (r == CopyResult::Completed) {
        self->accept();
      } else {
        self->sockets_.drop();
      }
    });
    if (!ok.ok()) sockets_.drop();
  }

 private:
  void accept() {
    int fd;
    do {
      fd = ::accept4(listener_->fd->get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      if (!transient_accept_error(errno)) {
        sockets_.drop();  // the listener is gone (dropped, shut down)
        return;
      }
      auto self = shared_from_this();
      reactor_.watch(listener_->fd->get(), POLLIN, [self](short) { self->accept(); });
      return;
    }
    auto accepted = std::make_shared<TcpSocket>();
    accepted->fd = std::make_shared<p2::OwnedFd>(fd);
    accepted->v6 = listener_->v6;
    accepted->state = TcpState::Connected;
    auto added = host_.add_accepted(std::move(accepted));
    if (!added) {
      // Past max_sockets (told to ctx.refused): the connection is closed
      // (the peer sees it end) and the listener goes on.
      auto self = shared_from_this();
      reactor_.watch(listener_->fd->get(), POLLIN, [self](short) { self->accept(); });
      return;
    }
    auto handle = *added;
    component::Val v;
    {
      wit::HostResourcesScope scope(&host_.resources());
      v = wit::to_val(handle);
    }
    auto self = shared_from_this();
    uint32_t rep = handle.rep;
    auto ok = sockets_.write(HostElements::of_values({v}), [self, rep](CopyResult r, uint32_t n) {
      if (n == 0) self->host_.forget_tcp(rep);  // never reached the guest
      if (r == CopyResult::Completed) {
        self->wait_for_reader();
      } else {
        self->sockets_.drop();
      }
    });
    if (!ok.ok()) {
      host_.forget_tcp(rep);
      sockets_.drop();
    }
  }

  SocketsHost& host_;
  component::Reactor& reactor_;
  component::HostWriteEnd sockets_;
  std::shared_ptr<TcpSocket> listener_;
};

// Copies what the guest writes to its stream into the socket until the
// guest drops the stream (then shuts down the sending side: the peer reads
// its end), and answers the future: ok, or why the connection failed.
class SendPump : public std::enable_shared_from_this<SendPump> {
 public:
  SendPump(component::Reactor& reactor, component::HostReadEnd data, component::HostWriteEnd done,
           std::shared_ptr<p2::OwnedFd> fd)
      : reactor_(reactor),
        data_(std::move(data)),
        done_(std::make_shared<component::HostWriteEnd>(std::move(done))),
        fd_(std::move(fd)) {}

  void next() {
    auto self = shared_from_this();
    auto ok = data_.read(kChunk, [self](CopyResult r, HostElements got) {
      self->pending_ = std::move(got.bytes);
      self->sent_ = 0;
      self->more_ = r == CopyResult::Completed;
      self->flush();
    });
    if (!ok.ok()) finish(types::ErrorCodeOther{std::string("send: ") + ok.error().message});
  }

 private:
  void flush() {
    while (sent_ < pending_.size()) {
      ssize_t n = ::send(fd_->get(), pending_.data() + sent_, pending_.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        sent_ += static_cast<size_t>(n);
        continue;
      }
      if (would_block(errno)) {
        auto self = shared_from_this();
        reactor_.watch(fd_->get(), POLLOUT, [self](short) { self->flush(); });
        return;
      }
      finish(socket_error(errno));
      return;
    }
    if (more_) {
      next();
      return;
    }
    ::shutdown(fd_->get(), SHUT_WR);
    finish(std::nullopt);
  }

  void finish(std::optional<SocketError> error) {
    data_.drop();
    answer(done_, error ? SocketStatus::err(*error) : SocketStatus::ok(wit::Unit{}));
  }

  component::Reactor& reactor_;
  component::HostReadEnd data_;
  std::shared_ptr<component::HostWriteEnd> done_;
  std::shared_ptr<p2::OwnedFd> fd_;
  std::vector<uint8_t> pending_;
  size_t sent_ = 0;
  bool more_ = true;
};

// Offers what the peer sends, a chunk each time the guest reads, until the
// peer ends (the future: ok) or the connection fails (the future: why). A
// guest that drops the stream stops receiving (SHUT_RD).
class ReceivePump : public std::enable_shared_from_this<ReceivePump> {
 public:
  ReceivePump(component::Reactor& reactor, component::HostWriteEnd data, component::HostWriteEnd done,
              std::shared_ptr<p2::OwnedFd> fd)
      : reactor_(reactor),
        data_(std::move(data)),
        done_(std::make_shared<component::HostWriteEnd>(std::move(done))),
        fd_(std::move(fd)) {}

  void wait_for_reader() {
    auto self = shared_from_this();
    auto ok = data_.write(HostElements::of_count(0), [self](CopyResult r, uint32_t) {
      if (r == CopyResult::Completed) {
        self->receive();
      } else {
        self->stop();
      }
    });
    if (!ok.ok()) stop();
  }

 private:
  void receive() {
    std::vector<uint8_t> buf(kChunk);
    ssize_t n;
    do {
      n = ::recv(fd_->get(), buf.data(), buf.size(), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      buf.resize(static_cast<size_t>(n));
      write_rest(std::make_shared<std::vector<uint8_t>>(std::move(buf)), 0);
      return;
    }
    if (n == 0) {
      finish(std::nullopt);
      return;
    }
    if (would_block(errno)) {
      auto self = shared_from_this();
      reactor_.watch(fd_->get(), POLLIN, [self](short) { self->receive(); });
      return;
    }
    finish(socket_error(errno));
  }

  void write_rest(const std::shared_ptr<std::vector<uint8_t>>& bytes, size_t from) {
    auto self = shared_from_this();
    auto rest = std::span<const uint8_t>(*bytes).subspan(from);
    auto ok = data_.write(HostElements::of_bytes(rest), [self, bytes, from](CopyResult r, uint32_t n) {
      if (r != CopyResult::Completed) {
        self->stop();
      } else if (from + n < bytes->size()) {
        self->write_rest(bytes, from + n);
      } else {
        self->wait_for_reader();
      }
    });
    if (!ok.ok()) stop();
  }

  // The guest dropped its end: what is still coming is discarded.
  void stop() {
    ::shutdown(fd_->get(), SHUT_RD);
    finish(std::nullopt);
  }

  void finish(std::optional<SocketError> error) {
    data_.drop();
    answer(done_, error ? SocketStatus::err(*error) : SocketStatus::ok(wit::Unit{}));
  }

  component::Reactor& reactor_;
  component::HostWriteEnd data_;
  std::shared_ptr<component::HostWriteEnd> done_;
  std::shared_ptr<p2::OwnedFd> fd_;
};

}  // namespace

void start_accepting(SocketsHost& host, component::Reactor& reactor, component::HostWriteEnd sockets,
                     std::shared_ptr<TcpSocket> listener) {
  std::make_shared<AcceptPump>(host, reactor, std::move(sockets), std::move(listener))->wait_for_reader();
}

void start_sending(component::Reactor& reactor, component::HostReadEnd data, component::HostWriteEnd done,
                   std::shared_ptr<p2::OwnedFd> fd) {
  std::make_shared<SendPump>(reactor, std::move(data), std::move(done), std::move(fd))->next();
}

void start_receiving(component::Reactor& reactor, component::HostWriteEnd data, component::HostWriteEnd done,
                     std::shared_ptr<p2::OwnedFd> fd) {
  std::make_shared<ReceivePump>(reactor, std::move(data), std::move(done), std::move(fd))->wait_for_reader();
}

}  // namespace stratus::wasi::p3
