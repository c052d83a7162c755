// The upstream half of one client connection (tcp) or request (http), up to a connected backend:
// choosing a backend with failover, holding its slot (the backend's count of active connections
// or requests), starting a non-blocking connect, and the bookkeeping of every outcome. Both
// protocols' sessions use it, so that a failure's side effects (log line, deactivation, passive
// health, counters, the slot given back, the error event) are written once, here.
//
// The session keeps the socket and its events (an HTTP session hands a connected socket to the
// worker's keep-alive pool; a TCP session splices on it); the connector keeps what is known about
// the attempt. Confined to its session's worker thread.
//
// The pool's queue (upstream/wait_queue.h) lives behind choose(): when every backend the request
// may use is at its max_connections, or the pool is paused, the connector waits in the queue and
// tells its owner when a slot is its (backend_ready) or when the wait is over (queue_timed_out).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/timer_wheel.h"
#include "metrics/worker_metrics.h"
#include "net/address.h"
#include "net/listener_state.h"
#include "net/socket.h"
#include "upstream/backend.h"
#include "upstream/selector.h"
#include "upstream/wait_queue.h"

namespace fulcrum::upstream {

class SessionServices;

/// How an attempt on a backend ended, which decides what is held against the backend.
enum class AttemptFailure : std::uint8_t {
  /// The connect was refused, reset, unreachable or timed out: the backend is left out of
  /// selections for the pool's `deactivate_for`, passive health counts it, connect_errors too.
  Connect,
  /// The backend accepted the connection, then failed it before any answer (reset, closed, a
  /// send failed): passive health counts it.
  Exchange,
  /// A kept-alive connection the backend closed just as it was reused: a benign race that says
  /// nothing about the backend.
  ReusedConnectionClosed,
};

/// What choose() found.
enum class Choice : std::uint8_t {
  Chosen,     ///< a backend, its slot taken: connect to it
  Queued,     ///< waiting in the pool's queue: the owner hears backend_ready() or queue_timed_out()
  QueueFull,  ///< no slot, and the queue is full: answer 503 / `unavailable` at once
  None,       ///< no backend left to try
};

class Connector final : private WaitQueue::Waiter {
 public:
  /// The session, told how a wait in the queue ended (on its loop thread, never from choose()).
  class Owner {
   public:
    /// A slot is the connector's: backend() is chosen, as after Choice::Chosen.
    virtual void backend_ready() = 0;
    /// The wait reached the queue's timeout: answer 503 / `unavailable`.
    virtual void queue_timed_out() = 0;

   protected:
    ~Owner() = default;
  };

  /// `listener`: the listener the client came through (events and logs name it).
  Connector(SessionServices& services, const net::ListenerState& listener, Owner& owner);
  ~Connector() { reset(); }
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  /// Starts choosing a backend of `selector`'s pool for the client at `client` (kept by reference:
  /// the session's own address, which outlives the connector). `max_attempts`: 0 for the pool's own. `pool_stats`: this worker's counters of the pool (retries, errors).
  void begin(Selector& selector, const net::Address& client, std::uint32_t max_attempts,
             metrics::TrafficCounters* pool_stats);
  Selection& selection() { return selection_; }
  Selector& selector() { return *selector_; }

  /// Chooses the next backend and takes a slot on it (emits `selecting_server`; counts a retry
  /// when an attempt failed before), or waits for one in the pool's queue: at its front when an
  /// attempt failed before (requeue), so that a failed connect does not lose the client its place.
  Choice choose(core::TimePoint now);
  /// Waiting in the queue.
  bool queued() const { return ticket_ != nullptr; }
  /// After AttemptFailure::ReusedConnectionClosed: a fresh connection to the same backend, in the
  /// same slot, spending no attempt.
  void retry_same_backend();

  /// The socket of a new connection to the chosen backend, its connect started. On
  /// ConnectStart::Failed, `error` says why (a local shortage or the backend's refusal; see
  /// failed_locally() and failed()).
  net::UniqueFd start_connect(net::ConnectStart& started, int& error);

  /// The chosen backend took the connection (`reused`: a kept-alive one from the worker's pool, no
  /// handshake). Counts the connection and the backend's request.
  void connected(bool reused);
  /// The attempt on the chosen backend failed as `failure` says (`what`: the reason, for the log
  /// line). Gives its slot back (except for ReusedConnectionClosed, see retry_same_backend());
  /// choose() may follow for the next attempt.
  void failed(AttemptFailure failure, std::string_view what, core::TimePoint now);
  /// An attempt failed for want of a local resource (descriptors, ephemeral ports, memory, pipes;
  /// `error` its errno; `phase` "connect" or "relay"): the backend is not at fault and keeps its
  /// health. Logs `what`, counts it, emits an `error` event, and gives the slot back.
  void failed_locally(const char* what, int error, std::string_view phase);
  /// The backend is done with the request or connection: its slot is given back. Idempotent.
  void release();

  /// The backend chosen last (kept after release(), for logs and the access log); null before.
  const std::shared_ptr<Backend>& backend() const { return backend_; }
  /// This worker's counters of that backend; null before a backend was chosen.
  metrics::BackendCounters* backend_stats() const { return backend_stats_; }
  /// When the current attempt's connect started.
  core::TimePoint connect_started() const { return connect_started_; }
  /// Forgets the backend and its counters and leaves the queue (the session's next request starts
  /// afresh, or the session ends).
  void reset();

 private:
  /// Counts a retry once an attempt failed before (retries of the failed backend and the pool).
  void count_retry();
  /// Takes `backend` (its slot held) as the chosen one.
  void take(std::shared_ptr<Backend> backend);
  /// Enters the pool's queue; Queued or QueueFull, or Chosen when a slot freed meanwhile.
  Choice wait(core::TimePoint now, bool at_front);
  void granted(std::shared_ptr<Backend> backend) override;
  void on_queue_timeout();
  /// Leaves the queue if waiting there (the ticket's grant, if one is on its way, is given back).
  void leave_queue();

  SessionServices& services_;
  const net::ListenerState& listener_;
  Owner& owner_;
  Selector* selector_ = nullptr;
  Pool* pool_ = nullptr;  // the pool of backend_, whose queue gets its slot back
  Selection selection_;
  const net::Address* client_ = nullptr;  // the session's, which outlives the connector
  metrics::TrafficCounters* pool_stats_ = nullptr;
  std::shared_ptr<Backend> backend_;
  metrics::BackendCounters* backend_stats_ = nullptr;
  bool holds_slot_ = false;
  bool retry_pending_ = false;  // an attempt failed: the next choice is a retry
  core::TimePoint connect_started_{};
  std::shared_ptr<WaitQueue::Ticket> ticket_;  // while queued
  core::TimePoint queued_since_{};
  core::Timer queue_timer_;
};

}  // namespace fulcrum::upstream
