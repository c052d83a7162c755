#include "http/client_timeouts.h"

#include <algorithm>

namespace fulcrum::http {

core::TimePoint request_head_deadline(const ListenerConfig& config, const HeadWait& wait) {
  // Before the first byte of a request: header_timeout on a new connection, keepalive_timeout
  // between requests. Once a head has begun: header_timeout from its first byte, or
  // request_timeout (head and body) when that is sooner.
  if (wait.idle && wait.served_before) return wait.started + config.keepalive_timeout;
  core::TimePoint deadline = wait.started + config.header_timeout;
  if (config.request_timeout.count() > 0 && wait.bytes_held) {
    deadline = std::min(deadline, wait.started + config.request_timeout);
  }
  return deadline;
}

core::TimePoint request_body_deadline(const ListenerConfig& config, core::TimePoint last_activity,
                                      std::optional<core::TimePoint> rate_deadline, core::TimePoint request_started) {
  core::TimePoint deadline = last_activity + config.body_timeout;
  if (rate_deadline) deadline = std::min(deadline, *rate_deadline);
  if (config.request_timeout.count() > 0) deadline = std::min(deadline, request_started + config.request_timeout);
  return deadline;
}

std::string_view request_body_timeout_reason(const ListenerConfig& config, core::TimePoint now,
                                             std::optional<core::TimePoint> rate_deadline,
                                             core::TimePoint request_started) {
  if (config.request_timeout.count() > 0 && now >= request_started + config.request_timeout) {
    return "request not received within request_timeout";
  }
  if (rate_deadline && now >= *rate_deadline) return "request body slower than body_min_rate";
  return "request body stalled";
}

}  // namespace fulcrum::http
