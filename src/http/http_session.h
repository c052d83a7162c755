// One client connection of a `mode: http` listener: reads requests, routes each to a pool, forwards
// it over a kept-alive (or new) backend connection, and forwards the response back, one exchange at a
// time (pipelined requests wait in the read buffer and are answered in order). Bodies stream through
// bounded buffers, never whole. A 101 turns the connection into a two-way tunnel.
//
// The session is the small owner of three parts, each with its own state and file:
//   - ClientSide (client_side.*): the client's socket, request heads, response heads and Fulcrum's
//     own answers, keep-alive, the client's timeouts and the lingering close;
//   - UpstreamExchange (upstream_exchange*.cc): one request/response exchange with a backend
//     through upstream::Connector (choose, queue, connect, send, parse, relay, reuse, failover);
//   - Tunnel (tunnel.*): the byte relay after a 101.
// The session keeps what spans them: the phase, the timer, routing (routes, hooks, limits), the
// counters and access-log record of the exchange, and the end. The parts are plain members and
// report to it by direct calls (the public section below), so the split costs no allocation and
// no virtual call per request.
//
// Owned by its worker and confined to the worker's loop thread; destroyed one loop turn after it
// ends.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "http/client_side.h"
#include "http/http_context.h"
#include "http/message.h"
#include "http/session_events.h"
#include "http/session_socket.h"
#include "http/tunnel.h"
#include "http/upstream_exchange.h"
#include "metrics/worker_metrics.h"
#include "net/session.h"
#include "net/socket.h"
#include "upstream/session_services.h"

namespace fulcrum::http {

class HttpSession final : public net::Session {
 public:
  /// `context`: the worker's newest context for the listener (the session holds it until its first
  /// request ends).
  HttpSession(upstream::SessionServices& services, net::ListenerState& listener, HttpWorkerContext& context,
              net::UniqueFd client, const net::Address& client_address);
  ~HttpSession() override;

  void start();
  void close_now() override { finish(Ending::Abort); }
  void drain(bool close_idle) override;
  /// The address the client connected to, when a PROXY header gave it (accept_proxy); otherwise
  /// the client socket's own address is used. Before start().
  void set_destination(const net::Address& address) { destination_ = address; }

  // ---- For the session's parts (ClientSide, UpstreamExchange, Tunnel, SessionSocket); loop thread.
  /// The worker's context of the generation the current request started under.
  HttpWorkerContext& context() { return *context_; }
  const std::string& listener_name() const { return context_->config().name; }
  const net::Address& client_address() const { return client_address_; }
  /// The address the client connected to (see set_destination()); getsockname() when not given.
  net::Address destination() const;
  bool ended() const { return phase_ == Phase::Ended; }
  core::TimePoint exchange_started() const { return exchange_started_; }
  /// Runs the session as far as its sockets allow (after events, a queue's grant, a send's result).
  void drive();
  /// Client socket events.
  void on_client_io(std::uint32_t events);
  /// A send queued on the loop's SendBatch completed.
  void on_send_completed();
  /// A complete request head (`head_length` bytes at the front of the client's input): route it,
  /// answer it, or start its exchange.
  void begin_exchange(const RequestHead& head, std::size_t head_length);
  /// A request refused before its head was complete (malformed, too large, cut at header_timeout):
  /// no exchange began, so this counts the request and opens one for the access log and the
  /// request/response events, with what its bytes say. Error path only.
  void refuse_request(int status, std::string_view reason);
  /// Fulcrum's own answer `status` (for 503 the unavailable hook's page, or the listener's
  /// unavailable text), then a close. `extra_fields`: header lines (each ending in CRLF) added to
  /// the answer's head.
  void answer_error(int status, std::string_view reason, std::string_view extra_fields = {});
  /// The backend's final response head: counted, reported, written for the client. False when
  /// the session answered instead (the head did not fit: 502).
  bool response_head_ready(const ResponseHead& head, core::TimePoint now, std::string_view backend,
                           std::string_view set_cookie);
  /// After a 101: the connection becomes a tunnel.
  void start_tunnel();
  /// The exchange chose `backend` (the access log names it).
  void backend_chosen(const upstream::Backend& backend);
  /// A new backend connection took `duration` to connect: counted on the listener, route and pool.
  void count_connect_time(core::Clock::duration duration);
  void finish(Ending ending);

