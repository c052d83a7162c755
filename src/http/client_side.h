// The client side of an HTTP session: the client's socket and what belongs to the client
// connection across its requests. It reads and parses request heads (the worker's shared parser
// for a head that arrives in one read, a parser of its own for one that spans reads), writes
// response heads and Fulcrum's own answers to the client, keeps the client's timeouts (header,
// keep-alive, body, body_min_rate, request_timeout, the lingering close) and decides keep-alive.
//
// Why apart: these are the client's facts and clocks, the same whether a backend answers, Fulcrum
// answers, or the connection became a tunnel. The upstream exchange streams a request body out of
// input() and a response body in behind the head (send_response()), so bodies are never copied.
//
// Owned by its HttpSession (a plain member), confined to the worker's loop thread. It reports to
// the session (head ready, refused, ended) by direct calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "fulcrum/config.h"
#include "http/body_rate.h"
#include "http/message.h"
#include "http/session_socket.h"
#include "metrics/worker_metrics.h"
#include "net/socket.h"

namespace fulcrum::http {

class HttpSession;
class RequestParser;
struct ExchangeRecord;

class ClientSide {
 public:
  ClientSide(HttpSession& session, SendGate& gate, net::UniqueFd fd, metrics::TrafficCounters& listener_stats,
             const ListenerConfig& config);
  ~ClientSide();
  ClientSide(const ClientSide&) = delete;
  ClientSide& operator=(const ClientSide&) = delete;

  int fd() const { return fd_.get(); }
  /// What the session registers with the loop for the client socket's events.
  core::IoHandler& endpoint() { return endpoint_; }
  SessionSocket& socket() { return socket_; }
  const SessionSocket& socket() const { return socket_; }
  /// The access-log record bytes sent to the client are added to (null: the log is off).
  void set_record(ExchangeRecord* record) { record_ = record; }

  /// The connection was accepted at `now`: header_timeout runs from here.
  void begin_connection(core::TimePoint now) { socket_.activity = request_started_ = now; }

  // ---- Requests.
  /// Reads and parses the next request head (Phase::Request). Reports a complete head to the
  /// session (begin_exchange), a bad one (refuse_request), the client's close (finish). True on
  /// progress.
  bool parse_request();
  /// Nothing of a next request has come (idle between requests, or before the first).
  bool idle() const { return input_.empty() && !own_parser_; }
  core::TimePoint request_started() const { return request_started_; }
  /// The deadline while a head is awaited: header_timeout, keepalive_timeout between requests,
  /// request_timeout once a head has begun (when sooner).
  core::TimePoint request_deadline(const ListenerConfig& config) const;
  /// A request head was parsed: its client-side facts for the exchange to come.
  void begin_request(const RequestHead& head) {
    version_ = head.version;
    keep_alive_ = head.keep_alive;
    response_started_ = false;
  }
  HttpVersion version() const { return version_; }
  /// The head (`head_length` bytes) was forwarded: drop it from input(); the body's rate clock
  /// starts afresh (bytes that came with the head count as its first, unless the body is empty).
  void take_request_head(std::size_t head_length, bool body_complete, core::TimePoint now);
  /// The request bytes read and not yet used (a body streams out of here, zero-copy).
  core::Buffer& input() { return input_; }
  /// One read of request bytes; counts them on the listener.
  Io read();
  /// read() of request body bytes: they also move body_min_rate's clock.
  Io read_body();
  /// The request body's deadline: body_timeout of silence (of both sides: `upstream_activity`),
  /// body_min_rate, request_timeout, whichever is first. `backend_holds_body`: the backend has not
  /// taken what we hold, so the rate clock stops.
  core::TimePoint request_body_deadline(const ListenerConfig& config, core::TimePoint now,
                                        core::TimePoint upstream_activity, bool backend_holds_body);
  /// Which limit the request body reached at `now` (for the 408's log line and reason).
  std::string_view request_body_timeout_reason(const ListenerConfig& config, core::TimePoint now) const;
  /// The backend, not the client, is what the request waits for: the rate clock stops.
  void pause_body_rate(core::TimePoint now) { body_rate_.pause(now); }

  // ---- Responses.
  /// Sends bytes to the client; counts them on the listener and the access-log record.
  Io send(SendSite site, std::string_view first, std::string_view second, std::size_t& sent);
  /// Sends what waits in the output buffer. False on no progress; on a failed send the session ends.
  bool flush();
  bool has_output() const { return !output_.empty(); }
  /// An interim head (100 Continue): passed on to an HTTP/1.1 client as it is.
  void pass_interim(std::string_view head);
  /// Whether the connection closes after this response: asked before the response head is
  /// written. `backend_says`: the response's framing or the worker's drain requires it.
  bool decide_close(bool backend_says) {
    close_after_response_ = close_after_response_ || !keep_alive_ || socket_.eof || backend_says;
    return close_after_response_;
  }
  void close_after_response() { close_after_response_ = true; }
  /// A new exchange starts: the connection closes after it only if it or its response says so.
  void clear_close_decision() { close_after_response_ = false; }
  bool closes_after_response() const { return close_after_response_; }
  /// Writes the backend's response head, rewritten for the client. False when it does not fit.
  bool queue_response_head(const ResponseHead& head, bool tunnel, std::string_view set_cookie);
  /// Sends the response head waiting in the output buffer and then `body`, in one syscall;
  /// `body_sent` the body bytes that left.
  Io send_response(std::string_view body, std::size_t& body_sent);
  /// Fulcrum's own answer `response` with `extra_fields` (header lines, each ending in CRLF) at the
  /// end of its head; the connection closes after it.
  void write_own_answer(std::string_view response, std::string_view extra_fields);
  /// A byte of the final response went to the client (from now on only a cut tells the truth).
  bool response_started() const { return response_started_; }
  core::TimePoint activity() const { return socket_.activity; }

  // ---- Between requests, and the end.
  /// The exchange is over and the connection stays: the next request's clock starts.
  void next_request(core::TimePoint now);
  /// Drops the output buffer when empty (an idle session holds no buffer).
  void release_output();
  /// Our last bytes go out, then the lingering close, each within kLingerLimit.
  void begin_closing(core::TimePoint now) { closing_since_ = now; }
  core::TimePoint closing_deadline() const;
  /// The lingering close: half-close, then read and drop until the client's FIN. True on progress.
  bool linger();
  /// Closes the socket (abortively for Ending::Abort) and gives the buffers back.
  void close(Ending ending);

 private:
  struct Endpoint final : core::IoHandler {
    HttpSession* session = nullptr;
    void on_io(std::uint32_t events) override;
  };

  HttpSession& session_;
  net::UniqueFd fd_;
  SessionSocket socket_;
  Endpoint endpoint_;
  metrics::TrafficCounters& listener_stats_;
  ExchangeRecord* record_ = nullptr;
  core::Buffer input_;   // request bytes read (head, body, pipelined requests)
  core::Buffer output_;  // a response head or Fulcrum's own response, waiting to be sent
  std::unique_ptr<RequestParser> own_parser_;  // only for heads that span several reads
  core::TimePoint request_started_{};          // first byte of the current head
  std::uint64_t requests_served_ = 0;
  BodyRateGuard body_rate_;  // body_min_rate of the current request body
  HttpVersion version_ = HttpVersion::Http11;
  bool keep_alive_ = true;
  bool response_started_ = false;  // a byte of the final response went to the client
  bool close_after_response_ = false;
  bool lingering_ = false;
  core::TimePoint closing_since_{};  // Phase::Closing began, or its lingering close did
};

}  // namespace fulcrum::http
