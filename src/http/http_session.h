// One client connection of a `mode: http` listener: reads requests, routes each to a pool, forwards
// it over a kept-alive (or new) backend connection, and forwards the response back, one exchange at a
// time (pipelined requests wait in the read buffer and are answered in order). Bodies stream through
// bounded buffers, never whole. A 101 turns the connection into a two-way tunnel.
//
// Owned by its worker and confined to the worker's loop thread; destroyed one loop turn after it
// ends. Readiness is tracked per socket (edge-triggered epoll): a read that returns less than it
// asked for means the socket is drained, so no syscall is spent on an EAGAIN.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "http/body_framing.h"
#include "http/body_rate.h"
#include "http/message.h"
#include "http/session_events.h"
#include "http/session_socket.h"
#include "metrics/worker_metrics.h"
#include "net/socket.h"
#include "net/session.h"
#include "upstream/connector.h"
#include "upstream/selector.h"
#include "upstream/session_services.h"
#include "upstream/upstream_connection.h"

namespace fulcrum::http {

class HttpWorkerContext;
class RequestParser;
class ResponseParser;

class HttpSession final : public net::Session,
                          private upstream::UpstreamConnection::Owner,
                          private upstream::Connector::Owner {
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

  // For the session's sockets (SessionSocket, SendGate); loop thread.
  const std::string& listener_name() const;
  /// A queued send completed: drives the session on.
  void on_send_completed();

 private:
  enum class Phase : std::uint8_t {
    Request,     // waiting for (the rest of) a request head
    Queued,      // waiting in the pool's queue for a backend's slot (or for the pool's pause to end)
    Connecting,  // a new backend connection is being set up
    Exchange,    // request and response flowing
    Tunnel,      // after a 101: bytes both ways until both sides are done
    Closing,     // our last bytes go out, then a lingering close
    Ended,
  };

  struct ClientEndpoint final : core::IoHandler {
    HttpSession* session = nullptr;
    void on_io(std::uint32_t events) override { session->on_client_io(events); }
  };
  // Event entry points.
  void on_client_io(std::uint32_t events);
  void on_upstream_io(upstream::UpstreamConnection& connection, std::uint32_t events) override;
  void on_timer();
  bool sending() const { return gate_.sending(); }
  void drive();
  bool step();
  void rearm_timer();
  /// The request side's deadline while its body comes: body_timeout of silence, body_min_rate,
  /// request_timeout, whichever is first.
  core::TimePoint request_body_deadline();
  /// on_timer() while the request body comes: 408 with the limit that was reached.
  void request_body_timed_out();

  // Socket I/O with readiness flags (session_socket.h), and the counters of the bytes.
  Io read_client();
  Io read_upstream();
  static bool to_backend(SendSite site) { return site <= SendSite::TunnelToBackend; }
  /// Sends `first` then `second` (either may be empty) in one syscall, or queues them on the
  /// loop's SendBatch and returns Blocked until the session is driven again.
  Io send_parts(SendSite site, std::string_view first, std::string_view second, std::size_t& sent);
  Io send(SendSite site, const char* data, std::size_t size, std::size_t& sent) {
    return send_parts(site, {data, size}, {}, sent);
  }

  // The request side.
  bool parse_request();
  void begin_exchange(const RequestHead& head, std::size_t head_length);
  /// What the request itself says about the backend: the hash key, the sticky cookie.
  void choose_by_request(const RequestHead& head, const PoolConfig& pool);
  void set_sticky_cookie(const upstream::Backend& backend);
  /// The client is over its listener's requests_per_ip: answered 429 with Retry-After.
  bool over_request_rate();
  void dispatch();
  /// Uses the backend the connector chose: a kept-alive connection to it, or a new one.
  void use_chosen_backend();
  // Connector::Owner: how a wait in the pool's queue ended.
  void backend_ready() override;
  void queue_timed_out() override;
  /// Opens a new connection to the backend the connector chose.
  void connect_to_chosen();
  /// The connect failed for want of a local resource (`error` is its errno): 503, the backend
  /// untouched, an `error` event.
  void connect_failed_locally(int error);
  void on_connected();
  bool pump_request();
  bool retry_possible() const;
  bool request_body_over_limit() const;
  void upstream_failed(const char* what, int error_status);
  /// Whether the pool's outlier detection counts 5xx answers as failures (count_5xx).
  bool counts_5xx();

  // The response side.
  bool pump_response();
  /// Handles a complete response head; false when the session left the exchange (error, tunnel).
  bool on_response_head(const ResponseHead& head, std::size_t head_length);
  /// The backend's whole response is in: counts the request out of the backend's in-flight total.
  void response_received();
  bool flush_client();
  void finish_exchange();
  /// A reload changed the listener's settings: each request follows the newest when it begins.
  void take_newest_settings();
  /// The exchange is done with its backend: the slot goes back, the connection to the worker's
  /// keep-alive pool (`reusable`) or closed.
  void release_upstream(bool reusable);
  /// Closes the backend connection, or keeps it for reuse (`reusable`); the slot stays held.
  void close_upstream_connection(bool reusable);

  // Tunnel (after 101) and endings.
  void start_tunnel();
  bool pump_tunnel();
  /// One direction of the tunnel: bytes in `pending` go out at `site`, more come from `read`, and
  /// the end of input becomes shutdown(SHUT_WR) on `peer_fd`. False when the session ended.
  bool pump_tunnel_direction(core::Buffer& pending, SendSite site, Io (HttpSession::*read)(), int peer_fd,
                             bool& eof_sent, bool& progress);
  /// Fulcrum's own answer `status` (for 503 the unavailable hook's page, or the listener's
  /// unavailable text), then a close. `extra_fields`: header lines (each ending in CRLF) added to
  /// the answer's head.
  void answer_error(int status, std::string_view reason, std::string_view extra_fields = {});
  /// Sends `response` (a whole answer of status `status`) as the exchange's answer, then a close.
  void answer_own(int status, std::string_view response, std::string_view extra_fields = {});

  // The library's hooks (session_hooks.cc).
  /// on_connection: false when it refused the connection (the session ended).
  bool connection_allowed();
  /// on_request: false when the request was answered (Respond, or a hook error); else `pool` may
  /// be set (UsePool) and `add_fields` holds header lines to add to the forwarded head.
  bool request_hook(const RequestHead& head, std::optional<std::size_t>& pool, std::string& add_fields);
  /// The unavailable hook's answer (its status, the whole response), when there is such a hook.
  std::optional<std::pair<int, std::string>> unavailable_from_hook(std::string_view reason);
  /// answer_error() for a request refused before its head was complete (malformed, too large, cut
  /// at header_timeout): no exchange began, so this counts the request and opens one for the
  /// access log and the request/response events, with what its bytes say. Error path only.
  void refuse_request(int status, std::string_view reason);
  /// Enters Phase::Closing: our last bytes go out, then the lingering close, each within
  /// kLingerLimit of its start (closing_since_), however long ago the client last spoke.
  void begin_closing();
  bool linger();
  void finish(Ending ending);
  /// Starts the access-log record of the current exchange (access log on only).
  void open_exchange_record(std::string_view method, std::string_view path, std::string_view request_id,
                            std::size_t bytes_in);
  /// Writes the exchange's access-log line (exchange_record_ set) and forgets the record.
  void log_access();

  upstream::SessionServices& services_;
  net::ListenerState& listener_;
  /// The worker's context for the generation of the listener's settings this session's current
  /// request started under (held: acquire()d); the next request takes the newest generation.
  HttpWorkerContext* context_;
  net::UniqueFd client_;
  net::Address client_address_;
  std::optional<net::Address> destination_;  // see set_destination()
  std::string client_ip_;  // the IP as text, for X-Forwarded-For and Forwarded
  // Only while the access log is on (null otherwise): what its line for this exchange says.
  std::unique_ptr<ExchangeRecord> exchange_record_;
  ClientEndpoint client_endpoint_;
  SendGate gate_{*this};
  SessionSocket client_socket_{gate_, /*ready=*/true};
  SessionSocket upstream_socket_{gate_, /*ready=*/false};
  core::Timer timer_;
  Phase phase_ = Phase::Request;

  // Client socket state.
  core::Buffer client_in_;   // request bytes read (head, body, pipelined requests)
  core::Buffer client_out_;  // a response head or Fulcrum's own response, waiting to be sent
  std::unique_ptr<RequestParser> own_request_parser_;  // only for heads that span several reads
  core::TimePoint request_started_{};                   // first byte of the current head

  // The current exchange.
  upstream::Selector* selector_ = nullptr;
  /// The pool on_connection chose for every request of this connection (none: the routes').
  std::optional<std::size_t> forced_pool_;
  /// The current exchange's backend: chosen, its slot held, connected, each failure accounted for.
  upstream::Connector connector_;
  std::unique_ptr<upstream::UpstreamConnection> upstream_;
  core::Buffer request_out_;  // the rewritten request head, kept until the response starts (retries)
  std::size_t request_head_sent_ = 0;
  BodyTracker request_body_{BodyFraming{}};
  std::size_t request_body_pending_ = 0;  // body bytes at the front of client_in_ not yet sent
  std::uint64_t request_body_sent_ = 0;
  BodyRateGuard body_rate_;  // body_min_rate of the current request body
  bool request_done_ = false;
  // A backend of this exchange accepted the connection and then failed it (closed, reset) before
  // any response: once no backend is left, the answer is 502 (one was reached), not 503.
  bool reached_backend_failed_ = false;
  Method method_ = Method::Get;
  HttpVersion client_version_ = HttpVersion::Http11;
  bool client_keep_alive_ = true;
  bool upgrade_requested_ = false;
  std::unique_ptr<ResponseParser> own_response_parser_;
  bool response_head_done_ = false;
  bool response_started_ = false;  // a byte of the final response went to the client
  BodyTracker response_body_{BodyFraming{}};
  std::size_t response_body_pending_ = 0;  // body bytes at the front of the upstream buffer
  bool response_done_ = false;
  bool upstream_reusable_ = false;
  bool response_until_close_ = false;
  bool close_after_response_ = false;
  bool upstream_eof_sent_ = false;  // tunnel: the client's FIN was passed on
  bool client_eof_sent_ = false;    // tunnel: the backend's FIN was passed on
  bool lingering_ = false;
  std::uint64_t requests_served_ = 0;
  std::string set_cookie_;  // a sticky cookie to set on this response
  std::string sticky_cookie_name_;  // copies: the snapshot and the request head may go meanwhile
  std::string sticky_cookie_sent_;
  core::TimePoint request_sent_at_{};
  core::TimePoint closing_since_{};  // Phase::Closing began, or its lingering close did

  // Metrics: this worker's blocks for the listener (whole session), and for the route, pool and
  // backend of the current exchange (null outside one). Single-writer counters, no RMW.
  metrics::TrafficCounters* listener_stats_ = nullptr;
  metrics::TrafficCounters* route_stats_ = nullptr;
  metrics::TrafficCounters* pool_stats_ = nullptr;
  core::TimePoint exchange_started_{};  // the request head was parsed (latency's start)
  /// Counts a response of `status` sent to the client on the listener, route and pool (and on the
  /// backend when it came from the backend).
  void count_response(int status, bool from_backend);
  /// Counts the current request's whole time (head parsed to now) on the listener, route and pool.
  void count_total_time();
};

}  // namespace fulcrum::http
