// HttpSession, continued: what the session decides for each request (its route and pool, the
// limits and hooks that may answer it first, the head forwarded to the backend), the answers
// Fulcrum gives itself, and the counters and access-log record of each exchange.
#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "http/error_response.h"
#include "http/forwarding.h"
#include "http/http_context.h"
#include "http/http_session.h"
#include "http/session_events.h"
#include "net/listener_state.h"
#include "upstream/session_services.h"

namespace fulcrum::http {

namespace {

constexpr std::uint32_t kDefaultHttpRetries = 2;

}  // namespace

// ---------------------------------------------------------------------------------- a request

void HttpSession::begin_exchange(const RequestHead& head, std::size_t head_length) {
  // Before anything can answer this request (404, 413, 429): answer_error() judges by these
  // whether part of a response already went out, and the last exchange's must not count.
  client_.begin_request(head);
  exchange_.begin_request(head);
  take_newest_settings();
  const auto& config = context_->config();
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
  upstream::Selector& selector = services_.selector(pool_index);
  const PoolConfig& pool = selector.snapshot().config;
  exchange_.choose_pool(selector, client_address_, 1 + pool.retries.value_or(kDefaultHttpRetries), pool_stats_, head,
                        pool);

  write_forwarded_head(head, route, hook_pool.has_value(), request_id.view(), hook_fields);
  if (!exchange_.take_request_head(context_->scratch())) {
    answer_error(431, "request head too large once forwarded");
    return;
  }
  exchange_.set_request_body(head.framing);
  client_.take_request_head(head_length, exchange_.request_body_complete(), exchange_started_);
  client_.clear_close_decision();
  phase_ = Phase::Exchange;
  exchange_.start();
}

void HttpSession::write_forwarded_head(const RequestHead& head, const Route* route, bool hook_pool,
                                       std::string_view request_id, std::string_view hook_fields) {
  std::string& head_out = context_->scratch();
  head_out.clear();
  RequestForwarding forwarding;
  forwarding.client_address = client_ip_;
  forwarding.strip_prefix = route && !hook_pool ? route->strip_prefix() : std::string_view();
  forwarding.upgrade = head.upgrade_requested;
  forwarding.request_id = request_id;
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

void HttpSession::refuse_request(int status, std::string_view reason) {
  listener_stats_->requests.increment();
  exchange_started_ = client_.request_started();  // the head's first byte: durations count from there
  exchange_.refused();
  const bool wants_request = services_.events().sample(Event::Request);
  if (wants_request || services_.access_log() != nullptr) {
    const RefusedRequestLine line = read_refused_request_line(client_.input().view());
    const RequestId request_id = generate_request_id(context_->random());
    if (wants_request) {
      emit_refused_request(services_.events(), line, client_address_.to_string(), listener_, request_id.view());
    }
    if (services_.access_log() != nullptr) {
      open_exchange_record(line.method, line.target, request_id.view(), client_.input().size());
    }
  }
  answer_error(status, reason);  // logs the line once the answer is out (finish → log_access)
}

// ------------------------------------------------------------------------------------ responses

bool HttpSession::response_head_ready(const ResponseHead& head, core::TimePoint now, std::string_view backend,
                                      std::string_view set_cookie) {
  count_response(head.status_code, /*from_backend=*/true);
  if (exchange_record_) exchange_record_->status = head.status_code;
  if (services_.events().sample(Event::Response)) {
    emit_response(services_.events(), head.status_code, backend, now - exchange_started_,
                  exchange_record_ ? std::string_view(exchange_record_->request_id) : std::string_view());
  }
  client_.decide_close(head.framing.kind == BodyKind::UntilClose || services_.draining());
  if (!client_.queue_response_head(head, /*tunnel=*/head.switching_protocols, set_cookie)) {
    answer_error(502, "response head too large once forwarded");
    return false;
  }
  return true;
}

void HttpSession::answer_error(int status, std::string_view reason, std::string_view extra_fields) {
  log::debug("answering", {{"status", status}, {"reason", reason}});
  if (status == 503) {
    if (auto page = unavailable_from_hook(reason)) {
      answer_own(page->first, page->second);
      return;
    }
  }
  answer_own(status, status == 503 ? context_->shared().unavailable_response() : error_response(status), extra_fields);
}

void HttpSession::answer_own(int status, std::string_view response, std::string_view extra_fields) {
  if (client_.response_started()) {
    finish(Ending::Abort);  // part of a response went out: only a cut connection tells the truth
    return;
  }
  count_total_time();
  exchange_.release_upstream(false);
  count_response(status, /*from_backend=*/false);
  if (exchange_record_) exchange_record_->status = status;
  if (services_.events().sample(Event::Response)) {
    emit_response(services_.events(), status, {}, context_->loop().now() - exchange_started_,
                  exchange_record_ ? std::string_view(exchange_record_->request_id) : std::string_view());
  }
  client_.write_own_answer(response, extra_fields);
  begin_closing();
}

// ------------------------------------------------------------------------ counters and the log

void HttpSession::backend_chosen(const upstream::Backend& backend) {
  if (exchange_record_) exchange_record_->backend = backend.address_text();
}

void HttpSession::count_connect_time(core::Clock::duration duration) {
  listener_stats_->connect_time.observe(duration);
  if (route_stats_) route_stats_->connect_time.observe(duration);
  if (pool_stats_) pool_stats_->connect_time.observe(duration);
}

void HttpSession::count_response(int status, bool from_backend) {
  listener_stats_->count_response(status);
  if (route_stats_) route_stats_->count_response(status);
  if (pool_stats_) pool_stats_->count_response(status);
  if (auto* backend_stats = exchange_.backend_stats(); from_backend && backend_stats) {
    backend_stats->traffic.count_response(status);
  }
}

void HttpSession::count_total_time() {
  const auto total = context_->loop().now() - exchange_started_;
  listener_stats_->total_time.observe(total);
  if (route_stats_) route_stats_->total_time.observe(total);
  if (pool_stats_) pool_stats_->total_time.observe(total);
}

void HttpSession::open_exchange_record(std::string_view method, std::string_view path, std::string_view request_id,
                                       std::size_t bytes_in) {
  exchange_record_ = std::make_unique<ExchangeRecord>();
  exchange_record_->started = exchange_started_;
  exchange_record_->method = method;
  exchange_record_->path = path;
  exchange_record_->request_id = request_id;
  exchange_record_->bytes_in = bytes_in;
  client_.set_record(exchange_record_.get());
}

void HttpSession::log_access() {
  exchange_record_->bytes_in += exchange_.request_body_sent();
  log_exchange(*services_.access_log(), services_.index(), *exchange_record_, client_address_.to_string(), listener_,
               context_->loop().now());
  client_.set_record(nullptr);
  exchange_record_.reset();
}

}  // namespace fulcrum::http