 private:
  enum class Phase : std::uint8_t {
    Request,   // waiting for (the rest of) a request head
    Exchange,  // an exchange with a backend: queued, connecting or flowing (UpstreamExchange::Stage)
    Tunnel,    // after a 101: bytes both ways until both sides are done
    Closing,   // our last bytes go out, then a lingering close
    Ended,
  };

  bool step();
  bool step_exchange();
  /// In Phase::Exchange with request and response flowing.
  bool flowing() const { return phase_ == Phase::Exchange && exchange_.stage() == UpstreamExchange::Stage::Flowing; }
  void rearm_timer();
  void on_timer();
  /// on_timer() while the request body comes: 408 with the limit that was reached.
  void request_body_timed_out();

  /// The client is over its listener's requests_per_ip: answered 429 with Retry-After.
  bool over_request_rate();
  /// The forwarded head of `head` for the exchange (in the context's scratch string).
  void write_forwarded_head(const RequestHead& head, const Route* route, bool hook_pool, std::string_view request_id,
                            std::string_view hook_fields);
  /// Sends `response` (a whole answer of status `status`) as the exchange's answer, then a close.
  void answer_own(int status, std::string_view response, std::string_view extra_fields = {});
  void finish_exchange();
  /// A reload changed the listener's settings: each request follows the newest when it begins.
  void take_newest_settings();
  /// Enters Phase::Closing: our last bytes go out, then the lingering close.
  void begin_closing();

  // The library's hooks (session_hooks.cc).
  /// on_connection: false when it refused the connection (the session ended).
  bool connection_allowed();
  /// on_request: false when the request was answered (Respond, or a hook error); else `pool` may
  /// be set (UsePool) and `add_fields` holds header lines to add to the forwarded head.
  bool request_hook(const RequestHead& head, std::optional<std::size_t>& pool, std::string& add_fields);
  /// The unavailable hook's answer (its status, the whole response), when there is such a hook.
  std::optional<std::pair<int, std::string>> unavailable_from_hook(std::string_view reason);

  /// Starts the access-log record of the current exchange (access log on only).
  void open_exchange_record(std::string_view method, std::string_view path, std::string_view request_id,
                            std::size_t bytes_in);
  /// Writes the exchange's access-log line (exchange_record_ set) and forgets the record.
  void log_access();
  /// Counts a response of `status` sent to the client on the listener, route and pool (and on the
  /// backend when it came from the backend).
  void count_response(int status, bool from_backend);
  /// Counts the current request's whole time (head parsed to now) on the listener, route and pool.
  void count_total_time();

  upstream::SessionServices& services_;
  net::ListenerState& listener_;
  /// The worker's context for the generation of the listener's settings this session's current
  /// request started under (held: acquire()d); the next request takes the newest generation.
  HttpWorkerContext* context_;
  net::Address client_address_;
  std::optional<net::Address> destination_;  // see set_destination()
  std::string client_ip_;  // the IP as text, for X-Forwarded-For and Forwarded
  /// The pool on_connection chose for every request of this connection (none: the routes').
  std::optional<std::size_t> forced_pool_;
  // Only while the access log is on (null otherwise): what its line for this exchange says.
  std::unique_ptr<ExchangeRecord> exchange_record_;
  core::Timer timer_;
  Phase phase_ = Phase::Request;

  // Metrics: this worker's blocks for the listener (whole session), and for the route and pool
  // of the current exchange (null outside one). Single-writer counters, no RMW.
  metrics::TrafficCounters* listener_stats_ = nullptr;
  metrics::TrafficCounters* route_stats_ = nullptr;
  metrics::TrafficCounters* pool_stats_ = nullptr;
  core::TimePoint exchange_started_{};  // the request head was parsed (latency's start)

  // The parts (declared after what they use: constructed after it, destroyed before it).
  SendGate gate_{*this};
  ClientSide client_;
  UpstreamExchange exchange_;
  Tunnel tunnel_{*this, client_, exchange_};
};

}  // namespace fulcrum::http
