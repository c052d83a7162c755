// `refused` events: a client connection closed right after accept (allow/deny, connections per
// client IP). A refused client may be a flood, so the events are sampled per listener and reason
// (core/rate_limiter.h); the counters in /metrics count every refusal.
#pragma once

#include <string_view>

#include "events/event_bus.h"

namespace fulcrum::events {

/// Emits `refused` with `listener`, `reason` and `client` unless this listener's refusals for this
/// reason are flooding; an event that follows suppressed ones carries `"suppressed": N`. Costs one
/// relaxed load when nobody listens. Any thread.
void emit_refused(EventBus& bus, std::string_view listener, std::string_view reason, std::string_view client);

}  // namespace fulcrum::events
