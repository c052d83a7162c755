// The upstream exchange of an HTTP session: one request and its response with a backend. It
// chooses the backend through upstream::Connector (hash key and sticky cookie from the request,
// failover, the pool's queue), takes a kept-alive connection from the worker's pool or connects,
// sends the rewritten head and the body, reads and parses the response head, relays the response
// body, and at the end gives the connection back to the pool (or closes it) and the slot back.
// Every failure is reported once to the connector (its bookkeeping) and, once no retry is left, to
// the session as the answer the client gets.
//
// Why apart: this is the state of one exchange with one backend (the rewritten head kept for a
// retry, both bodies' framing, the backend socket's readiness), reset for every request; the
// client side outlives it and the tunnel takes over its connection after a 101.
//
// Owned by its HttpSession (a plain member), confined to the worker's loop thread. It reports to
// the session (response head ready, failed, aborted) by direct calls, and streams the bodies
// through the ClientSide's input buffer and send_response().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/buffer.h"
#include "core/clock.h"
#include "fulcrum/config.h"
#include "http/body_framing.h"
#include "http/message.h"
#include "http/session_socket.h"
#include "metrics/worker_metrics.h"
#include "net/address.h"
#include "net/listener_state.h"
#include "upstream/connector.h"
#include "upstream/selector.h"
#include "upstream/session_services.h"
#include "upstream/upstream_connection.h"

namespace fulcrum::http {

class ClientSide;
class HttpSession;
class ResponseParser;

class UpstreamExchange final : private upstream::UpstreamConnection::Owner, private upstream::Connector::Owner {
 public:
  /// Where the exchange stands while the session is in Phase::Exchange (or Phase::Tunnel: Flowing).
  enum class Stage : std::uint8_t {
    Idle,        // no exchange
    Queued,      // waiting in the pool's queue for a backend's slot (or for the pool's pause to end)
    Connecting,  // a new backend connection is being set up
    Flowing,     // request and response flowing (or tunnel bytes)
  };

  UpstreamExchange(HttpSession& session, ClientSide& client, SendGate& gate, upstream::SessionServices& services,
                   const net::ListenerState& listener);
  ~UpstreamExchange();
  UpstreamExchange(const UpstreamExchange&) = delete;
  UpstreamExchange& operator=(const UpstreamExchange&) = delete;

  Stage stage() const { return stage_; }
  SessionSocket& socket() { return socket_; }
  const SessionSocket& socket() const { return socket_; }

  // ---- A request begins.
  /// A request head was parsed: what its exchange needs to know of it, before anything may answer.
  void begin_request(const RequestHead& head);
  /// The request goes to `selector`'s pool: starts choosing (what the request itself says about
  /// the backend: the hash key, the sticky cookie).
  void choose_pool(upstream::Selector& selector, const net::Address& client, std::uint32_t max_attempts,
                   metrics::TrafficCounters* pool_stats, const RequestHead& head, const PoolConfig& pool);
  /// Keeps the rewritten head (for retries); false when it does not fit a buffer (the caller
  /// answers 431).
  bool take_request_head(std::string_view head_out);
  /// The request body is framed as `framing` says.
  void set_request_body(const BodyFraming& framing) { request_body_ = BodyTracker(framing); }
  bool request_body_complete() const { return request_body_.complete(); }
  /// Starts the exchange: a backend now, or from the pool's queue (Stage::Queued).
  void start();
  /// A request was refused before its head was complete: no body of it went anywhere.
  void refused() { request_body_sent_ = 0; }
  /// The pool of the current (or last) request, for the `unavailable` hook; null before the first.
  upstream::Selector* selector() const { return selector_; }

  // ---- While flowing (Stage::Flowing): the session's step.
  /// Sends the request head and body on. True on progress (or when the session left the exchange).
  bool pump_request();
  /// Reads the response head, then relays its body to the client. Same contract.
  bool pump_response();
  /// The request went out whole.
  bool request_sent() const { return request_done_; }
  bool response_head_done() const { return response_head_done_; }
  /// The whole response is in and passed to the client's socket.
  bool response_complete() const { return response_done_ && response_body_pending_ == 0; }
  /// The backend answered before the whole request body came (an early 413, say): the connection's
  /// framing is lost, it is not reused.
  void give_up_reuse() { reusable_ = false; }

  // ---- Time.
  /// When the backend last moved bytes (or the connect started).
  core::TimePoint activity() const { return socket_.activity; }
  /// Request body bytes we hold that the backend has not taken (or the head is not yet out).
  bool holds_request_bytes() const {
    return request_head_sent_ < request_out_.size() || request_body_pending_ > 0;
  }
  /// The deadline of the current stage (Connecting or Flowing with the request sent).
  core::TimePoint deadline() const;
  /// on_timer() at deadline(): connect timeout (retry or 503), response timeout (504), a stalled
  /// response (cut).
  void timed_out();

