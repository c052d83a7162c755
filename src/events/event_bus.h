// The one bus every event goes through, to C++ callbacks, the JSON-lines event log, the admin
// stream (SSE/WebSocket) and the dashboard.
//
// Any thread may emit. Emitting appends to a bounded queue under a short lock; the control thread
// drains it and delivers, so no subscriber ever runs on a worker. Per-request events are sampled
// to `per_request_sample` per second before they are built: their emitters ask sample() first,
// which costs one relaxed atomic load when nobody wants them and a clock read and a second load
// when somebody does but the sampler would leave the event out; only an event sampled in is
// built, queued and handed to the control thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "fulcrum/events.h"

namespace fulcrum::events {

class EventBus {
 public:
  using SubscriptionId = std::uint64_t;

  virtual ~EventBus() = default;

  /// True when someone would receive `event` now (callbacks, a stream client, the log file).
  /// Call before building a per-request event's details.
  virtual bool wants(Event event) const = 0;
  /// For a per-request event (events::is_per_request): true when someone wants it and the sampler
  /// lets one more through now, which this call counts; build and emit the event only then. For
  /// any other event the same as wants(). Any thread; never blocks.
  virtual bool sample(Event event) = 0;
  /// Queues an event stamped now; `details` is a JSON object text. Any thread. A per-request event
  /// is not sampled here: emit it only after sample() said yes.
  virtual void emit(Event event, std::string details) = 0;
  /// Registers `callback` for `event`; it runs on the control thread. Any thread.
  virtual SubscriptionId subscribe(Event event, EventCallback callback) = 0;
  /// Registers `callback` for every event (streams, the log). Any thread.
  virtual SubscriptionId subscribe_all(EventCallback callback) = 0;
  virtual void unsubscribe(SubscriptionId id) = 0;
};

}  // namespace fulcrum::events
