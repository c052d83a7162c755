// Idle keep-alive connections to backends, kept per worker so that a request can skip the TCP
// handshake. Most recently used first (its socket is the likeliest to be alive and warm). An idle
// connection that the backend closes, or that sends anything, is dropped at once; one unused for
// the pool's idle_timeout is closed. Owned by one worker thread.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "upstream/upstream_connection.h"

namespace fulcrum::upstream {

class ConnectionPool final : private UpstreamConnection::Owner {
 public:
  ConnectionPool(core::EventLoop& loop, core::BufferPool& buffers) : loop_(loop), buffers_(buffers) {}
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// An idle connection to `backend`, or null. The caller becomes its owner.
  std::unique_ptr<UpstreamConnection> take(const Backend& backend);
  /// Keeps `connection` for reuse (at most `max_idle` per backend, for `idle_timeout`), or
  /// discards it: when its buffer holds bytes, or its backend left its pool (retired).
  void put(std::unique_ptr<UpstreamConnection> connection, std::uint32_t max_idle, core::Milliseconds idle_timeout);
  /// Ends a connection that will not be reused: nobody receives its events from now on, and it is
  /// deleted (its socket closed) at the end of the loop turn. Never delete one at once: epoll events
  /// of its socket already fetched in this turn still name it (EventLoop::remove), and a session
  /// that ends on its client's event would leave them calling into freed memory.
  void discard(std::unique_ptr<UpstreamConnection> connection);
  /// Closes every idle connection to backend `backend_id` (it left its pool).
  void close_idle(std::uint64_t backend_id);
  /// Idle connections held, for metrics and tests.
  std::size_t idle() const { return idle_count_; }

 private:
  void on_upstream_io(UpstreamConnection& connection, std::uint32_t events) override;
  std::vector<UpstreamConnection*>& slot(std::uint64_t backend_id) { return idle_by_backend_[backend_id]; }

  core::EventLoop& loop_;
  core::BufferPool& buffers_;
  // By Backend::id(). Ids are never reused and backends come and go at run time, so a map: its
  // size follows the backends that have idle connections, not every id ever handed out.
  std::unordered_map<std::uint64_t, std::vector<UpstreamConnection*>> idle_by_backend_;
  std::size_t idle_count_ = 0;
};

}  // namespace fulcrum::upstream