  // ---- The end of an exchange.
  /// Tunnel: the backend connection's socket and the bytes it sent.
  int upstream_fd() const { return upstream_->fd(); }
  core::Buffer& upstream_buffer() { return upstream_->buffer(); }
  /// Reads from the backend; counts the bytes on the backend and the pool.
  Io read_upstream();
  /// Sends to the backend; counts the bytes on the backend and the pool.
  Io send_upstream(SendSite site, std::string_view first, std::string_view second, std::size_t& sent);
  /// The exchange is done with its backend: the slot goes back, the connection to the worker's
  /// keep-alive pool (`reusable`) or closed.
  void release_upstream(bool reusable);
  /// The exchange ended with a whole response: the connection is reused if it may be. Forgets the
  /// backend and the request's buffers.
  void finish();
  /// The session ends: the connection closed, the slot given back, out of the queue.
  void end();
  /// The request's head buffer goes back to the worker (the tunnel no longer needs it).
  void release_request_buffer(bool force);
  std::uint64_t request_body_sent() const { return request_body_sent_; }
  metrics::BackendCounters* backend_stats() const { return connector_.backend_stats(); }

 private:
  // Events: the backend connection's (UpstreamConnection::Owner), the queue's (Connector::Owner).
  void on_upstream_io(upstream::UpstreamConnection& connection, std::uint32_t events) override;
  void backend_ready() override;
  void queue_timed_out() override;

  /// Chooses a backend (the first, or the next after a failure) and uses it, or waits in the queue.
  void dispatch();
  void choose_by_request(const RequestHead& head, const PoolConfig& pool);
  void set_sticky_cookie(const upstream::Backend& backend);
  /// Uses the backend the connector chose: a kept-alive connection to it, or a new one.
  void use_chosen_backend();
  void connect_to_chosen();
  /// The connect failed for want of a local resource (`error` is its errno): 503, the backend
  /// untouched, an `error` event.
  void connect_failed_locally(int error);
  void on_connected();
  bool retry_possible() const;
  bool request_body_over_limit() const;
  /// The attempt failed (`what` for the log): held against the backend as the stage says, then
  /// a retry when the request can be sent again, else `error_status` (503 while connecting).
  void upstream_failed(const char* what, int error_status);
  /// Whether the pool's outlier detection counts 5xx answers as failures (count_5xx).
  bool counts_5xx() const;
  /// Handles a complete response head; false when the session left the exchange (error, tunnel).
  bool on_response_head(const ResponseHead& head, std::size_t head_length);
  /// The backend's whole response is in: counts the request out of the backend's in-flight total.
  void response_received();
  /// Closes the backend connection, or keeps it for reuse (`reusable`); the slot stays held.
  void close_upstream_connection(bool reusable);

  HttpSession& session_;
  ClientSide& client_;
  Stage stage_ = Stage::Idle;
  upstream::Selector* selector_ = nullptr;
  metrics::TrafficCounters* pool_stats_ = nullptr;  // this worker's counters of the request's pool
  /// The current exchange's backend: chosen, its slot held, connected, each failure accounted for.
  upstream::Connector connector_;
  std::unique_ptr<upstream::UpstreamConnection> upstream_;
  SessionSocket socket_;

  // The request.
  core::Buffer request_out_;  // the rewritten request head, kept until the response starts (retries)
  std::size_t request_head_sent_ = 0;
  BodyTracker request_body_{BodyFraming{}};
  std::size_t request_body_pending_ = 0;  // body bytes at the front of the client's input not yet sent
  std::uint64_t request_body_sent_ = 0;
  bool request_done_ = false;
  // A backend of this exchange accepted the connection and then failed it (closed, reset) before
  // any response: once no backend is left, the answer is 502 (one was reached), not 503.
  bool reached_backend_failed_ = false;
  Method method_ = Method::Get;
  bool upgrade_requested_ = false;
  core::TimePoint request_sent_at_{};
  std::string sticky_cookie_name_;  // copies: the snapshot and the request head may go meanwhile
  std::string sticky_cookie_sent_;
  std::string set_cookie_;  // a sticky cookie to set on this response

  // The response.
  std::unique_ptr<ResponseParser> own_response_parser_;  // only for heads that span several reads
  bool response_head_done_ = false;
  BodyTracker response_body_{BodyFraming{}};
  std::size_t response_body_pending_ = 0;  // body bytes at the front of the upstream buffer
  bool response_done_ = false;
  bool reusable_ = false;
  bool response_until_close_ = false;
};

}  // namespace fulcrum::http
