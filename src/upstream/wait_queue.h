// A pool's queue: requests (http) or connections (tcp) that found every backend they may use at
// its max_connections, or the pool paused, wait here in arrival order, across all workers (like
// HAProxy's pending connections). A slot given back goes straight to the first waiter that may
// use it, so a backend never exceeds its limit and nobody overtakes a waiter.
//
// The queue is touched only when it is needed: a session that finds a slot never takes its lock,
// and giving a slot back costs one atomic load while nobody waits. Waiters are woken on their
// own worker's loop (EventLoop::post): a grant carries a slot already taken for them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "core/event_loop.h"
#include "upstream/backend.h"

namespace fulcrum::upstream {

struct PoolSnapshot;

class WaitQueue {
 public:
  /// Who waits: a session's connector, on its worker's loop thread.
  class Waiter {
   public:
    /// A slot of `backend` is the waiter's (taken for it); called on its loop thread.
    virtual void granted(std::shared_ptr<Backend> backend) = 0;

   protected:
    ~Waiter() = default;
  };

  /// One waiting request or connection, shared by the queue and its waiter.
  struct Ticket {
    enum State : int { kWaiting, kGranted, kLeft };
    std::atomic<int> state{kWaiting};
    core::EventLoop* loop = nullptr;  ///< the waiter's loop: grants are posted to it
    Waiter* waiter = nullptr;         ///< loop thread only; null once the waiter is gone
    std::uint64_t wanted = 0;         ///< a backend id (its sticky or hashed one), or 0 for any
  };

  enum class Entered : std::uint8_t { Waiting, Full };

  /// Puts `ticket` at the back (or, for a request whose connect failed while the other backends
  /// were full, at the front: requeue). Full when `capacity` already wait.
  Entered enter(const std::shared_ptr<Ticket>& ticket, std::uint32_t capacity, bool at_front);
  /// The waiter leaves (timeout, client gone). True when it was still waiting; false when a
  /// grant is already on its way to its loop (it will find the waiter gone and give the slot back).
  bool leave(Ticket& ticket);
  /// Gives back a slot of `backend` (held by a request or connection that ended, or a grant that
  /// found its waiter gone), handing it to the first waiter that may use it.
  void give_back(const std::shared_ptr<Backend>& backend);
  /// Hands the free slots of `snapshot`'s backends to waiters, in order: after a pause ends, when
  /// backends join or recover, and now and then in case a slot freed unseen (control thread).
  void grant_free(const PoolSnapshot& snapshot, core::TimePoint now);

  /// Paused: every new request or connection waits, whatever slots are free.
  void set_paused(bool paused) { paused_.store(paused, std::memory_order_seq_cst); }
  bool paused() const { return paused_.load(std::memory_order_relaxed); }
  /// Requests or connections waiting now.
  std::size_t depth() const { return depth_.load(std::memory_order_relaxed); }

 private:
  /// Marks `ticket` granted `backend`'s slot (already taken) and posts the grant to its loop.
  /// False when the ticket is no longer waiting. Called with mutex_ held.
  bool grant(const std::shared_ptr<Ticket>& ticket, const std::shared_ptr<Backend>& backend);
  /// Hands one of `backend`'s slots to the first waiter that may use it, if a slot is free.
  void hand_over(const std::shared_ptr<Backend>& backend);

  std::mutex mutex_;
  std::deque<std::shared_ptr<Ticket>> waiting_;  // kWaiting tickets only (leave() removes)
  std::atomic<std::size_t> depth_{0};
  std::atomic<bool> paused_{false};
};

}  // namespace fulcrum::upstream
