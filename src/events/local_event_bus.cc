#include "events/local_event_bus.h"

#include <algorithm>
#include <ctime>
#include <exception>
#include <utility>

#include "core/log.h"

namespace fulcrum::events {

LocalEventBus::LocalEventBus(Options options) : options_(std::move(options)) {}

std::chrono::system_clock::time_point LocalEventBus::now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

std::int64_t LocalEventBus::sample_clock_ns() const {
  if (options_.clock) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(options_.clock().time_since_epoch()).count();
  }
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  // +1 s: the bucket starts full (its arrival time 0 lies a second or more in the past).
  return (static_cast<std::int64_t>(ts.tv_sec) + 1) * 1'000'000'000 + ts.tv_nsec;
}

bool LocalEventBus::sample(Event event) {
  if (!wants(event)) return false;
  if (options_.per_request_sample == 0 || !is_per_request(event)) return true;
  constexpr std::int64_t kWindow = 1'000'000'000;  // the burst: one second's worth
  const std::int64_t interval = kWindow / options_.per_request_sample;
  const std::int64_t now = sample_clock_ns();
  std::int64_t tat = sample_tat_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t next = std::max(tat, now - kWindow) + interval;
    // Full bucket: `tat` a window or more in the past. Each event moves it one interval ahead;
    // an event that would move it beyond now is over the rate.
    if (next > now) return false;
    if (sample_tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
  }
}

void LocalEventBus::emit(Event event, std::string details) {
  const auto time = now();
  std::string stamp = format_time(time);
  std::lock_guard lock(queue_mutex_);
  if (queue_.size() >= options_.queue_capacity) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  queue_.push_back(EventData{event, std::move(stamp), std::move(details)});
  if (!wake_pending_ && wake_) {
    wake_pending_ = true;
    wake_();
  }
}

LocalEventBus::SubscriptionId LocalEventBus::add(std::shared_ptr<Subscriber> subscriber) {
  std::lock_guard lock(subscribers_mutex_);
  subscriber->id = next_id_++;
  if (subscriber->all) {
    for (auto& count : counts_) count.fetch_add(1, std::memory_order_relaxed);
  } else {
    counts_[static_cast<std::size_t>(subscriber->event)].fetch_add(1, std::memory_order_relaxed);
  }
  subscribers_.push_back(subscriber);
  return subscriber->id;
}

LocalEventBus::SubscriptionId LocalEventBus::subscribe(Event event, EventCallback callback) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->event = event;
  subscriber->callback = std::move(callback);
  return add(std::move(subscriber));
}

LocalEventBus::SubscriptionId LocalEventBus::subscribe_all(EventCallback callback) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->all = true;
  subscriber->callback = std::move(callback);
  return add(std::move(subscriber));
}

void LocalEventBus::unsubscribe(SubscriptionId id) {
  std::lock_guard lock(subscribers_mutex_);
  const auto found = std::find_if(subscribers_.begin(), subscribers_.end(),
                                  [id](const auto& subscriber) { return subscriber->id == id; });
  if (found == subscribers_.end()) return;
  Subscriber& subscriber = **found;
  subscriber.active.store(false, std::memory_order_release);
  if (subscriber.all) {
    for (auto& count : counts_) count.fetch_sub(1, std::memory_order_relaxed);
  } else {
    counts_[static_cast<std::size_t>(subscriber.event)].fetch_sub(1, std::memory_order_relaxed);
  }
  subscribers_.erase(found);
}

void LocalEventBus::set_wake(std::function<void()> wake) {
  std::lock_guard lock(queue_mutex_);
  wake_ = std::move(wake);
  wake_pending_ = false;
  if (wake_ && !queue_.empty()) {
    wake_pending_ = true;
    wake_();
  }
}

std::size_t LocalEventBus::deliver_pending() {
  std::lock_guard deliver_lock(deliver_mutex_);
  std::size_t delivered = 0;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  while (true) {
    std::deque<EventData> batch;
    {
      std::lock_guard lock(queue_mutex_);
      wake_pending_ = false;
      batch.swap(queue_);
    }
    if (batch.empty()) return delivered;
    {
      // A copy per batch: callbacks may subscribe and unsubscribe while they run.
      std::lock_guard lock(subscribers_mutex_);
      subscribers = subscribers_;
    }
    for (const EventData& data : batch) {
      for (const auto& subscriber : subscribers) {
        if (!subscriber->all && subscriber->event != data.event) continue;
        if (!subscriber->active.load(std::memory_order_acquire)) continue;
        try {
          subscriber->callback(data);
        } catch (const std::exception& error) {
          // A user's callback must not take the control thread down with it.
          log::error("event callback threw", {{"event", event_name(data.event)},
                                              {"error", error.what()}});
        } catch (...) {
          log::error("event callback threw", {{"event", event_name(data.event)}});
        }
      }
      ++delivered;
    }
  }
}

}  // namespace fulcrum::events
