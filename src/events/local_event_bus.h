// The in-process EventBus: any thread emits into one bounded queue; whoever owns delivery (the
// control thread, woken through `wake`) calls deliver_pending() and runs the callbacks.
//
// Costs. wants() is one relaxed load of a per-event subscriber count. emit() reads the clock,
// formats the time and appends to the queue under a mutex held for a push; a full queue drops
// the event and counts it, so a worker never waits for a slow subscriber. Per-request events
// (request, response, selecting_server) are sampled before they are built: sample() passes them
// through a lock-free token bucket (GCRA: one atomic "theoretical arrival time") that lets
// `per_request_sample` of them per second through, a burst of one second's worth. An event left
// out costs a coarse clock read and a relaxed load of a cache line written only when an event
// passes (at most `per_request_sample` times a second), so workers do not contend on it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "events/event_bus.h"
#include "events/event_time.h"

namespace fulcrum::events {

class LocalEventBus final : public EventBus {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  struct Options {
    /// Events waiting for delivery at most; beyond, emit() drops and counts.
    std::size_t queue_capacity = 65536;
    /// Per-request events per second that reach subscribers; 0 = no limit.
    std::uint32_t per_request_sample = 100;
    /// The time source of stamps and of sampling; system_clock::now when empty (tests inject).
    WallClock clock;
  };

  explicit LocalEventBus(Options options);
  LocalEventBus() : LocalEventBus(Options{}) {}
  ~LocalEventBus() override = default;
  LocalEventBus(const LocalEventBus&) = delete;
  LocalEventBus& operator=(const LocalEventBus&) = delete;

  bool wants(Event event) const override {
    return counts_[static_cast<std::size_t>(event)].load(std::memory_order_relaxed) > 0;
  }
  bool sample(Event event) override;
  void emit(Event event, std::string details) override;
  SubscriptionId subscribe(Event event, EventCallback callback) override;
  SubscriptionId subscribe_all(EventCallback callback) override;
  /// After it returns the callback is not started again (one already running on the delivering
  /// thread finishes). Unknown ids are ignored. Any thread, callbacks included.
  void unsubscribe(SubscriptionId id) override;

  /// Called (under the bus's queue lock, so keep it short: e.g. core::EventLoop::post) when an
  /// event is queued and no delivery is pending yet; the callee arranges for deliver_pending()
  /// to run. Empty: events wait until someone calls deliver_pending(). Any thread.
  void set_wake(std::function<void()> wake);

  /// Runs every subscriber's callback for each queued event, in emit order, until the queue is
  /// empty (events emitted by callbacks included). Returns how many events were delivered. Call
  /// from one thread at a time: the control thread while it runs, else the owner (before start,
  /// after stop).
  std::size_t deliver_pending();

  /// Events dropped because the queue was full.
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Subscriber {
    SubscriptionId id = 0;
    bool all = false;
    Event event = Event::Start;
    EventCallback callback;
    std::atomic<bool> active{true};
  };

  std::chrono::system_clock::time_point now() const;
  /// Nanoseconds on the sampler's clock: the injected clock when there is one, else the coarse
  /// monotonic clock (a few ns; its tick of a few ms is far below the bucket's second).
  std::int64_t sample_clock_ns() const;
  SubscriptionId add(std::shared_ptr<Subscriber> subscriber);

  const Options options_;
  std::array<std::atomic<std::uint32_t>, kEventCount> counts_{};

  std::mutex queue_mutex_;
  std::deque<EventData> queue_;
  std::function<void()> wake_;
  bool wake_pending_ = false;

  /// The sampler: when the bucket would be full again (ns on sample_clock_ns()). An event passes
  /// when that lies less than a second ahead, and moves it one interval further. Its own cache
  /// line, away from the subscriber counts every request reads.
  alignas(64) std::atomic<std::int64_t> sample_tat_{0};

  mutable std::mutex subscribers_mutex_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  SubscriptionId next_id_ = 1;

  std::mutex deliver_mutex_;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace fulcrum::events
