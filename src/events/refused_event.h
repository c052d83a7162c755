// `refused` events: a client connection closed right after accept (allow/deny, connections per
// client IP). A refused client may be a flood, so the events are sampled by a rate limiter that
// each listener owns (core/rate_limiter.h), keyed by reason; the counters in /metrics count every
// refusal.
#pragma once

#include <string_view>

#include "core/rate_limiter.h"
#include "events/event_bus.h"

namespace fulcrum::events {

/// How often one listener may report refusals of one reason: 10 a second, bursts of 20.
inline constexpr double kRefusedPerSecond = 10;
inline constexpr double kRefusedBurst = 20;

/// Emits `refused` with `listener`, `reason` and `client` unless `limiter` (the listener's)
/// holds this reason back; an event that follows suppressed ones carries `"suppressed": N`.
/// Callers check bus.wants(Event::Refused) first (one relaxed load while nobody listens) to skip
/// formatting the client's address. Any thread.
void emit_refused(EventBus& bus, core::RateLimiter& limiter, std::string_view listener, std::string_view reason,
                  std::string_view client);

}  // namespace fulcrum::events
