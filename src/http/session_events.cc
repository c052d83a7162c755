#include "http/session_events.h"

#include <algorithm>

#include "events/json_text.h"
#include "http/message.h"
#include "http/syntax.h"

namespace fulcrum::http {
namespace {

double to_millis(core::Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

}  // namespace

std::string listener_label(const net::ListenerState& listener) { return listener.label(); }

void emit_request(events::EventBus& bus, const RequestHead& head, std::string_view client,
                  const net::ListenerState& listener, std::string_view request_id) {
  bus.emit(Event::Request, events::JsonObject()
                               .add("method", head.method)
                               .add("path", head.target)
                               .add("host", head.host)
                               .add("client", client)
                               .add("listener", listener_label(listener))
                               .add("request_id", request_id)
                               .finish());
}

RefusedRequestLine read_refused_request_line(std::string_view received) {
  std::size_t at = 0;
  while (at < received.size() && (received[at] == '\r' || received[at] == '\n')) ++at;
  RefusedRequestLine line;
  const std::size_t method_begin = at;
  const std::size_t method_end = std::min(received.size(), method_begin + kMaxRefusedMethod);
  while (at < method_end && syntax::is_token_char(received[at])) ++at;
  // A method is only known once the space after it arrived, and only if nothing else came first.
  if (at == method_begin || at == received.size() || received[at] != ' ') return line;
  line.method = received.substr(method_begin, at - method_begin);
  const std::size_t target_begin = ++at;
  const std::size_t target_end = std::min(received.size(), target_begin + kMaxRefusedTarget);
  while (at < target_end && received[at] > 0x20 && received[at] < 0x7f) ++at;
  line.target = received.substr(target_begin, at - target_begin);
  return line;
}

void emit_refused_request(events::EventBus& bus, const RefusedRequestLine& line, std::string_view client,
                          const net::ListenerState& listener, std::string_view request_id) {
  bus.emit(Event::Request, events::JsonObject()
                               .add("method", line.method.empty() ? std::string_view("-") : line.method)
                               .add("path", line.target.empty() ? std::string_view("-") : line.target)
                               .add("host", "-")
                               .add("client", client)
                               .add("listener", listener_label(listener))
                               .add("request_id", request_id)
                               .finish());
}

void emit_response(events::EventBus& bus, int status, std::string_view backend,
                   core::Clock::duration time_to_first_byte, std::string_view request_id) {
  events::JsonObject details;
  details.add("status", status);
  if (!backend.empty()) details.add("backend", backend);
  details.add_millis("time_to_first_byte_ms", to_millis(time_to_first_byte));
  if (!request_id.empty()) details.add("request_id", request_id);
  bus.emit(Event::Response, details.finish());
}

void log_exchange(events::AccessLog& log, unsigned shard, const ExchangeRecord& record,
                  std::string_view client, const net::ListenerState& listener,
                  core::TimePoint now) {
  const std::string label = listener_label(listener);
  events::AccessRecord line;
  line.time = std::chrono::system_clock::now();
  line.client = client;
  line.listener = label;
  line.method = record.method;
  line.path = record.path;
  line.status = record.status;
  line.backend = record.backend;
  line.bytes_in = record.bytes_in;
  line.bytes_out = record.bytes_out;
  line.duration_ms = to_millis(now - record.started);
  line.request_id = record.request_id;
  log.log(shard, line);
}

}  // namespace fulcrum::http
