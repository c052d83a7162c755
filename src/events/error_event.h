// `error` events raised while running (descriptors exhausted, an accept or listener failure, a
// stuck worker), rate-limited per kind of failure like log lines are (core/rate_limiter.h), so a
// flood of one failure, or an attacker provoking it, cannot flood the event log or its subscribers.
#pragma once

#include <string_view>

#include "events/event_bus.h"
#include "events/json_text.h"

namespace fulcrum::events {

/// Emits `error` with `details` plus `"error": what` unless `what` (a short literal naming the
/// failure, the rate limiter's key) is flooding; an event that follows suppressed ones carries
/// `"suppressed": N`. Skipped when nobody listens. Any thread.
void emit_error(EventBus& bus, std::string_view what, JsonObject details);

}  // namespace fulcrum::events
