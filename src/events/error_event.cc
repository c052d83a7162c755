#include "events/error_event.h"

#include "core/rate_limiter.h"

namespace fulcrum::events {

namespace {
core::RateLimiter& limiter() {
  static core::RateLimiter instance;
  return instance;
}
}  // namespace

void emit_error(EventBus& bus, std::string_view what, JsonObject details) {
  if (!bus.wants(Event::Error)) return;
  const auto verdict = limiter().admit(what, core::Clock::now());
  if (!verdict.pass) return;
  details.add("error", what);
  if (verdict.suppressed.count > 0 && verdict.suppressed.message == what) {
    details.add("suppressed", verdict.suppressed.count);
  }
  bus.emit(Event::Error, details.finish());
}

}  // namespace fulcrum::events
