// HttpSession: the owner's lifecycle, the state machine that drives the parts, the timer, and the
// end. Routing and the session's answers are in http_session_request.cc.
#include "http/http_session.h"

#include <cerrno>

#include "core/log.h"
#include "http/http_context.h"
#include "net/listener_state.h"
#include "upstream/session_services.h"

namespace fulcrum::http {

namespace {

constexpr int kStepsPerTurn = 64;  // then yield to the other connections of this turn

}  // namespace

HttpSession::HttpSession(upstream::SessionServices& services, net::ListenerState& listener, HttpWorkerContext& context,
                         net::UniqueFd client, const net::Address& client_address)
    : services_(services),
      listener_(listener),
      context_(&context),
      client_address_(client_address),
      client_ip_(client_address.ip_string()),
      timer_([this] { on_timer(); }),
      listener_stats_(&services.metrics().listener(listener.slot)),
      client_(*this, gate_, std::move(client), *listener_stats_, context.config()),
      exchange_(*this, client_, gate_, services, listener) {
  context_->acquire();
}

HttpSession::~HttpSession() {
  // Normally nothing is in flight here (the loop flushes sends before it ends sessions); a worker
  // torn down mid-turn must still not let the kernel read freed buffers.
  client_.socket().drop_queued_send(context_->loop());
  exchange_.socket().drop_queued_send(context_->loop());
}

void HttpSession::start() {
  auto& loop = context_->loop();
  client_.begin_connection(loop.now());
  if (!connection_allowed()) return;
  if (!loop.add(client_.fd(), kSocketEvents, &client_.endpoint())) {
    finish(Ending::Abort);
    return;
  }
  // The request has often arrived with the handshake: read it now rather than after an epoll turn.
  drive();
}

void HttpSession::drain(bool close_idle) {
  if (close_idle && phase_ == Phase::Request && client_.idle()) {
    finish(Ending::Graceful);  // idle between requests: nothing is lost by closing now
  } else {
    client_.close_after_response();  // response_head_ready() also asks the worker
  }
}

net::Address HttpSession::destination() const {
  return destination_ ? *destination_ : net::Address::local_of(client_.fd());
}

// ---------------------------------------------------------------------------------------- events

void HttpSession::on_client_io(std::uint32_t events) {
  if (phase_ == Phase::Ended) return;
  client_.socket().note_events(events);
  drive();
}

void HttpSession::on_send_completed() {
  // Events that came meanwhile only set readiness flags; drive() picks them up.
  if (!gate_.sending() && phase_ != Phase::Ended) drive();
}

void HttpSession::drive() {
  if (gate_.sending()) return;  // resumed by on_send_completed()
  int steps = 0;
  while (phase_ != Phase::Ended && step()) {
    if (++steps == kStepsPerTurn) {
      // Edge-triggered: nobody will wake us for bytes we left unread; come back after the others.
      context_->loop().defer([this] { drive(); });
      break;
    }
  }
  if (phase_ == Phase::Ended) return;
  if (!gate_.sending() && steps < kStepsPerTurn &&
      (client_.socket().result_waiting() || exchange_.socket().result_waiting())) {
    // A queued send's result that its site did not take: the session's logic moved on without it,
    // and the bytes it sent are unaccounted. Cut the connection rather than corrupt the stream.
    log::error("queued send result not taken", {{"listener", context_->config().name}});
    client_.socket().forget_result();
    exchange_.socket().forget_result();
    finish(Ending::Abort);
    return;
  }
  rearm_timer();
}

bool HttpSession::step() {
  switch (phase_) {
    case Phase::Request:
      return client_.parse_request();
    case Phase::Exchange:
      return step_exchange();
    case Phase::Tunnel:
      return tunnel_.pump();
    case Phase::Closing: {
      const bool progress = client_.flush();
      if (phase_ == Phase::Closing && !client_.has_output()) return client_.linger() || progress;
      return progress;
    }
    case Phase::Ended:
      return false;
  }
  return false;
}

bool HttpSession::step_exchange() {
  switch (exchange_.stage()) {
    case UpstreamExchange::Stage::Queued:
      if (client_.socket().closing) {
        finish(Ending::Abort);  // the client left while it waited: its place in the queue goes
        return true;
      }
      return false;
    case UpstreamExchange::Stage::Idle:
    case UpstreamExchange::Stage::Connecting:
      return false;
    case UpstreamExchange::Stage::Flowing:
      break;
  }
  bool progress = client_.flush();
  if (!flowing()) return true;
  progress |= exchange_.pump_request();
  if (!flowing()) return true;
  progress |= exchange_.pump_response();
  if (!flowing()) return true;
  if (exchange_.response_complete() && !client_.has_output()) {
    if (!exchange_.request_sent()) {
      // The backend answered before the whole body came (an early 413, say): the rest of the
      // body has nowhere to go and the connection's framing is lost; close after the answer.
      client_.close_after_response();
      exchange_.give_up_reuse();
    }
    finish_exchange();
    return true;
  }
  return progress;
}

// ---------------------------------------------------------------------------------------- timers

void HttpSession::rearm_timer() {
  const auto& config = context_->config();
  auto& loop = context_->loop();
  core::TimePoint deadline;
  switch (phase_) {
    case Phase::Request:
      deadline = client_.request_deadline(config);
      break;
    case Phase::Exchange:
      switch (exchange_.stage()) {
        case UpstreamExchange::Stage::Idle:
          return;
        case UpstreamExchange::Stage::Queued:
          // The connector's queue timer ends the wait; the client's silence is not held against it.
          client_.pause_body_rate(loop.now());
          loop.timers().cancel(timer_);
          return;
        case UpstreamExchange::Stage::Connecting:
          client_.pause_body_rate(loop.now());  // the backend is what we wait for
          deadline = exchange_.deadline();
          break;
        case UpstreamExchange::Stage::Flowing:
          deadline = exchange_.request_sent() ? exchange_.deadline()
                                              : client_.request_body_deadline(config, loop.now(), exchange_.activity(),
                                                                              exchange_.holds_request_bytes());
          break;
      }
      break;
    case Phase::Tunnel:
      deadline = tunnel_.deadline(config);
      break;
    case Phase::Closing:
      deadline = client_.closing_deadline();
      break;
    case Phase::Ended:
      return;
  }
  loop.timers().schedule(timer_, deadline);
}

void HttpSession::on_timer() {
  // A send in flight is an answer on its way: its completion drives the session and re-arms this
  // timer, so the deadline is judged after the bytes left, never by dropping them.
  if (gate_.sending()) return;
  switch (phase_) {
    case Phase::Request:
      if (client_.idle()) {
        finish(Ending::Graceful);  // an idle keep-alive client, or one that never spoke
      } else {
        log::info("request head timeout", {{"listener", context_->config().name}, {"client", client_address_.to_string()}});
        refuse_request(408, "request head not received in time");
      }
      break;
    case Phase::Exchange:
      if (exchange_.stage() == UpstreamExchange::Stage::Flowing && !exchange_.request_sent()) {
        request_body_timed_out();
      } else if (exchange_.stage() == UpstreamExchange::Stage::Flowing ||
                 exchange_.stage() == UpstreamExchange::Stage::Connecting) {
        exchange_.timed_out();
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

void HttpSession::request_body_timed_out() {
  const auto& config = context_->config();
  const std::string_view reason = client_.request_body_timeout_reason(config, context_->loop().now());
  log::info("request body timeout",
            {{"listener", config.name}, {"client", client_address_.to_string()}, {"reason", reason}});
  // answer_error() cuts the backend connection: a body cut short is never passed on as whole.
  answer_error(408, reason);
}

// ---------------------------------------------------------------------------------------- endings

void HttpSession::finish_exchange() {
  if (exchange_record_) log_access();
  count_total_time();
  exchange_.finish();
  route_stats_ = pool_stats_ = nullptr;
  // Between requests a session holds no buffer (the client's input keeps one only for pipelined bytes).
  client_.release_output();
  if (client_.closes_after_response()) {
    begin_closing();
    return;
  }
  phase_ = Phase::Request;
  client_.next_request(context_->loop().now());
}

void HttpSession::start_tunnel() {
  phase_ = Phase::Tunnel;
  exchange_.release_request_buffer(/*force=*/true);
  log::debug("tunnel", {{"listener", context_->config().name}, {"client", client_address_.to_string()}});
}

void HttpSession::begin_closing() {
  phase_ = Phase::Closing;
  client_.begin_closing(context_->loop().now());
}

void HttpSession::finish(Ending ending) {
  if (phase_ == Phase::Ended) return;
  phase_ = Phase::Ended;
  context_->loop().timers().cancel(timer_);
  exchange_.end();
  client_.close(ending);
  exchange_.release_request_buffer(/*force=*/true);
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
