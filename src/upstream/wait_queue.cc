#include "upstream/wait_queue.h"

#include <algorithm>

#include "upstream/pool.h"

namespace fulcrum::upstream {

WaitQueue::Entered WaitQueue::enter(const std::shared_ptr<Ticket>& ticket, std::uint32_t capacity, bool at_front) {
  std::lock_guard lock(mutex_);
  if (waiting_.size() >= capacity) return Entered::Full;
  if (at_front) {
    waiting_.push_front(ticket);
  } else {
    waiting_.push_back(ticket);
  }
  // Sequentially consistent, like Backend::give_back_slot(): the waiter tries for a slot once more
  // after this, and whoever gives one back after its try looks at depth_ and sees the waiter.
  depth_.store(waiting_.size(), std::memory_order_seq_cst);
  return Entered::Waiting;
}

bool WaitQueue::leave(Ticket& ticket) {
  std::lock_guard lock(mutex_);
  int expected = Ticket::kWaiting;
  if (!ticket.state.compare_exchange_strong(expected, Ticket::kLeft)) return false;
  const auto found = std::find_if(waiting_.begin(), waiting_.end(),
                                  [&](const std::shared_ptr<Ticket>& waiting) { return waiting.get() == &ticket; });
  if (found != waiting_.end()) waiting_.erase(found);
  depth_.store(waiting_.size(), std::memory_order_relaxed);
  return true;
}

void WaitQueue::give_back(const std::shared_ptr<Backend>& backend) {
  backend->give_back_slot();
  if (depth_.load(std::memory_order_seq_cst) == 0 || paused()) return;
  hand_over(backend);
}

void WaitQueue::hand_over(const std::shared_ptr<Backend>& backend) {
  std::lock_guard lock(mutex_);
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    const std::uint64_t wanted = (*it)->wanted;
    if (wanted != 0 && wanted != backend->id()) continue;
    // The slot just given back may be taken already (a session that found it free): then its
    // holder gives it back later, and hands it over then.
    if (backend->retired() || !backend->try_acquire()) return;
    if (!grant(*it, backend)) backend->give_back_slot();  // cannot happen: leave() removes first
    waiting_.erase(it);
    depth_.store(waiting_.size(), std::memory_order_relaxed);
    return;
  }
}

void WaitQueue::grant_free(const PoolSnapshot& snapshot, core::TimePoint now) {
  if (depth() == 0 || paused()) return;
  std::lock_guard lock(mutex_);
  const auto& backends = snapshot.backends;
  // A backend may take waiters when it is in rotation, up (or the pool panics) and not left out
  // after a failed connect. Among those, the least loaded relative to its limit goes first.
  auto usable = [&](std::size_t i) {
    return snapshot.in_rotation(i) && (snapshot.is_up(i) || snapshot.panic) && !backends[i]->deactivated(now);
  };
  bool any_free = true;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const std::uint64_t wanted = (*it)->wanted;
    std::shared_ptr<Backend> chosen;
    const auto wanted_at = std::find_if(backends.begin(), backends.end(),
                                        [&](const std::shared_ptr<Backend>& backend) { return backend->id() == wanted; });
    if (wanted_at != backends.end()) {
      const auto i = static_cast<std::size_t>(wanted_at - backends.begin());
      if (usable(i) && backends[i]->try_acquire()) chosen = backends[i];
    } else if (any_free) {
      // Waiting for any backend, or for one that has left the pool since: any will do.
      std::vector<std::size_t> order;
      for (std::size_t i = 0; i < backends.size(); ++i) {
        if (usable(i) && !backends[i]->full()) order.push_back(i);
      }
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return backends[a]->active() < backends[b]->active();
      });
      for (const std::size_t i : order) {
        if (backends[i]->try_acquire()) {
          chosen = backends[i];
          break;
        }
      }
      any_free = chosen != nullptr;
    }
    if (!chosen) {
      ++it;
      continue;
    }
    if (!grant(*it, chosen)) chosen->give_back_slot();
    it = waiting_.erase(it);
  }
  depth_.store(waiting_.size(), std::memory_order_relaxed);
}

bool WaitQueue::grant(const std::shared_ptr<Ticket>& ticket, const std::shared_ptr<Backend>& backend) {
  int expected = Ticket::kWaiting;
  if (!ticket->state.compare_exchange_strong(expected, Ticket::kGranted)) return false;
  ticket->loop->post([this, ticket, backend] {
    if (ticket->waiter != nullptr) {
      ticket->waiter->granted(backend);
    } else {
      give_back(backend);  // the waiter left (its client went away) before the grant arrived
    }
  });
  return true;
}

}  // namespace fulcrum::upstream
