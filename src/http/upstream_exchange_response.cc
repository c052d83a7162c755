// UpstreamExchange, continued: the response (head parsed, body relayed to the client), the
// exchange's timeouts, and the end of an exchange (the connection kept or closed, the slot back).
#include <cstring>

#include "core/log.h"
#include "http/client_side.h"
#include "http/http_context.h"
#include "http/http_session.h"
#include "http/response_parser.h"
#include "http/upstream_exchange.h"

namespace fulcrum::http {

bool UpstreamExchange::pump_response() {
  if (!upstream_ || stage_ != Stage::Flowing) return false;
  bool progress = false;
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
            session_.answer_error(502, "truncated response head");
          }
          return true;
        }
        progress = true;
      }
      ResponseParser* parser = own_response_parser_.get();
      if (!parser) {
        parser = &session_.context().response_parser();
        parser->reset(method_);
      }
      const ParseResult result = parser->parse(buffer.view());
      if (result.status == ParseStatus::NeedMore) {
        if (!own_response_parser_) {
          own_response_parser_ = std::make_unique<ResponseParser>(session_.context().shared().response_limits(), method_);
          own_response_parser_->parse(buffer.view());
        }
        continue;
      }
      if (result.status == ParseStatus::Error) {
        log::warn("invalid backend response", {{"backend", upstream_->backend().address_text()},
                                               {"reason", result.error.reason}});
        session_.answer_error(502, result.error.reason);
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
        session_.finish(Ending::Abort);
        return true;
      }
      response_body_pending_ = body.consumed;
      if (response_body_.complete()) response_received();
    }
    if (client_.has_output() || response_body_pending_ > 0) {
      std::size_t body_sent = 0;
      const Io io = client_.send_response({buffer.data(), response_body_pending_}, body_sent);
      if (io == Io::Blocked) return progress;
      if (io == Io::Error) {
        session_.finish(Ending::Abort);
        return true;
      }
      buffer.consume(body_sent);
      response_body_pending_ -= body_sent;
      progress = true;
      continue;
    }
    if (response_done_) return progress;
    const Io io = read_upstream();
    if (io == Io::Blocked) return progress;
    if (io == Io::Eof && response_until_close_) {
      response_received();
      client_.close_after_response();
      return true;
    }
    if (io != Io::Progress) {
      // Cut in the middle of a delimited body: the client must not take it for a whole response.
      log::warn("backend response truncated", {{"backend", upstream_->backend().address_text()}});
      session_.finish(Ending::Abort);
      return true;
    }
    progress = true;
  }
}

bool UpstreamExchange::on_response_head(const ResponseHead& head, std::size_t head_length) {
  auto& buffer = upstream_->buffer();
  if (head.interim) {
    // 100 Continue and friends: passed to an HTTP/1.1 client as they are; wait for the final head.
    client_.pass_interim({buffer.data(), head_length});
    buffer.consume(head_length);
    return true;
  }
  // A fresh clock read, not the loop's: the answer may come within the turn the request left in
  // (sends leave at the end of a turn's phase), and least_latency needs the real time to first byte.
  const auto now = core::Clock::now();
  upstream::Backend& backend = upstream_->backend();
  backend.record_response_time(now - request_sent_at_, now);
  // Passive health: an answer is a success, unless it is a 5xx and the pool counts those.
  if (head.status_code >= 500 && counts_5xx()) {
    backend.record_failure();
  } else {
    backend.record_success();
  }

  if (head.switching_protocols && !upgrade_requested_) {
    session_.answer_error(502, "unrequested protocol switch");
    return false;
  }
  const bool tunnel = head.switching_protocols;
  set_sticky_cookie(backend);
  // The session counts and reports the response and has the client side write its head.
  if (!session_.response_head_ready(head, now, backend.address_text(), set_cookie_)) return false;
  response_head_done_ = true;
  reusable_ = head.keep_alive && head.framing.kind != BodyKind::UntilClose && !tunnel;
  buffer.consume(head_length);
  if (tunnel) {
    session_.start_tunnel();
    return false;
  }
  response_body_ = BodyTracker(head.framing);
  response_until_close_ = head.framing.kind == BodyKind::UntilClose;
  if (response_body_.complete()) response_received();
  return true;
}

void UpstreamExchange::response_received() {
  if (auto* backend_stats = connector_.backend_stats(); !response_done_ && backend_stats) {
    backend_stats->latency.observe(core::Clock::now() - session_.exchange_started());
  }
  response_done_ = true;
  // The backend is done with this request now, before its last bytes reach the client: a client
  // that sends its next request at once (maybe to another worker) must find the count already down.
  connector_.release();
}

// ------------------------------------------------------------------------------------- timeouts

core::TimePoint UpstreamExchange::deadline() const {
  const auto& snapshot = selector_->snapshot();
  if (stage_ == Stage::Connecting) return socket_.activity + snapshot.connect_timeout;
  if (!response_head_done_) return request_sent_at_ + snapshot.config.response_timeout;
  return std::max(client_.activity(), socket_.activity) + snapshot.config.response_timeout;
}

void UpstreamExchange::timed_out() {
  if (stage_ == Stage::Connecting) {
    upstream_failed("connect timeout", 503);
    return;
  }
  const std::string_view listener = session_.context().config().name;
  if (!response_head_done_) {
    log::warn("backend response timeout",
              {{"listener", listener}, {"backend", upstream_ ? upstream_->backend().address_text() : "-"}});
    if (upstream_) {
      // A backend that never answers must look slow to least_latency, not unknown.
      const auto now = session_.context().loop().now();
      upstream_->backend().record_response_time(now - request_sent_at_, now);
      upstream_->backend().record_failure();  // passive health
    }
    session_.answer_error(504, "backend response timeout");
  } else {
    log::warn("backend response stalled",
              {{"listener", listener}, {"backend", upstream_ ? upstream_->backend().address_text() : "-"}});
    session_.finish(Ending::Abort);  // a response stalled midway: never present half of it as whole
  }
}

// ------------------------------------------------------------------------------ the exchange ends

void UpstreamExchange::release_upstream(bool reusable) {
  connector_.release();
  close_upstream_connection(reusable);
  stage_ = Stage::Idle;
}

void UpstreamExchange::close_upstream_connection(bool reusable) {
  if (!upstream_) return;
  auto& context = session_.context();
  socket_.drop_queued_send(context.loop());  // it belongs to this connection, not the next one
  upstream_->set_owner(nullptr);
  // put() keeps it only if it can serve again (empty buffer, backend still in its pool). With
  // send_proxy its header named this client: never handed to another (PROXY protocol spec).
  const PoolConfig& pool = selector_->snapshot().config;
  if (reusable && !socket_.eof && !upstream_->names_a_client && pool.send_proxy == PoolConfig::SendProxy::Off) {
    context.connections().put(std::move(upstream_), pool.max_idle, pool.idle_timeout);
  } else {
    context.connections().discard(std::move(upstream_));  // deleted after the turn, not now
  }
}

void UpstreamExchange::finish() {
  release_upstream(reusable_ && request_done_);
  request_done_ = true;
  pool_stats_ = nullptr;
  connector_.reset();
  // Between requests a session holds no buffer.
  session_.context().buffers().detach(request_out_, /*force=*/true);
}

void UpstreamExchange::end() {
  release_upstream(false);
  connector_.reset();  // out of the queue, if it waited there
}

void UpstreamExchange::release_request_buffer(bool force) { session_.context().buffers().detach(request_out_, force); }

}  // namespace fulcrum::http
