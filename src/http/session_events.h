// What an HTTP session tells the event bus and the access log about its exchanges. Kept apart
// from http_session.cc so that the session only marks the points where things happen; every
// emit_* call here is made only when the sampler let the event through (EventBus::sample: someone
// listens, and the per-request rate allows one more), log_exchange only when the access log is on.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "events/access_log.h"
#include "events/event_bus.h"
#include "net/listener_state.h"

namespace fulcrum::http {

struct RequestHead;

/// One exchange as the access log will write it. Allocated per request only while the access log
/// is on, so that a session without it carries a null pointer, not four strings.
struct ExchangeRecord {
  core::TimePoint started{};
  std::string method;
  std::string path;
  std::string request_id;
  std::string backend;
  int status = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

/// The listener as events and logs name it: its name, or its bound address when unnamed.
std::string listener_label(const net::ListenerState& listener);

/// `request`: {method, path, host, client, listener, request_id}.
void emit_request(events::EventBus& bus, const RequestHead& head, std::string_view client,
                  const net::ListenerState& listener, std::string_view request_id);

/// What the bytes of a request refused before its head was complete (malformed, too large, cut at
/// header_timeout) say about it: views into those bytes, empty when they do not say.
struct RefusedRequestLine {
  /// The token before the first space of the request line, when it is a method token of at most
  /// kMaxRefusedMethod bytes.
  std::string_view method;
  /// The visible bytes after the method, up to the next space or line end or as far as they
  /// arrived, at most kMaxRefusedTarget of them.
  std::string_view target;
};
inline constexpr std::size_t kMaxRefusedMethod = 64;
inline constexpr std::size_t kMaxRefusedTarget = 1024;

/// Reads method and target off `received` (every byte of the request so far; leading empty lines
/// are skipped as the parser skips them). Only token bytes and visible ASCII pass, so what it
/// returns is safe to print in a log line. Pure.
RefusedRequestLine read_refused_request_line(std::string_view received);

/// `request` for a refused request: as emit_request, with `-` for what is unknown (host always).
void emit_refused_request(events::EventBus& bus, const RefusedRequestLine& line, std::string_view client,
                          const net::ListenerState& listener, std::string_view request_id);
/// `response`: {status, backend, time_to_first_byte_ms, request_id}; `backend` empty when
/// Fulcrum answered itself.
void emit_response(events::EventBus& bus, int status, std::string_view backend,
                   core::Clock::duration time_to_first_byte, std::string_view request_id);

/// Writes `record` to the access log as ending `now`.
void log_exchange(events::AccessLog& log, unsigned shard, const ExchangeRecord& record,
                  std::string_view client, const net::ListenerState& listener,
                  core::TimePoint now);

}  // namespace fulcrum::http
