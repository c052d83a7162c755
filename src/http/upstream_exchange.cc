// UpstreamExchange: choosing and reaching a backend, the request going out, failover. The response
// coming back is in upstream_exchange_response.cc.
#include "http/upstream_exchange.h"

#include <cerrno>
#include <cstring>

#include "balance/request_hash.h"
#include "balance/sticky_cookie.h"
#include "core/log.h"
#include "http/client_side.h"
#include "http/http_context.h"
#include "http/http_session.h"
#include "http/response_parser.h"
#include "http/syntax.h"
#include "upstream/proxy_header_send.h"

namespace fulcrum::http {

UpstreamExchange::UpstreamExchange(HttpSession& session, ClientSide& client, SendGate& gate,
                                   upstream::SessionServices& services, const net::ListenerState& listener)
    : session_(session),
      client_(client),
      connector_(services, listener, *this),
      socket_(gate, /*ready=*/false) {}

UpstreamExchange::~UpstreamExchange() = default;

// ---------------------------------------------------------------------------- a request begins

void UpstreamExchange::begin_request(const RequestHead& head) {
  // Before anything can answer this request: the last exchange's response, and the body it sent
  // (the access log adds it to this request's bytes), must not count.
  response_head_done_ = response_done_ = false;
  request_body_sent_ = 0;
  method_ = head.method_kind;
  upgrade_requested_ = head.upgrade_requested;
}

void UpstreamExchange::choose_pool(upstream::Selector& selector, const net::Address& client,
                                   std::uint32_t max_attempts, metrics::TrafficCounters* pool_stats,
                                   const RequestHead& head, const PoolConfig& pool) {
  selector_ = &selector;
  pool_stats_ = pool_stats;
  connector_.begin(selector, client, max_attempts, pool_stats);
  choose_by_request(head, pool);
}

void UpstreamExchange::choose_by_request(const RequestHead& head, const PoolConfig& pool) {
  // The value of cookie `name` in the request's Cookie fields, if any.
  auto cookie = [&](std::string_view name) -> std::optional<std::string_view> {
    for (const HeaderField field : head.headers) {
      if (!syntax::name_is(field.name, "cookie")) continue;
      if (auto value = balance::find_cookie(field.value, name)) return value;
    }
    return std::nullopt;
  };
  if (pool.hash) {
    std::optional<std::string_view> key;
    if (!pool.hash->header.empty()) key = head.headers.find(pool.hash->header);
    else if (!pool.hash->cookie.empty()) key = cookie(pool.hash->cookie);
    else if (pool.hash->path) key = head.path;
    connector_.selection().hash = balance::request_hash(key, session_.context().random());
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

void UpstreamExchange::set_sticky_cookie(const upstream::Backend& backend) {
  // Tell the client its backend when it did not know it, or knew a dead one (re-assigned).
  const auto* map = selector_->cookie_map();
  if (!map || sticky_cookie_name_.empty()) return;
  const auto index = selector_->index_of(backend.id());
  if (!index) return;
  const std::string_view value = map->value_of(*index);
  if (value == sticky_cookie_sent_) return;
  set_cookie_ = balance::set_cookie_header_value(sticky_cookie_name_, value);
}

bool UpstreamExchange::take_request_head(std::string_view head_out) {
  session_.context().buffers().attach(request_out_);
  if (head_out.size() > request_out_.capacity()) return false;
  std::memcpy(request_out_.tail(), head_out.data(), head_out.size());
  request_out_.produced(head_out.size());
  request_head_sent_ = 0;
  return true;
}

void UpstreamExchange::start() {
  request_body_pending_ = 0;
  request_body_sent_ = 0;
  request_done_ = false;
  reached_backend_failed_ = false;
  response_body_pending_ = 0;
  set_cookie_.clear();
  dispatch();
}

// ------------------------------------------------------------------------ choosing and connecting

void UpstreamExchange::dispatch() {
  auto& context = session_.context();
  const upstream::Choice choice = connector_.choose(context.loop().now());
  if (choice == upstream::Choice::Queued) {
    stage_ = Stage::Queued;  // backend_ready() or queue_timed_out() comes on
    return;
  }
  if (choice == upstream::Choice::QueueFull) {
    log::warn("queue full", {{"listener", context.config().name}, {"pool", selector_->pool().name()}});
    session_.answer_error(503, "queue full");
    return;
  }
  if (choice == upstream::Choice::None) {
    if (reached_backend_failed_) {
      // Retries spent on backends that took the request and failed it: a bad gateway, not an
      // unavailable service (503 stays for "no backend could be reached").
      log::warn("every backend tried failed", {{"listener", context.config().name},
                                               {"pool", selector_->pool().name()},
                                               {"attempts", static_cast<int>(connector_.selection().attempts)}});
      session_.answer_error(502, "every backend tried failed");
      return;
    }
    log::warn("no backend available", {{"listener", context.config().name}, {"pool", selector_->pool().name()}});
    session_.answer_error(503, "no backend available");
    return;
  }
  use_chosen_backend();
}

void UpstreamExchange::backend_ready() {
  if (stage_ != Stage::Queued) return;  // ended meanwhile: the connector gives the slot back
  use_chosen_backend();
  session_.drive();
}

void UpstreamExchange::queue_timed_out() {
  if (stage_ != Stage::Queued) return;
  log::warn("queue timeout", {{"listener", session_.context().config().name}, {"pool", selector_->pool().name()}});
  session_.answer_error(503, "queue timeout");
  session_.drive();
}

void UpstreamExchange::use_chosen_backend() {
  auto& context = session_.context();
  const auto& backend = connector_.backend();
  session_.backend_chosen(*backend);
  // send_proxy: a connection's header named one client, so none is taken from the shared pool.
  const bool per_client = selector_->snapshot().config.send_proxy != PoolConfig::SendProxy::Off;
  if (auto pooled = per_client ? nullptr : context.connections().take(*backend)) {
    connector_.connected(/*reused=*/true);
    upstream_ = std::move(pooled);
    upstream_->set_owner(this);
    // An idle pooled connection had nothing to read (or it was dropped).
    socket_.restart(/*can_read=*/false, /*can_write=*/true, context.loop().now());
    stage_ = Stage::Flowing;
    return;
  }
  connect_to_chosen();
}

void UpstreamExchange::connect_to_chosen() {
  auto& loop = session_.context().loop();
  socket_.activity = loop.now();
  net::ConnectStart started;
  int error = 0;
  net::UniqueFd fd = connector_.start_connect(started, error);
  upstream_ = std::make_unique<upstream::UpstreamConnection>(std::move(fd), connector_.backend());
  upstream_->set_owner(this);
  socket_.eof = false;
  socket_.closing = false;
  stage_ = Stage::Connecting;
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

void UpstreamExchange::connect_failed_locally(int error) {
  connector_.failed_locally("cannot connect to backend: out of local resources", error, "connect");
  release_upstream(false);
  session_.answer_error(503, "out of local resources");
}

void UpstreamExchange::on_connected() {
  // send_proxy: the header goes first, on the new connection only (the buffer is empty: no wait).
  const auto send_proxy = selector_->snapshot().config.send_proxy;
  if (send_proxy != PoolConfig::SendProxy::Off) {
    if (!upstream::send_proxy_header(upstream_->fd(), send_proxy, session_.client_address(), session_.destination())) {
      upstream_failed("cannot send PROXY header", 502);
      return;
    }
    upstream_->names_a_client = true;
  }
  connector_.connected(/*reused=*/false);
  auto& loop = session_.context().loop();
  session_.count_connect_time(loop.now() - connector_.connect_started());
  stage_ = Stage::Flowing;
  socket_.writable = true;
  socket_.readable = true;
  socket_.activity = loop.now();
}

void UpstreamExchange::on_upstream_io(upstream::UpstreamConnection& connection, std::uint32_t events) {
  if (session_.ended() || &connection != upstream_.get()) return;
  // No send is in flight while connecting (sends start once connected), so the connect's outcome is
  // handled at once; later events only set flags, and drive() waits for a send in flight.
  bool note_flags = stage_ != Stage::Connecting;
  if (stage_ == Stage::Connecting) {
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
  if (note_flags) socket_.note_events(events);
  session_.drive();
}

// ----------------------------------------------------------------------------- the request out

Io UpstreamExchange::send_upstream(SendSite site, std::string_view first, std::string_view second,
                                   std::size_t& sent) {
  const Io io = socket_.send_parts(upstream_->fd(), site, first, second, session_.context().loop(), sent);
  if (io == Io::Progress) {
    if (auto* backend_stats = connector_.backend_stats()) backend_stats->traffic.bytes_out.add(sent);
    if (pool_stats_) pool_stats_->bytes_out.add(sent);
  }
  return io;
}

Io UpstreamExchange::read_upstream() {
  std::size_t got = 0;
  auto& context = session_.context();
  const Io io = socket_.read(upstream_->fd(), upstream_->buffer(), context.buffers(), context.loop(), got);
  if (got > 0) {
    if (auto* backend_stats = connector_.backend_stats()) backend_stats->traffic.bytes_in.add(got);
    if (pool_stats_) pool_stats_->bytes_in.add(got);
  }
  return io;
}

bool UpstreamExchange::pump_request() {
  if (!upstream_) return false;
  core::Buffer& input = client_.input();  // the request body streams out of the client's buffer
  bool progress = false;
  std::size_t sent = 0;
  if (request_head_sent_ < request_out_.size() && request_body_pending_ == 0 && !request_body_.complete()) {
    // Send the body bytes that came with the head in the same syscall as the head.
    const BodyProgress body = request_body_.advance(input.view());
    if (body.error) {
      session_.answer_error(body.error.status, body.error.reason);
      return true;
    }
    if (request_body_over_limit()) {
      session_.answer_error(413, "request body larger than max_body");
      return true;
    }
    request_body_pending_ = body.consumed;
  }
  while (request_head_sent_ < request_out_.size()) {
    const std::string_view head(request_out_.data() + request_head_sent_, request_out_.size() - request_head_sent_);
    const Io io = send_upstream(SendSite::RequestHead, head, {input.data(), request_body_pending_}, sent);
    if (io == Io::Blocked) return progress;
    if (io == Io::Error) {
      upstream_failed("send failed", 502);
      return true;
    }
    const std::size_t head_part = std::min(sent, head.size());
    request_head_sent_ += head_part;
    input.consume(sent - head_part);
    request_body_pending_ -= sent - head_part;
    request_body_sent_ += sent - head_part;
    progress = true;
  }
  while (!request_done_) {
    if (request_body_pending_ > 0) {
      const Io io = send_upstream(SendSite::RequestBody, {input.data(), request_body_pending_}, {}, sent);
      if (io == Io::Blocked) return progress;
      if (io == Io::Error) {
        upstream_failed("send failed", 502);
        return true;
      }
      input.consume(sent);
      request_body_pending_ -= sent;
      request_body_sent_ += sent;
      progress = true;
      continue;
    }
    const BodyProgress body = request_body_.advance(input.view());
    if (body.error) {
      session_.answer_error(body.error.status, body.error.reason);
      return true;
    }
    request_body_pending_ = body.consumed;
    if (request_body_over_limit()) {
      session_.answer_error(413, "request body larger than max_body");
      return true;
    }
    if (body.consumed > 0) continue;
    if (request_body_.complete()) break;
    const Io io = client_.read_body();
    if (io == Io::Blocked) return progress;
    if (io != Io::Progress) {
      session_.finish(Ending::Abort);  // the client went away in the middle of its body
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

bool UpstreamExchange::request_body_over_limit() const {
  // A Content-Length body was judged from its length before anything was read; a chunked one is
  // judged by its data bytes (not its framing) as they are decoded, before any of them is sent.
  const auto limit = session_.context().config().max_body;
  return limit != 0 && request_body_.chunked().data_bytes() > limit;
}

// ---------------------------------------------------------------------------------- failover

bool UpstreamExchange::retry_possible() const {
  // The request can be sent again only if none of its body reached the backend: the rewritten head
  // is still in request_out_, but body bytes already sent are gone from the buffer. Bodiless
  // requests (nearly all idempotent ones) therefore always qualify; a PUT whose body went out does
  // not, even though it is idempotent.
  return !client_.response_started() && request_body_sent_ == 0;
}

bool UpstreamExchange::counts_5xx() const {
  const auto& outlier = selector_->snapshot().config.outlier_detection;
  return outlier && outlier->count_5xx;
}

void UpstreamExchange::upstream_failed(const char* what, int error_status) {
  const bool connecting = stage_ == Stage::Connecting;
  const bool was_reused = upstream_ && upstream_->reuses > 0;
  const bool had_backend = upstream_ != nullptr;
  // A refused or timed-out connect, or a reset before any answer, is held against the backend; a
  // kept-alive connection the backend closed as it was reused is not (a benign race).
  if (had_backend) {
    connector_.failed(connecting    ? upstream::AttemptFailure::Connect
                      : was_reused ? upstream::AttemptFailure::ReusedConnectionClosed
                                   : upstream::AttemptFailure::Exchange,
                      what, session_.context().loop().now());
  }
  if (!connecting && !was_reused) reached_backend_failed_ = true;
  close_upstream_connection(false);
  if (!retry_possible()) {
    session_.answer_error(connecting ? 503 : error_status, what);
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
