#include "events/refused_event.h"

#include "events/json_text.h"

namespace fulcrum::events {

void emit_refused(EventBus& bus, core::RateLimiter& limiter, std::string_view listener, std::string_view reason,
                  std::string_view client) {
  if (!bus.wants(Event::Refused)) return;
  const auto verdict = limiter.admit(reason, core::Clock::now());
  if (!verdict.pass) return;
  JsonObject details;
  details.add("listener", listener).add("reason", reason).add("client", client);
  if (verdict.suppressed.count > 0 && verdict.suppressed.message == reason) {
    details.add("suppressed", verdict.suppressed.count);
  }
  bus.emit(Event::Refused, details.finish());
}

}  // namespace fulcrum::events
