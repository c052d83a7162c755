#include "events/refused_event.h"

#include <string>

#include "core/rate_limiter.h"
#include "events/json_text.h"

namespace fulcrum::events {

namespace {
core::RateLimiter& limiter() {
  static core::RateLimiter instance;
  return instance;
}
}  // namespace

void emit_refused(EventBus& bus, std::string_view listener, std::string_view reason, std::string_view client) {
  if (!bus.wants(Event::Refused)) return;
  // Keyed by listener and reason: a flood on one listener does not hide refusals on another.
  std::string key(listener);
  key += '\0';
  key += reason;
  const auto verdict = limiter().admit(key, core::Clock::now());
  if (!verdict.pass) return;
  JsonObject details;
  details.add("listener", listener).add("reason", reason).add("client", client);
  if (verdict.suppressed.count > 0 && verdict.suppressed.message == key) {
    details.add("suppressed", verdict.suppressed.count);
  }
  bus.emit(Event::Refused, details.finish());
}

}  // namespace fulcrum::events
