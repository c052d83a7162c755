#include "http/http_session.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "balance/request_hash.h"
#include "balance/sticky_cookie.h"
#include "core/log.h"
#include "events/error_event.h"
#include "http/error_response.h"
#include "http/forwarding.h"
#include "http/http_context.h"
#include "http/request_parser.h"
#include "http/response_parser.h"
#include "http/session_events.h"
#include "net/listener_state.h"
#include "upstream/connector.h"
#include "upstream/proxy_header_send.h"
#include "upstream/session_services.h"

namespace fulcrum::http {

namespace {

constexpr auto kLingerLimit = std::chrono::seconds(2);
constexpr int kStepsPerTurn = 64;  // then yield to the other connections of this turn
constexpr std::uint32_t kDefaultHttpRetries = 2;

}  // namespace

HttpSession::HttpSession(upstream::SessionServices& services, net::ListenerState& listener, HttpWorkerContext& context,
                         net::UniqueFd client, const net::Address& client_address)
    : services_(services),
      listener_(listener),
      context_(&context),
      client_(std::move(client)),
      client_address_(client_address),
      client_ip_(client_address.ip_string()),
      timer_([this] { on_timer(); }),
      connector_(services, listener, *this),
      body_rate_(context.config().body_min_rate, context.config().body_min_rate_grace) {
  context_->acquire();
  client_endpoint_.session = this;
  listener_stats_ = &services.metrics().listener(listener.slot);
}

void HttpSession::count_response(int status, bool from_backend) {
  listener_stats_->count_response(status);
  if (route_stats_) route_stats_->count_response(status);
  if (pool_stats_) pool_stats_->count_response(status);
  if (auto* backend_stats = connector_.backend_stats(); from_backend && backend_stats) {
    backend_stats->traffic.count_response(status);
  }
}

HttpSession::~HttpSession() {
  // Normally nothing is in flight here (the loop flushes sends before it ends sessions); a worker
  // torn down mid-turn must still not let the kernel read freed buffers.
  client_socket_.drop_queued_send(context_->loop());
  upstream_socket_.drop_queued_send(context_->loop());
}

void HttpSession::start() {
  auto& loop = context_->loop();
  client_socket_.activity = request_started_ = loop.now();
  if (!connection_allowed()) return;
  if (!loop.add(client_.get(), kSocketEvents, &client_endpoint_)) {
    finish(Ending::Abort);
    return;
  }
  // The request has often arrived with the handshake: read it now rather than after an epoll turn.
  drive();
}

void HttpSession::drain(bool close_idle) {
  if (close_idle && phase_ == Phase::Request && client_in_.empty() && !own_request_parser_) {
    finish(Ending::Graceful);  // idle between requests: nothing is lost by closing now
  } else {
    close_after_response_ = true;  // on_response_head() also asks the worker
  }
}

// ---------------------------------------------------------------------------------------- events

void HttpSession::on_client_io(std::uint32_t events) {
  if (phase_ == Phase::Ended) return;
  client_socket_.note_events(events);
  drive();
}

void HttpSession::on_upstream_io(upstream::UpstreamConnection& connection, std::uint32_t events) {
  if (phase_ == Phase::Ended || &connection != upstream_.get()) return;
  // No send is in flight while connecting (sends start once connected), so the connect's outcome is
  // handled at once; later events only set flags, and drive() waits for a send in flight.
  bool note_flags = phase_ != Phase::Connecting;
  if (phase_ == Phase::Connecting) {
    if (events & (EPOLLERR | EPOLLHUP)) {
      const int error = net::socket_error(connection.fd());
      if (error == ECONNRESET) {
        // The handshake completed and the backend reset the connection at once, before we saw the
        // connect finish: a backend reached that failed the exchange, exactly as if the reset had
        // come a moment later (same retry, 502 once none is left, same log line), not a refusal.
        on_connected();
        upstream_failed("reset before responding", 502);
      } else {
        upstream_failed(error ? std::strerror(error) : "connection refused", 503);
      }
    } else if (events & EPOLLOUT) {
      on_connected();
      // The event that completed the connect may also carry the backend's FIN (a backend that
      // answered and hung up at once), which, edge-triggered, is not reported again.
      note_flags = true;
    }
  }
  if (note_flags) upstream_socket_.note_events(events);
  drive();
}

void HttpSession::drive() {
  if (sending()) return;  // resumed by on_send_completed()
  int steps = 0;
  while (phase_ != Phase::Ended && step()) {
    if (++steps == kStepsPerTurn) {
      // Edge-triggered: nobody will wake us for bytes we left unread; come back after the others.
      context_->loop().defer([this] { drive(); });
      break;
    }
  }
  if (phase_ == Phase::Ended) return;
  if (!sending() && steps < kStepsPerTurn && (client_socket_.result_waiting() || upstream_socket_.result_waiting())) {
    // A queued send's result that its site did not take: the session's logic moved on without it,
    // and the bytes it sent are unaccounted. Cut the connection rather than corrupt the stream.
    log::error("queued send result not taken", {{"listener", context_->config().name}});
    client_socket_.forget_result();
    upstream_socket_.forget_result();
    finish(Ending::Abort);
    return;
  }
  rearm_timer();
}

bool HttpSession::step() {
  switch (phase_) {
    case Phase::Request:
      return parse_request();
    case Phase::Queued:
      if (client_socket_.closing) {
        finish(Ending::Abort);  // the client left while it waited: its place in the queue goes
        return true;
      }
      return false;
    case Phase::Connecting:
      return false;
    case Phase::Exchange: {
      bool progress = flush_client();
      if (phase_ != Phase::Exchange) return true;
      progress |= pump_request();
      if (phase_ != Phase::Exchange) return true;
      progress |= pump_response();
      if (phase_ != Phase::Exchange) return true;
      if (response_done_ && response_body_pending_ == 0 && client_out_.empty()) {
        if (!request_done_) {
          // The backend answered before the whole body came (an early 413, say): the rest of the
          // body has nowhere to go and the connection's framing is lost; close after the answer.
          close_after_response_ = true;
          upstream_reusable_ = false;
        }
        finish_exchange();
        return true;
      }
      return progress;
    }
    case Phase::Tunnel:
      return pump_tunnel();
    case Phase::Closing: {
      const bool progress = flush_client();
      if (phase_ == Phase::Closing && client_out_.empty()) return linger() || progress;
      return progress;
    }
    case Phase::Ended:
      return false;
  }
  return false;
}

void HttpSession::rearm_timer() {
  const auto& config = context_->config();
  core::TimePoint deadline;
  switch (phase_) {
    case Phase::Request:
      // Before the first byte of a request: header_timeout on a new connection, keepalive_timeout
      // between requests. Once a head has begun: header_timeout from its first byte, or
      // request_timeout (head and body) when that is sooner.
      if (client_in_.empty() && !own_request_parser_ && requests_served_ > 0) {
        deadline = request_started_ + config.keepalive_timeout;
      } else {
        deadline = request_started_ + config.header_timeout;
        if (config.request_timeout.count() > 0 && !client_in_.empty()) {
          deadline = std::min(deadline, request_started_ + config.request_timeout);
        }
      }
      break;
    case Phase::Queued:
      // The connector's queue timer ends the wait; the client's silence is not held against it.
      body_rate_.pause(context_->loop().now());
      context_->loop().timers().cancel(timer_);
      return;
    case Phase::Connecting:
      body_rate_.pause(context_->loop().now());  // the backend is what we wait for
      deadline = upstream_socket_.activity + selector_->snapshot().connect_timeout;
      break;
    case Phase::Exchange:
      if (!request_done_) {
        deadline = request_body_deadline();
      } else if (!response_head_done_) {
        deadline = request_sent_at_ + selector_->snapshot().config.response_timeout;
      } else {
        deadline = std::max(client_socket_.activity, upstream_socket_.activity) + selector_->snapshot().config.response_timeout;
      }
      break;
    case Phase::Tunnel:
      deadline = std::max(client_socket_.activity, upstream_socket_.activity) + config.tunnel_timeout;
      break;
    case Phase::Closing:
      // From when closing began, not from the client's last byte: that can be long past (a 504
      // after response_timeout), and a deadline in the past would cut the answer just queued.
      // Bytes read while lingering do not extend it either: a close is bounded.
      deadline = closing_since_ + kLingerLimit;
      break;
    case Phase::Ended:
      return;
  }
  context_->loop().timers().schedule(timer_, deadline);
}

void HttpSession::on_timer() {
  // A send in flight is an answer on its way: its completion drives the session and re-arms this
  // timer, so the deadline is judged after the bytes left, never by dropping them.
  if (sending()) return;
  switch (phase_) {
    case Phase::Request:
      if (client_in_.empty() && !own_request_parser_) {
        finish(Ending::Graceful);  // an idle keep-alive client, or one that never spoke
      } else {
        log::info("request head timeout", {{"listener", context_->config().name}, {"client", client_address_.to_string()}});
        refuse_request(408, "request head not received in time");
      }
      break;
    case Phase::Queued:
      break;
    case Phase::Connecting:
      upstream_failed("connect timeout", 503);
      break;
    case Phase::Exchange:
      if (!request_done_) {
        request_body_timed_out();
      } else if (!response_head_done_) {
        log::warn("backend response timeout", {{"listener", context_->config().name},
                                               {"backend", upstream_ ? upstream_->backend().address_text() : "-"}});
        if (upstream_) {
          // A backend that never answers must look slow to least_latency, not unknown.
          const auto now = context_->loop().now();
          upstream_->backend().record_response_time(now - request_sent_at_, now);
          upstream_->backend().record_failure();  // passive health
        }
        answer_error(504, "backend response timeout");
      } else {
        log::warn("backend response stalled", {{"listener", context_->config().name},
                                               {"backend", upstream_ ? upstream_->backend().address_text() : "-"}});
        finish(Ending::Abort);  // a response stalled midway: never present half of it as whole
      }
      break;
    case Phase::Tunnel:
    case Phase::Closing:
      finish(Ending::Graceful);
      break;
    case Phase::Ended:
      break;
  }
  drive();
}

core::TimePoint HttpSession::request_body_deadline() {
  const auto& config = context_->config();
  const auto now = context_->loop().now();
  core::TimePoint deadline = std::max(client_socket_.activity, upstream_socket_.activity) + config.body_timeout;
  // Body bytes we hold that the backend has not taken (or its head not yet out): we stopped
  // reading because of the backend, so the rate clock stops too.
  if (request_head_sent_ < request_out_.size() || request_body_pending_ > 0) {
    body_rate_.pause(now);
  } else {
    body_rate_.resume(now);
  }
  if (const auto rate = body_rate_.deadline()) deadline = std::min(deadline, *rate);
  if (config.request_timeout.count() > 0) deadline = std::min(deadline, request_started_ + config.request_timeout);
  return deadline;
}

void HttpSession::request_body_timed_out() {
  const auto& config = context_->config();
  const auto now = context_->loop().now();
  std::string_view reason = "request body stalled";
  if (config.request_timeout.count() > 0 && now >= request_started_ + config.request_timeout) {
    reason = "request not received within request_timeout";
  } else if (const auto rate = body_rate_.deadline(); rate && now >= *rate) {
    reason = "request body slower than body_min_rate";
  }
  log::info("request body timeout",
            {{"listener", config.name}, {"client", client_address_.to_string()}, {"reason", reason}});
  // answer_error() cuts the backend connection: a body cut short is never passed on as whole.
  answer_error(408, reason);
}

// ---------------------------------------------------------------------------------- request side

bool HttpSession::parse_request() {
  bool progress = false;
  const bool had_bytes = !client_in_.empty();
  if (!had_bytes || own_request_parser_) {
    const Io io = read_client();
    if (io == Io::Progress) {
      progress = true;
      if (!had_bytes && !own_request_parser_) request_started_ = context_->loop().now();
    } else if (io == Io::Eof || io == Io::Error) {
      // Closed between requests (the normal end of keep-alive), or in the middle of a head.
      finish(io == Io::Error ? Ending::Abort : Ending::Graceful);
      return true;
    } else if (!had_bytes) {
      context_->buffers().detach(client_in_);  // idle: hold no buffer
      return false;
    } else if (!progress) {
      return false;
    }
  }

  RequestParser* parser = own_request_parser_.get();
  if (!parser) {
    parser = &context_->request_parser();
    parser->reset();
  }
  const ParseResult result = parser->parse(client_in_.view());
  switch (result.status) {
    case ParseStatus::NeedMore:
      if (!own_request_parser_) {
        // The head spans reads: keep a parser of our own so that it resumes where it stopped.
        own_request_parser_ = std::make_unique<RequestParser>(context_->shared().request_limits());
        own_request_parser_->parse(client_in_.view());
        // Come back to read the rest: these bytes may have waited in client_in_ (pipelined behind
        // the last request) while the rest arrived, and that arrival's edge is already spent.
        return true;
      }
      return progress;
    case ParseStatus::Error:
      log::info("bad request", {{"listener", context_->config().name},
                                {"client", client_address_.to_string()},
                                {"status", static_cast<int>(result.error.status)},
                                {"reason", result.error.reason}});
      refuse_request(result.error.status, result.error.reason);
      return true;
    case ParseStatus::Complete:
      begin_exchange(parser->head(), result.head_length);
      own_request_parser_.reset();
      return true;
  }
  return progress;
}

void HttpSession::open_exchange_record(std::string_view method, std::string_view path, std::string_view request_id,
                                       std::size_t bytes_in) {
  exchange_record_ = std::make_unique<ExchangeRecord>();
  exchange_record_->started = exchange_started_;
  exchange_record_->method = method;
  exchange_record_->path = path;
  exchange_record_->request_id = request_id;
  exchange_record_->bytes_in = bytes_in;
}

void HttpSession::begin_exchange(const RequestHead& head, std::size_t head_length) {
  // Before anything can answer this request (404, 413, 429): answer_error() judges by these
  // whether part of a response already went out, and the last exchange's must not count.
  response_head_done_ = response_started_ = response_done_ = false;
  take_newest_settings();
  const auto& config = context_->config();
  method_ = head.method_kind;
  client_version_ = head.version;
  client_keep_alive_ = head.keep_alive;
  upgrade_requested_ = head.upgrade_requested;
  exchange_started_ = context_->loop().now();
  listener_stats_->requests.increment();
  const RequestId request_id = generate_request_id(context_->random());
  if (services_.events().sample(Event::Request)) {
    emit_request(services_.events(), head, client_address_.to_string(), listener_, request_id.view());
  }
  if (services_.access_log() != nullptr) open_exchange_record(head.method, head.target, request_id.view(), head_length);

  if (listener_.clients.limits_requests() && over_request_rate()) return;
  std::optional<std::size_t> hook_pool = forced_pool_;
  std::string hook_fields;
  if (services_.hooks() && !request_hook(head, hook_pool, hook_fields)) return;

  const Route* route = context_->shared().route(head);
  if (!route && !hook_pool) {
    answer_error(404, "no route");
    return;
  }
  if (route) {
    route_stats_ = &services_.metrics().route(context_->shared().route_slot(route->index()));
    route_stats_->requests.increment();
  }
  const std::size_t pool_index = hook_pool ? *hook_pool : route->pool_index();
  pool_stats_ = &services_.metrics().pool(pool_index);
  pool_stats_->requests.increment();
  if (config.max_body && head.framing.kind == BodyKind::ContentLength && head.framing.content_length > config.max_body) {
    answer_error(413, "request body larger than max_body");
    return;
  }
  selector_ = &services_.selector(pool_index);
  const PoolConfig& pool = selector_->snapshot().config;
  connector_.begin(*selector_, client_address_, 1 + pool.retries.value_or(kDefaultHttpRetries), pool_stats_);
  choose_by_request(head, pool);

  std::string& head_out = context_->scratch();
  head_out.clear();
  RequestForwarding forwarding;
  forwarding.client_address = client_ip_;
  forwarding.strip_prefix = route && !hook_pool ? route->strip_prefix() : std::string_view();
  forwarding.upgrade = head.upgrade_requested;
  forwarding.request_id = request_id.view();
  // An HTTP/1.0 request may lack Host; the backend gets the address the client spoke to (the head
  // is written once, before a backend is chosen, so that a retry can resend it).
  const std::string listener_address = head.host.empty() ? listener_.bound.to_string() : std::string();
  forwarding.default_host = listener_address;
  write_request_head(head_out, head, forwarding);
  if (!hook_fields.empty()) head_out.insert(head_out.size() - 2, hook_fields);  // before the empty line
  if (head.version == HttpVersion::Http10) {
    // Ask the backend in HTTP/1.0 too, so that it never answers chunked: a 1.0 client could not
    // read that, and the body is forwarded as it comes.
    const auto line_end = head_out.find("\r\n");
    if (line_end != std::string::npos && line_end >= 8) head_out.replace(line_end - 8, 8, "HTTP/1.0");
  }

  context_->buffers().attach(request_out_);
  if (head_out.size() > request_out_.capacity()) {
    answer_error(431, "request head too large once forwarded");
    return;
  }
  std::memcpy(request_out_.tail(), head_out.data(), head_out.size());
  request_out_.produced(head_out.size());
  request_head_sent_ = 0;

  request_body_ = BodyTracker(head.framing);
  client_in_.consume(head_length);
  body_rate_.reset();
  // Bytes that came with the head are the body's first (or a pipelined request's, harmlessly).
  if (!request_body_.complete()) body_rate_.received(client_in_.size(), exchange_started_);
  request_body_pending_ = 0;
  request_body_sent_ = 0;
  request_done_ = false;
  reached_backend_failed_ = false;
  response_body_pending_ = 0;
  close_after_response_ = false;
  set_cookie_.clear();
  dispatch();
}

bool HttpSession::over_request_rate() {
  net::ClientTable& clients = listener_.clients;
  const net::ClientKey key = counted_client() ? *counted_client() : clients.key_of(client_address_);
  Duration retry_after{0};
  if (clients.allow_request(key, context_->loop().now(), &retry_after)) return false;
  // Whole seconds, rounded up: a client told 0 would come straight back.
  const auto seconds = std::max<std::int64_t>(1, (std::chrono::duration_cast<std::chrono::milliseconds>(retry_after).count() + 999) / 1000);
  log::debug("request rate limit", {{"listener", context_->config().name}, {"client", client_address_.to_string()}});
  answer_error(429, "over requests_per_ip", "Retry-After: " + std::to_string(seconds) + "\r\n");
  return true;
}

void HttpSession::choose_by_request(const RequestHead& head, const PoolConfig& pool) {
  // The value of cookie `name` in the request's Cookie fields, if any.
  auto cookie = [&](std::string_view name) -> std::optional<std::string_view> {
    for (const HeaderField field : head.headers) {
      if (!syntax::equals_ignore_case(field.name, "cookie")) continue;
      if (auto value = balance::find_cookie(field.value, name)) return value;
    }
    return std::nullopt;
  };
  if (pool.hash) {
    std::optional<std::string_view> key;
    if (!pool.hash->header.empty()) key = head.headers.find(pool.hash->header);
    else if (!pool.hash->cookie.empty()) key = cookie(pool.hash->cookie);
    else if (pool.hash->path) key = head.path;
    connector_.selection().hash = balance::request_hash(key, context_->random());
  }
  sticky_cookie_name_.clear();
  sticky_cookie_sent_.clear();
  if (const auto* map = selector_->cookie_map()) {
    sticky_cookie_name_ = pool.sticky->cookie;
    if (auto value = cookie(sticky_cookie_name_)) {
      sticky_cookie_sent_ = *value;
      if (auto index = map->find(*value)) connector_.selection().preferred = selector_->backend_id(*index);
    }
  }
}

void HttpSession::set_sticky_cookie(const upstream::Backend& backend) {
  // Tell the client its backend when it did not know it, or knew a dead one (re-assigned).
  const auto* map = selector_->cookie_map();
  if (!map || sticky_cookie_name_.empty()) return;
  const auto index = selector_->index_of(backend.id());
  if (!index) return;
  const std::string_view value = map->value_of(*index);
  if (value == sticky_cookie_sent_) return;
  set_cookie_ = balance::set_cookie_header_value(sticky_cookie_name_, value);
}

void HttpSession::dispatch() {
  auto& loop = context_->loop();
  const upstream::Choice choice = connector_.choose(loop.now());
  if (choice == upstream::Choice::Queued) {
    phase_ = Phase::Queued;  // backend_ready() or queue_timed_out() comes on
    return;
  }
  if (choice == upstream::Choice::QueueFull) {
    log::warn("queue full", {{"listener", context_->config().name}, {"pool", selector_->pool().name()}});
    answer_error(503, "queue full");
    return;
  }
  if (choice == upstream::Choice::None) {
    if (reached_backend_failed_) {
      // Retries spent on backends that took the request and failed it: a bad gateway, not an
      // unavailable service (503 stays for "no backend could be reached").
      log::warn("every backend tried failed", {{"listener", context_->config().name},
                                               {"pool", selector_->pool().name()},
                                               {"attempts", static_cast<int>(connector_.selection().attempts)}});
      answer_error(502, "every backend tried failed");
      return;
    }
    log::warn("no backend available", {{"listener", context_->config().name}, {"pool", selector_->pool().name()}});
    answer_error(503, "no backend available");
    return;
  }
  use_chosen_backend();
}

void HttpSession::backend_ready() {
  if (phase_ != Phase::Queued) return;  // ended meanwhile: the connector gives the slot back
  use_chosen_backend();
  drive();
}

void HttpSession::queue_timed_out() {
  if (phase_ != Phase::Queued) return;
  log::warn("queue timeout", {{"listener", context_->config().name}, {"pool", selector_->pool().name()}});
  answer_error(503, "queue timeout");
  drive();
}

void HttpSession::use_chosen_backend() {
  auto& loop = context_->loop();
  const auto& backend = connector_.backend();
  if (exchange_record_) exchange_record_->backend = backend->address_text();
  // send_proxy: a connection's header named one client, so none is taken from the shared pool.
  const bool per_client = selector_->snapshot().config.send_proxy != PoolConfig::SendProxy::Off;
  if (auto pooled = per_client ? nullptr : context_->connections().take(*backend)) {
    connector_.connected(/*reused=*/true);
    upstream_ = std::move(pooled);
    upstream_->set_owner(this);
    // An idle pooled connection had nothing to read (or it was dropped).
    upstream_socket_.restart(/*can_read=*/false, /*can_write=*/true, loop.now());
    phase_ = Phase::Exchange;
    return;
  }
  connect_to_chosen();
}

void HttpSession::connect_to_chosen() {
  auto& loop = context_->loop();
  upstream_socket_.activity = loop.now();
  net::ConnectStart started;
  int error = 0;
  net::UniqueFd fd = connector_.start_connect(started, error);
  upstream_ = std::make_unique<upstream::UpstreamConnection>(std::move(fd), connector_.backend());
  upstream_->set_owner(this);
  upstream_socket_.eof = false;
  upstream_socket_.closing = false;
  phase_ = Phase::Connecting;
  if (started == net::ConnectStart::Failed) {
    if (net::is_local_resource_error(error)) {
      connect_failed_locally(error);  // out of descriptors or ephemeral ports, say
    } else {
      upstream_failed(std::strerror(error), 503);
    }
    return;
  }
  if (!loop.add(upstream_->fd(), kSocketEvents, upstream_.get())) {
    connect_failed_locally(errno);  // epoll out of memory or watches
    return;
  }
  upstream_->registered = true;
  if (started == net::ConnectStart::Connected) on_connected();
}

void HttpSession::connect_failed_locally(int error) {
  connector_.failed_locally("cannot connect to backend: out of local resources", error, "connect");
  release_upstream(false);
  answer_error(503, "out of local resources");
}

void HttpSession::on_connected() {
  // send_proxy: the header goes first, on the new connection only (the buffer is empty: no wait).
  const auto send_proxy = selector_->snapshot().config.send_proxy;
  if (send_proxy != PoolConfig::SendProxy::Off) {
    const net::Address destination = destination_ ? *destination_ : net::Address::local_of(client_.get());
    if (!upstream::send_proxy_header(upstream_->fd(), send_proxy, client_address_, destination)) {
      upstream_failed("cannot send PROXY header", 502);
      return;
    }
    upstream_->names_a_client = true;
  }
  connector_.connected(/*reused=*/false);
  const auto connect_time = context_->loop().now() - connector_.connect_started();
  listener_stats_->connect_time.observe(connect_time);
  if (route_stats_) route_stats_->connect_time.observe(connect_time);
  if (pool_stats_) pool_stats_->connect_time.observe(connect_time);
  phase_ = Phase::Exchange;
  upstream_socket_.writable = true;
  upstream_socket_.readable = true;
  upstream_socket_.activity = context_->loop().now();
}

bool HttpSession::pump_request() {
  if (!upstream_) return false;
  bool progress = false;
  std::size_t sent = 0;
  if (request_head_sent_ < request_out_.size() && request_body_pending_ == 0 && !request_body_.complete()) {
    // Send the body bytes that came with the head in the same syscall as the head.
    const BodyProgress body = request_body_.advance(client_in_.view());
    if (body.error) {
      answer_error(body.error.status, body.error.reason);
      return true;
    }
    if (request_body_over_limit()) {
      answer_error(413, "request body larger than max_body");
      return true;
    }
    request_body_pending_ = body.consumed;
  }
  while (request_head_sent_ < request_out_.size()) {
    const std::string_view head(request_out_.data() + request_head_sent_, request_out_.size() - request_head_sent_);
    const Io io = send_parts(SendSite::RequestHead, head,
                             {client_in_.data(), request_body_pending_}, sent);
    if (io == Io::Blocked) return progress;
    if (io == Io::Error) {
      upstream_failed("send failed", 502);
      return true;
    }
    const std::size_t head_part = std::min(sent, head.size());
    request_head_sent_ += head_part;
    client_in_.consume(sent - head_part);
    request_body_pending_ -= sent - head_part;
    request_body_sent_ += sent - head_part;
    progress = true;
  }
  while (!request_done_) {
    if (request_body_pending_ > 0) {
      const Io io = send(SendSite::RequestBody, client_in_.data(), request_body_pending_, sent);
      if (io == Io::Blocked) return progress;
      if (io == Io::Error) {
        upstream_failed("send failed", 502);
        return true;
      }
      client_in_.consume(sent);
      request_body_pending_ -= sent;
      request_body_sent_ += sent;
      progress = true;
      continue;
    }
    const BodyProgress body = request_body_.advance(client_in_.view());
    if (body.error) {
      answer_error(body.error.status, body.error.reason);
      return true;
    }
    request_body_pending_ = body.consumed;
    if (request_body_over_limit()) {
      answer_error(413, "request body larger than max_body");
      return true;
    }
    if (body.consumed > 0) continue;
    if (request_body_.complete()) break;
    const Io io = read_client();
    if (io == Io::Blocked) return progress;
    if (io != Io::Progress) {
      finish(Ending::Abort);  // the client went away in the middle of its body
      return true;
    }
    progress = true;
  }
  if (!request_done_) {
    request_done_ = true;
    request_sent_at_ = core::Clock::now();  // see on_response_head()
    progress = true;
  }
  return progress;
}

bool HttpSession::request_body_over_limit() const {
  // A Content-Length body was judged from its length before anything was read; a chunked one is
  // judged by its data bytes (not its framing) as they are decoded, before any of them is sent.
  const auto limit = context_->config().max_body;
  return limit != 0 && request_body_.chunked().data_bytes() > limit;
}

bool HttpSession::retry_possible() const {
  // The request can be sent again only if none of its body reached the backend: the rewritten head
  // is still in request_out_, but body bytes already sent are gone from the buffer. Bodiless
  // requests (nearly all idempotent ones) therefore always qualify; a PUT whose body went out does
  // not, even though it is idempotent.
  return !response_started_ && request_body_sent_ == 0;
}

bool HttpSession::counts_5xx() {
  const auto& outlier = selector_->snapshot().config.outlier_detection;
  return outlier && outlier->count_5xx;
}

void HttpSession::upstream_failed(const char* what, int error_status) {
  const bool connecting = phase_ == Phase::Connecting;
  const bool was_reused = upstream_ && upstream_->reuses > 0;
  const bool had_backend = upstream_ != nullptr;
  // A refused or timed-out connect, or a reset before any answer, is held against the backend; a
  // kept-alive connection the backend closed as it was reused is not (a benign race).
  if (had_backend) {
    connector_.failed(connecting    ? upstream::AttemptFailure::Connect
                      : was_reused ? upstream::AttemptFailure::ReusedConnectionClosed
                                   : upstream::AttemptFailure::Exchange,
                      what, context_->loop().now());
  }
  if (!connecting && !was_reused) reached_backend_failed_ = true;
  close_upstream_connection(false);
  if (!retry_possible()) {
    answer_error(connecting ? 503 : error_status, what);
    return;
  }
  request_head_sent_ = 0;
  if (was_reused && had_backend) {
    // The backend is fine: try a fresh connection to it without spending an attempt.
    connector_.retry_same_backend();
    connect_to_chosen();
    return;
  }
  dispatch();
}

}  // namespace fulcrum::http
