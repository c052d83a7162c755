#include "http/client_side.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "core/log.h"
#include "http/client_timeouts.h"
#include "http/forwarding.h"
#include "http/http_context.h"
#include "http/http_session.h"
#include "http/request_parser.h"
#include "http/session_events.h"

namespace fulcrum::http {

namespace {

constexpr auto kLingerLimit = std::chrono::seconds(2);

}  // namespace

ClientSide::ClientSide(HttpSession& session, SendGate& gate, net::UniqueFd fd, metrics::TrafficCounters& listener_stats,
                       const ListenerConfig& config)
    : session_(session),
      fd_(std::move(fd)),
      socket_(gate, /*ready=*/true),
      listener_stats_(listener_stats),
      body_rate_(config.body_min_rate, config.body_min_rate_grace) {
  endpoint_.session = &session;
}

ClientSide::~ClientSide() = default;

void ClientSide::Endpoint::on_io(std::uint32_t events) { session->on_client_io(events); }

// -------------------------------------------------------------------------------------- requests

bool ClientSide::parse_request() {
  HttpWorkerContext& context = session_.context();
  bool progress = false;
  const bool had_bytes = !input_.empty();
  if (!had_bytes || own_parser_) {
    const Io io = read();
    if (io == Io::Progress) {
      progress = true;
      if (!had_bytes && !own_parser_) request_started_ = context.loop().now();
    } else if (io == Io::Eof || io == Io::Error) {
      // Closed between requests (the normal end of keep-alive), or in the middle of a head.
      session_.finish(io == Io::Error ? Ending::Abort : Ending::Graceful);
      return true;
    } else if (!had_bytes) {
      context.buffers().detach(input_);  // idle: hold no buffer
      return false;
    } else if (!progress) {
      return false;
    }
  }

  RequestParser* parser = own_parser_.get();
  if (!parser) {
    parser = &context.request_parser();
    parser->reset();
  }
  const ParseResult result = parser->parse(input_.view());
  switch (result.status) {
    case ParseStatus::NeedMore:
      if (!own_parser_) {
        // The head spans reads: keep a parser of our own so that it resumes where it stopped.
        own_parser_ = std::make_unique<RequestParser>(context.shared().request_limits());
        own_parser_->parse(input_.view());
        // Come back to read the rest: these bytes may have waited in input_ (pipelined behind
        // the last request) while the rest arrived, and that arrival's edge is already spent.
        return true;
      }
      return progress;
    case ParseStatus::Error:
      log::info("bad request", {{"listener", context.config().name},
                                {"client", session_.client_address().to_string()},
                                {"status", static_cast<int>(result.error.status)},
                                {"reason", result.error.reason}});
      session_.refuse_request(result.error.status, result.error.reason);
      return true;
    case ParseStatus::Complete:
      // The head may live in the parser: the session is done with it when this returns.
      session_.begin_exchange(parser->head(), result.head_length);
      own_parser_.reset();
      return true;
  }
  return progress;
}

core::TimePoint ClientSide::request_deadline(const ListenerConfig& config) const {
  return request_head_deadline(config, HeadWait{.started = request_started_,
                                                .idle = idle(),
                                                .bytes_held = !input_.empty(),
                                                .served_before = requests_served_ > 0});
}

void ClientSide::take_request_head(std::size_t head_length, bool body_complete, core::TimePoint now) {
  input_.consume(head_length);
  body_rate_.reset();
  // Bytes that came with the head are the body's first (or a pipelined request's, harmlessly).
  if (!body_complete) body_rate_.received(input_.size(), now);
}

Io ClientSide::read() {
  std::size_t got = 0;
  HttpWorkerContext& context = session_.context();
  const Io io = socket_.read(fd_.get(), input_, context.buffers(), context.loop(), got);
  if (got > 0) listener_stats_.bytes_in.add(got);
  return io;
}

Io ClientSide::read_body() {
  std::size_t got = 0;
  HttpWorkerContext& context = session_.context();
  const Io io = socket_.read(fd_.get(), input_, context.buffers(), context.loop(), got);
  if (got > 0) {
    listener_stats_.bytes_in.add(got);
    body_rate_.received(got, socket_.activity);
  }
  return io;
}

core::TimePoint ClientSide::request_body_deadline(const ListenerConfig& config, core::TimePoint now,
                                                  core::TimePoint upstream_activity, bool backend_holds_body) {
  // Body bytes we hold that the backend has not taken (or its head not yet out): we stopped
  // reading because of the backend, so the rate clock stops too.
  if (backend_holds_body) {
    body_rate_.pause(now);
  } else {
    body_rate_.resume(now);
  }
  return http::request_body_deadline(config, std::max(socket_.activity, upstream_activity), body_rate_.deadline(),
                                     request_started_);
}

std::string_view ClientSide::request_body_timeout_reason(const ListenerConfig& config, core::TimePoint now) const {
  return http::request_body_timeout_reason(config, now, body_rate_.deadline(), request_started_);
}

// ------------------------------------------------------------------------------------- responses

Io ClientSide::send(SendSite site, std::string_view first, std::string_view second, std::size_t& sent) {
  const Io io = socket_.send_parts(fd_.get(), site, first, second, session_.context().loop(), sent);
  if (io == Io::Progress) {
    listener_stats_.bytes_out.add(sent);
    if (record_) record_->bytes_out += sent;
  }
  return io;
}

bool ClientSide::flush() {
  bool progress = false;
  std::size_t sent = 0;
  while (!output_.empty()) {
    const Io io = send(SendSite::ClientOut, output_.view(), {}, sent);
    if (io == Io::Blocked) break;
    if (io == Io::Error) {
      session_.finish(Ending::Abort);
      return true;
    }
    output_.consume(sent);
    progress = true;
  }
  if (output_.empty()) session_.context().buffers().detach(output_);
  return progress;
}

void ClientSide::pass_interim(std::string_view head) {
  if (version_ != HttpVersion::Http11) return;
  session_.context().buffers().attach(output_);
  if (head.size() <= output_.tail_room()) {
    std::memcpy(output_.tail(), head.data(), head.size());
    output_.produced(head.size());
  }
}

bool ClientSide::queue_response_head(const ResponseHead& head, bool tunnel, std::string_view set_cookie) {
  HttpWorkerContext& context = session_.context();
  std::string& head_out = context.scratch();
  head_out.clear();
  ResponseForwarding forwarding;
  forwarding.client_version = version_;
  forwarding.close = close_after_response_ && !tunnel;
  forwarding.set_cookie = set_cookie;
  write_response_head(head_out, head, forwarding);
  context.buffers().attach(output_);
  output_.compact();
  if (head_out.size() > output_.tail_room()) return false;
  std::memcpy(output_.tail(), head_out.data(), head_out.size());
  output_.produced(head_out.size());
  response_started_ = true;
  return true;
}

Io ClientSide::send_response(std::string_view body, std::size_t& body_sent) {
  body_sent = 0;
  const std::string_view head = output_.view();
  std::size_t sent = 0;
  const Io io = send(SendSite::ResponseHead, head, body, sent);
  if (io != Io::Progress) return io;
  const std::size_t head_part = std::min(sent, head.size());
  output_.consume(head_part);
  body_sent = sent - head_part;
  return io;
}

void ClientSide::write_own_answer(std::string_view response, std::string_view extra_fields) {
  session_.context().buffers().attach(output_);
  output_.compact();
  auto append = [&](std::string_view part) {
    const std::size_t n = std::min(part.size(), output_.tail_room());
    std::memcpy(output_.tail(), part.data(), n);
    output_.produced(n);
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
}

// ---------------------------------------------------------------------------- between requests

void ClientSide::next_request(core::TimePoint now) {
  ++requests_served_;
  request_started_ = now;
  if (input_.empty()) session_.context().buffers().detach(input_);
}

void ClientSide::release_output() { session_.context().buffers().detach(output_); }

core::TimePoint ClientSide::closing_deadline() const {
  // From when closing began, not from the client's last byte: that can be long past (a 504
  // after response_timeout), and a deadline in the past would cut the answer just queued.
  // Bytes read while lingering do not extend it either: a close is bounded.
  return closing_since_ + kLingerLimit;
}

bool ClientSide::linger() {
  // Our last bytes are out. Closing now with unread request bytes would send RST and could destroy
  // them in flight; half-close, then read and drop until the client's FIN (NGINX's lingering close).
  if (!lingering_) {
    lingering_ = true;
    shutdown(fd_.get(), SHUT_WR);
    closing_since_ = session_.context().loop().now();  // the linger limit starts again once our bytes are out
  }
  for (;;) {
    if (socket_.eof) {
      session_.finish(Ending::Graceful);
      return true;
    }
    input_.consume(input_.size());
    const Io io = read();
    if (io == Io::Progress) continue;
    if (io == Io::Blocked) return false;
    session_.finish(Ending::Graceful);
    return true;
  }
}

void ClientSide::close(Ending ending) {
  HttpWorkerContext& context = session_.context();
  socket_.drop_queued_send(context.loop());
  if (fd_) {
    if (ending == Ending::Abort) net::set_abortive_close(fd_.get());
    fd_.reset();  // close() also ends its epoll registration
  }
  context.buffers().detach(input_, true);
  context.buffers().detach(output_, true);
}

}  // namespace fulcrum::http
