// A worker: one thread, one event loop, its own accept socket on every listener (SO_REUSEPORT), its
// own selectors and pipes. A connection accepted by a worker never leaves it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "balance/random.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "events/access_log.h"
#include "events/event_bus.h"
#include "l4/pipe_pool.h"
#include "metrics/worker_metrics.h"
#include "net/socket.h"
#include "runtime/listener_state.h"
#include "runtime/session.h"
#include "upstream/connection_pool.h"
#include "upstream/pool.h"
#include "upstream/selector.h"

namespace fulcrum::http {
class HttpWorkerContext;
}

namespace fulcrum::runtime {

class Worker {
 public:
  /// `sockets[i]` is this worker's bound socket for `listeners[i]`; HTTP buffers are
  /// `buffer_size` bytes (at least the largest max_header_size). `events` (and `access_log`, null
  /// when off) outlive the worker. `batch_sends`: gather each loop turn's sends into one io_uring
  /// submission when the kernel allows it (loop().send_batch() tells whether it did).
  Worker(unsigned index, std::vector<ListenerState*> listeners, std::vector<net::UniqueFd> sockets,
         const std::vector<std::unique_ptr<upstream::Pool>>& pools, std::size_t buffer_size,
         events::EventBus& events, events::AccessLog* access_log, bool batch_sends);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Starts the worker's thread.
  void start();
  /// Stops accepting (its listening sockets are closed when this returns); lets open connections
  /// finish until `deadline`, then closes them and ends the thread. Any thread but the worker's.
  void drain(core::TimePoint deadline);
  /// Waits for the thread to end (after drain()).
  void join();

  unsigned index() const { return index_; }
  core::EventLoop& loop() { return loop_; }
  /// The balancer's event bus. Sessions ask events().sample(Event::X) (one relaxed load while
  /// nobody listens) before building a per-request event's details.
  events::EventBus& events() { return events_; }
  /// The access log, or null when it is off. log() with index() as the shard.
  events::AccessLog* access_log() { return access_log_; }
  l4::PipePool& pipes() { return pipes_; }
  /// A buffer for data passed straight through within one call (never kept across calls).
  std::array<char, 16 * 1024>& scratch() { return scratch_; }
  /// The worker's buffer blocks (HTTP sessions' buffers; TCP sessions' batched sends).
  core::BufferPool& buffers() { return buffers_; }
  upstream::Selector& selector(std::size_t pool_index) { return *selectors_[pool_index]; }
  /// Connections open on this worker (loop thread).
  std::size_t sessions() const { return sessions_.size(); }
  /// True once drain() began: sessions finish what is in flight and take nothing new.
  bool draining() const { return draining_; }
  /// Backend `backend_id` left its pool: its idle upstream connections on this worker are closed
  /// (soon, on the worker's thread). Any thread.
  void retire_backend(std::uint64_t backend_id) {
    loop_.post([this, backend_id] { connections_.close_idle(backend_id); });
  }
  /// This worker's statistics: written by its sessions (loop thread), read by the control thread.
  metrics::WorkerMetrics& metrics() { return metrics_; }
  const metrics::WorkerMetrics& metrics() const { return metrics_; }
  /// Loop turns and time spent outside epoll_wait, for metrics. Any thread.
  std::uint64_t loop_iterations() const { return loop_.iterations(); }
  std::chrono::nanoseconds loop_busy_time() const { return loop_.busy_time(); }

  /// Session bookkeeping, loop thread only: a session registers when accepted and reports its
  /// end once; the worker destroys it after the current loop turn.
  void add_session(Session& session) {
    sessions_.push(session);
    metrics_.connections.set(static_cast<std::int64_t>(sessions_.size()));
  }
  void session_ended(Session& session, ListenerState& listener);

 private:
  class AcceptSocket;

  void begin_drain(core::TimePoint deadline);
  void check_paused();
  void maybe_finish_drain();

  const unsigned index_;
  events::EventBus& events_;
  events::AccessLog* const access_log_;
  core::EventLoop loop_;
  metrics::WorkerMetrics metrics_;
  balance::Random random_;
  l4::PipePool pipes_;
  std::array<char, 16 * 1024> scratch_;
  core::BufferPool buffers_;
  upstream::ConnectionPool connections_;
  std::vector<std::unique_ptr<upstream::Selector>> selectors_;
  std::vector<std::unique_ptr<http::HttpWorkerContext>> http_contexts_;  // by listener; null for tcp
  std::vector<std::unique_ptr<AcceptSocket>> accept_sockets_;
  SessionList sessions_;
  bool draining_ = false;
  core::Timer drain_timer_;
  core::Timer resume_timer_;  // re-checks listeners paused at max_connections
  std::thread thread_;
};

}  // namespace fulcrum::runtime
