// An HTTP connection to a backend, which may carry many requests one after the other (keep-alive).
// While a session uses it, events go to the session; while it idles in the worker's
// ConnectionPool, they go to the pool. Confined to one worker thread.
#pragma once

#include <cstdint>
#include <memory>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "net/socket.h"
#include "upstream/backend.h"

namespace fulcrum::upstream {

class UpstreamConnection final : public core::IoHandler {
 public:
  /// Whoever currently receives this connection's events.
  class Owner {
   public:
    virtual void on_upstream_io(UpstreamConnection& connection, std::uint32_t events) = 0;

   protected:
    ~Owner() = default;
  };

  UpstreamConnection(net::UniqueFd fd, std::shared_ptr<Backend> backend)
      : fd_(std::move(fd)), backend_(std::move(backend)), idle_timer_([this] { on_idle_timeout(); }) {}

  int fd() const { return fd_.get(); }
  Backend& backend() { return *backend_; }
  const std::shared_ptr<Backend>& backend_ptr() const { return backend_; }
  void set_owner(Owner* owner) { owner_ = owner; }
  void on_io(std::uint32_t events) override {
    if (owner_) owner_->on_upstream_io(*this, events);
  }

  /// Response bytes read from the backend and not yet forwarded.
  core::Buffer& buffer() { return buffer_; }
  /// Requests this connection has carried (0 while the first is in flight).
  std::uint32_t reuses = 0;
  /// Registered with the loop's epoll.
  bool registered = false;
  /// It began with a PROXY header naming one client (send_proxy): never serves another, even if
  /// a reload has turned send_proxy off since.
  bool names_a_client = false;

 private:
  friend class ConnectionPool;
  void on_idle_timeout() {
    if (owner_) owner_->on_upstream_io(*this, EPOLLHUP);
  }

  net::UniqueFd fd_;
  std::shared_ptr<Backend> backend_;
  Owner* owner_ = nullptr;
  core::Buffer buffer_;
  core::Timer idle_timer_;
};

}  // namespace fulcrum::upstream
