// HttpSession, continued: the response side (parse, rewrite, stream back), the end of an exchange,
// the tunnel after a 101, and the ways a session ends. The request side is in http_session.cc.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "balance/sticky_cookie.h"
#include "core/log.h"
#include "http/error_response.h"
#include "http/forwarding.h"
#include "http/http_context.h"
#include "http/http_session.h"
#include "http/response_parser.h"
#include "http/session_events.h"
#include "net/listener_state.h"
#include "upstream/session_services.h"

namespace fulcrum::http {

// --------------------------------------------------------------------------------- response side

bool HttpSession::pump_response() {
  if (!upstream_ || phase_ != Phase::Exchange) return false;
  bool progress = false;
  std::size_t sent = 0;
  for (;;) {
    if (!response_head_done_) {
      auto& buffer = upstream_->buffer();
      // Parse only bytes that no parser has seen: with a parser of our own, everything buffered was
      // parsed already, so this pass must read new bytes or stop here. Each pass therefore either
      // reads, or parses bytes for the first time, or returns: it cannot turn without input.
      if (buffer.empty() || own_response_parser_) {
        const Io io = read_upstream();
        if (io == Io::Blocked) return progress;
        if (io == Io::Eof || io == Io::Error) {
          if (buffer.empty()) {
            upstream_failed(io == Io::Eof ? "closed before responding" : "reset before responding", 502);
          } else {
            log::warn("backend response head truncated", {{"backend", upstream_->backend().address_text()},
                                                          {"error", io == Io::Eof ? "closed" : "reset"}});
            answer_error(502, "truncated response head");
          }
          return true;
        }
        progress = true;
      }
      ResponseParser* parser = own_response_parser_.get();
      if (!parser) {
        parser = &context_->response_parser();
        parser->reset(method_);
      }
      const ParseResult result = parser->parse(buffer.view());
      if (result.status == ParseStatus::NeedMore) {
        if (!own_response_parser_) {
          own_response_parser_ = std::make_unique<ResponseParser>(context_->shared().response_limits(), method_);
          own_response_parser_->parse(buffer.view());
        }
        continue;
      }
      if (result.status == ParseStatus::Error) {
        log::warn("invalid backend response", {{"backend", upstream_->backend().address_text()},
                                               {"reason", result.error.reason}});
        answer_error(502, result.error.reason);
        return true;
      }
      const bool continue_session = on_response_head(parser->head(), result.head_length);
      own_response_parser_.reset();
      if (!continue_session) return true;
      progress = true;
      continue;
    }

    // The body: bytes straight from the upstream buffer, behind the head in the same syscall.
    auto& buffer = upstream_->buffer();
    if (response_body_pending_ == 0 && !response_done_) {
      const BodyProgress body = response_body_.advance(buffer.view());
      if (body.error) {
        log::warn("invalid backend response body", {{"backend", upstream_->backend().address_text()},
                                                    {"reason", body.error.reason}});
        finish(Ending::Abort);
        return true;
      }
      response_body_pending_ = body.consumed;
      if (response_body_.complete()) response_received();
    }
    if (!client_out_.empty() || response_body_pending_ > 0) {
      const std::string_view head = client_out_.view();
      const Io io = send_parts(SendSite::ResponseHead, head,
                               {buffer.data(), response_body_pending_}, sent);
      if (io == Io::Blocked) return progress;
      if (io == Io::Error) {
        finish(Ending::Abort);
        return true;
      }
      const std::size_t head_part = std::min(sent, head.size());
      client_out_.consume(head_part);
      buffer.consume(sent - head_part);
      response_body_pending_ -= sent - head_part;
      progress = true;
      continue;
    }
    if (response_done_) return progress;
    const Io io = read_upstream();
    if (io == Io::Blocked) return progress;
    if (io == Io::Eof && response_until_close_) {
      response_received();
      close_after_response_ = true;
      return true;
    }
    if (io != Io::Progress) {
      // Cut in the middle of a delimited body: the client must not take it for a whole response.
      log::warn("backend response truncated", {{"backend", upstream_->backend().address_text()}});
      finish(Ending::Abort);
      return true;
    }
    progress = true;
  }
}

bool HttpSession::on_response_head(const ResponseHead& head, std::size_t head_length) {
  auto& buffer = upstream_->buffer();
  if (head.interim) {
    // 100 Continue and friends: pass them to an HTTP/1.1 client as they are; wait for the final head.
    if (client_version_ == HttpVersion::Http11) {
      context_->buffers().attach(client_out_);
      if (head_length <= client_out_.tail_room()) {
        std::memcpy(client_out_.tail(), buffer.data(), head_length);
        client_out_.produced(head_length);
      }
    }
    buffer.consume(head_length);
    return true;
  }
  // A fresh clock read, not the loop's: the answer may come within the turn the request left in
  // (sends leave at the end of a turn's phase), and least_latency needs the real time to first byte.
  const auto now = core::Clock::now();
  upstream_->backend().record_response_time(now - request_sent_at_, now);
  // Passive health: an answer is a success, unless it is a 5xx and the pool counts those.
  if (head.status_code >= 500 && counts_5xx()) {
    upstream_->backend().record_failure();
  } else {
    upstream_->backend().record_success();
  }

  if (head.switching_protocols && !upgrade_requested_) {
    answer_error(502, "unrequested protocol switch");
    return false;
  }
  const bool tunnel = head.switching_protocols;
  count_response(head.status_code, /*from_backend=*/true);
  if (exchange_record_) exchange_record_->status = head.status_code;
  if (services_.events().sample(Event::Response)) {
    emit_response(services_.events(), head.status_code, upstream_->backend().address_text(), now - exchange_started_,
                  exchange_record_ ? std::string_view(exchange_record_->request_id) : std::string_view());
  }
  set_sticky_cookie(upstream_->backend());
  close_after_response_ = close_after_response_ || !client_keep_alive_ || client_socket_.eof ||
                          head.framing.kind == BodyKind::UntilClose || services_.draining();
  std::string& head_out = context_->scratch();
  head_out.clear();
  ResponseForwarding forwarding;
  forwarding.client_version = client_version_;
  forwarding.close = close_after_response_ && !tunnel;
  forwarding.set_cookie = set_cookie_;
  write_response_head(head_out, head, forwarding);
  context_->buffers().attach(client_out_);
  client_out_.compact();
  if (head_out.size() > client_out_.tail_room()) {
    answer_error(502, "response head too large once forwarded");
    return false;
  }
  std::memcpy(client_out_.tail(), head_out.data(), head_out.size());
  client_out_.produced(head_out.size());
  response_started_ = true;
  response_head_done_ = true;
  upstream_reusable_ = head.keep_alive && head.framing.kind != BodyKind::UntilClose && !tunnel;
  buffer.consume(head_length);
  if (tunnel) {
    start_tunnel();
    return false;
  }
  response_body_ = BodyTracker(head.framing);
  response_until_close_ = head.framing.kind == BodyKind::UntilClose;
  if (response_body_.complete()) response_received();
  return true;
}

void HttpSession::response_received() {
  if (auto* backend_stats = connector_.backend_stats(); !response_done_ && backend_stats) {
    backend_stats->latency.observe(core::Clock::now() - exchange_started_);
  }
  response_done_ = true;
  // The backend is done with this request now, before its last bytes reach the client: a client
  // that sends its next request at once (maybe to another worker) must find the count already down.
  connector_.release();
}

bool HttpSession::flush_client() {
  bool progress = false;
  std::size_t sent = 0;
  while (!client_out_.empty()) {
    const Io io = send(SendSite::ClientOut, client_out_.data(), client_out_.size(), sent);
    if (io == Io::Blocked) break;
    if (io == Io::Error) {
      finish(Ending::Abort);
      return true;
    }
    client_out_.consume(sent);
    progress = true;
  }
  if (client_out_.empty()) context_->buffers().detach(client_out_);
  return progress;
}

void HttpSession::release_upstream(bool reusable) {
  connector_.release();
  close_upstream_connection(reusable);
}

void HttpSession::close_upstream_connection(bool reusable) {
  if (!upstream_) return;
  upstream_socket_.drop_queued_send(context_->loop());  // it belongs to this connection, not the next one
  upstream_->set_owner(nullptr);
  // put() keeps it only if it can serve again (empty buffer, backend still in its pool). With
  // send_proxy its header named this client: never handed to another (PROXY protocol spec).
  const PoolConfig& pool = selector_->snapshot().config;
  if (reusable && !upstream_socket_.eof && !upstream_->names_a_client && pool.send_proxy == PoolConfig::SendProxy::Off) {
    context_->connections().put(std::move(upstream_), pool.max_idle, pool.idle_timeout);
  } else {
    context_->connections().discard(std::move(upstream_));  // deleted after the turn, not now
  }
}

void HttpSession::log_access() {
  exchange_record_->bytes_in += request_body_sent_;
  log_exchange(*services_.access_log(), services_.index(), *exchange_record_, client_address_.to_string(), listener_,
               context_->loop().now());
  exchange_record_.reset();
}

void HttpSession::finish_exchange() {
  if (exchange_record_) log_access();
  count_total_time();
  release_upstream(upstream_reusable_ && request_done_);
  request_done_ = true;
  route_stats_ = pool_stats_ = nullptr;
  connector_.reset();
  // Between requests a session holds no buffer (client_in_ keeps one only for pipelined bytes).
  context_->buffers().detach(request_out_, /*force=*/true);
  context_->buffers().detach(client_out_);
  if (close_after_response_) {
    begin_closing();
    return;
  }
  ++requests_served_;
  phase_ = Phase::Request;
  request_started_ = context_->loop().now();
  if (client_in_.empty()) context_->buffers().detach(client_in_);
}

// ------------------------------------------------------------------------------ tunnel and ends

void HttpSession::start_tunnel() {
  phase_ = Phase::Tunnel;
  context_->buffers().detach(request_out_, /*force=*/true);
  log::debug("tunnel", {{"listener", context_->config().name}, {"client", client_address_.to_string()}});
}

bool HttpSession::pump_tunnel() {
  bool progress = flush_client();
  if (phase_ != Phase::Tunnel || !client_out_.empty()) return progress;
  if (!pump_tunnel_direction(client_in_, SendSite::TunnelToBackend, &HttpSession::read_client, upstream_->fd(),
                             upstream_eof_sent_, progress) ||
      !pump_tunnel_direction(upstream_->buffer(), SendSite::TunnelToClient, &HttpSession::read_upstream,
                             client_.get(), client_eof_sent_, progress)) {
    return true;  // the session ended
  }
  if (upstream_eof_sent_ && client_eof_sent_) {
    finish(Ending::Graceful);
    return true;
  }
  return progress;
}

bool HttpSession::pump_tunnel_direction(core::Buffer& pending, SendSite site, Io (HttpSession::*read)(), int peer_fd,
                                        bool& eof_sent, bool& progress) {
  std::size_t sent = 0;
  for (;;) {
    if (!pending.empty()) {
      const Io io = send(site, pending.data(), pending.size(), sent);
      if (io == Io::Error) return finish(Ending::Abort), false;
      if (io == Io::Blocked) return true;
      pending.consume(sent);
      progress = true;
      continue;
    }
    const Io io = (this->*read)();
    if (io == Io::Progress) {
      progress = true;
      continue;
    }
    if (io == Io::Eof && !eof_sent) {
      shutdown(peer_fd, SHUT_WR);
      eof_sent = true;
      progress = true;
    }
    if (io == Io::Error) return finish(Ending::Abort), false;
    return true;
  }
}

void HttpSession::count_total_time() {
  const auto total = context_->loop().now() - exchange_started_;
  listener_stats_->total_time.observe(total);
  if (route_stats_) route_stats_->total_time.observe(total);
  if (pool_stats_) pool_stats_->total_time.observe(total);
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
  if (response_started_) {
    finish(Ending::Abort);  // part of a response went out: only a cut connection tells the truth
    return;
  }
  count_total_time();
  release_upstream(false);
  count_response(status, /*from_backend=*/false);
  if (exchange_record_) exchange_record_->status = status;
  if (services_.events().sample(Event::Response)) {
    emit_response(services_.events(), status, {}, context_->loop().now() - exchange_started_,
                  exchange_record_ ? std::string_view(exchange_record_->request_id) : std::string_view());
  }
  context_->buffers().attach(client_out_);
  client_out_.compact();
  auto append = [&](std::string_view part) {
    const std::size_t n = std::min(part.size(), client_out_.tail_room());
    std::memcpy(client_out_.tail(), part.data(), n);
    client_out_.produced(n);
  };
  if (extra_fields.empty()) {
    append(response);
  } else {
    // The extra fields go at the end of the head, before its empty line.
    const std::size_t head_end = response.find("\r\n\r\n") + 2;
    append(response.substr(0, head_end));
    append(extra_fields);
    append(response.substr(head_end));
  }
  response_started_ = true;
  close_after_response_ = true;
  begin_closing();
}

void HttpSession::begin_closing() {
  phase_ = Phase::Closing;
  closing_since_ = context_->loop().now();
}

void HttpSession::refuse_request(int status, std::string_view reason) {
  listener_stats_->requests.increment();
  exchange_started_ = request_started_;  // the head's first byte: durations count from there
  request_body_sent_ = 0;
  const bool wants_request = services_.events().sample(Event::Request);
  if (wants_request || services_.access_log() != nullptr) {
    const RefusedRequestLine line = read_refused_request_line(client_in_.view());
    const RequestId request_id = generate_request_id(context_->random());
    if (wants_request) {
      emit_refused_request(services_.events(), line, client_address_.to_string(), listener_, request_id.view());
    }
    if (services_.access_log() != nullptr) {
      open_exchange_record(line.method, line.target, request_id.view(), client_in_.size());
    }
  }
  answer_error(status, reason);  // logs the line once the answer is out (finish → log_access)
}

bool HttpSession::linger() {
  // Our last bytes are out. Closing now with unread request bytes would send RST and could destroy
  // them in flight; half-close, then read and drop until the client's FIN (NGINX's lingering close).
  if (!lingering_) {
    lingering_ = true;
    shutdown(client_.get(), SHUT_WR);
    closing_since_ = context_->loop().now();  // the linger limit starts again once our bytes are out
  }
  for (;;) {
    if (client_socket_.eof) {
      finish(Ending::Graceful);
      return true;
    }
    client_in_.consume(client_in_.size());
    const Io io = read_client();
    if (io == Io::Progress) continue;
    if (io == Io::Blocked) return false;
    finish(Ending::Graceful);
    return true;
  }
}

void HttpSession::finish(Ending ending) {
  if (phase_ == Phase::Ended) return;
  phase_ = Phase::Ended;
  context_->loop().timers().cancel(timer_);
  release_upstream(false);
  connector_.reset();  // out of the queue, if it waited there
  client_socket_.drop_queued_send(context_->loop());
  if (client_) {
    if (ending == Ending::Abort) net::set_abortive_close(client_.get());
    client_.reset();  // close() also ends its epoll registration
  }
  context_->buffers().detach(client_in_, true);
  context_->buffers().detach(client_out_, true);
  context_->buffers().detach(request_out_, true);
  if (exchange_record_) log_access();
  context_->release();  // before session_ended(), which may free a replaced generation
  services_.session_ended(*this, listener_);
}

void HttpSession::take_newest_settings() {
  HttpWorkerContext* newest = context_->newest();
  if (newest == context_) return;
  // The head being handled may live in the old generation's parser: the old context stays until
  // the worker next sweeps (never within this call), and nothing keeps the head beyond it.
  context_->release();
  context_ = newest;
  context_->acquire();
}

}  // namespace fulcrum::http
