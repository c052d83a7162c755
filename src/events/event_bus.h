// The one bus every event goes through, to C++ callbacks, the JSON-lines event log, the admin
// stream (SSE/WebSocket) and the dashboard.
//
// Any thread may emit. Emitting appends to a bounded queue under a short lock; the control thread
// drains it and delivers, so no subscriber ever runs on a worker. Per-request events cost one
// relaxed atomic load when nobody wants them (wants()), and are sampled to `per_request_sample`
// per second when somebody does.
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
  /// Queues an event stamped now; `details` is a JSON object text. Any thread.
  virtual void emit(Event event, std::string details) = 0;
  /// Registers `callback` for `event`; it runs on the control thread. Any thread.
  virtual SubscriptionId subscribe(Event event, EventCallback callback) = 0;
  /// Registers `callback` for every event (streams, the log). Any thread.
  virtual SubscriptionId subscribe_all(EventCallback callback) = 0;
  virtual void unsubscribe(SubscriptionId id) = 0;
};

}  // namespace fulcrum::events
