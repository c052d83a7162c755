#include "l4/tcp_session.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include "core/log.h"
#include "events/access_log.h"
#include "events/error_event.h"
#include "events/json_text.h"
#include "net/listener_state.h"
#include "upstream/connection_hook.h"
#include "upstream/connector.h"
#include "upstream/proxy_header_send.h"
#include "upstream/session_services.h"

namespace fulcrum::l4 {

namespace {
constexpr std::size_t kSpliceChunk = 1 << 20;  // the kernel caps each call at the pipe's room
constexpr int kPumpBudget = 16;                // splice calls per turn before yielding to others
// The pipe of a flow that turned out to be bulk. Measured with bench/tcp.sh (one iperf3 stream):
// on an AMD EPYC guest 256 KiB moved 1.43-1.47x HAProxy `mode tcp`, 64 KiB 1.24x and 1 MiB
// 0.92-1.09x; on an Intel Xeon guest the default 64 KiB beat 1 MiB (0.88-0.93x against 0.76x).
// A larger pipe lets one splice move more, but (our reading, not measured) its pages are less likely
// to stay in the CPU cache between the two splices; 256 KiB is the best measured here.
constexpr int kBulkPipeSize = 1 << 18;
constexpr auto kLingerLimit = std::chrono::seconds(2);
constexpr std::uint32_t kRelayEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
}  // namespace

TcpSession::TcpSession(upstream::SessionServices& services, net::ListenerState& listener,
                       std::shared_ptr<const net::ListenerSettings> settings, net::UniqueFd client,
                       const net::Address& client_address)
    : services_(services),
      listener_(listener),
      settings_(std::move(settings)),
      selector_(&services.selector(settings_->pool_index)),
      connector_(services, listener, *this),
      client_(std::move(client)),
      client_address_(client_address),
      timer_([this] { on_timer(); }) {
  client_endpoint_.session = this;
  client_endpoint_.is_client = true;
  upstream_endpoint_.session = this;
  upstream_bound_.session = downstream_bound_.session = this;
}

TcpSession::~TcpSession() {
  drop_queued_send(upstream_bound_);
  drop_queued_send(downstream_bound_);
}

void TcpSession::start() {
  started_ = services_.loop().now();
  auto& metrics = services_.metrics();
  listener_stats_ = &metrics.listener(listener_.slot);
  std::size_t pool_index = settings_->pool_index;
  if (const Hooks* hooks = services_.hooks(); hooks && hooks->on_connection) {
    const upstream::ConnectionDecision decision = upstream::decide_connection(services_, *hooks, listener_, client_address_);
    if (decision.refused) {
      finish(Outcome::Done);  // closed at once, nothing written
      return;
    }
    if (decision.pool) {
      pool_index = *decision.pool;
      selector_ = &services_.selector(pool_index);
    }
  }
  pool_stats_ = &metrics.pool(pool_index);
  listener_stats_->requests.increment();
  pool_stats_->requests.increment();
  connector_.begin(*selector_, client_address_, 0, pool_stats_);
  connect_next();
}

void TcpSession::connect_next() {
  auto& loop = services_.loop();
  switch (connector_.choose(loop.now())) {
    case upstream::Choice::Chosen:
      break;
    case upstream::Choice::Queued:
      state_ = State::Queued;
      // Watch the client for its leaving (its bytes wait in the socket until a backend is there).
      if (!client_registered_ && loop.add(client_.get(), EPOLLRDHUP | EPOLLET, &client_endpoint_)) {
        client_registered_ = true;
      }
      return;
    case upstream::Choice::QueueFull:
      log::warn("queue full", {{"listener", listener_.name}, {"pool", selector_->pool().name()}});
      send_unavailable("queue full");
      return;
    case upstream::Choice::None:
      refuse_unavailable();
      return;
  }
  connect_chosen();
}

void TcpSession::backend_ready() {
  if (state_ != State::Queued) return;  // ended meanwhile: the connector gives the slot back
  state_ = State::Connecting;
  connect_chosen();
}

void TcpSession::queue_timed_out() {
  if (state_ != State::Queued) return;
  log::warn("queue timeout", {{"listener", listener_.name}, {"pool", selector_->pool().name()}});
  state_ = State::Connecting;
  send_unavailable("queue timeout");
}

void TcpSession::connect_chosen() {
  auto& loop = services_.loop();
  net::ConnectStart started;
  int error = 0;
  upstream_ = connector_.start_connect(started, error);
  switch (started) {
    case net::ConnectStart::Connected:
      on_connected(EPOLLIN | EPOLLOUT);  // what the backend has sent yet is unknown: try to read
      return;
    case net::ConnectStart::Failed:
      on_connect_failed(error);
      return;
    case net::ConnectStart::InProgress:
      break;
  }
  if (!loop.add(upstream_.get(), kRelayEvents, &upstream_endpoint_)) {
    on_local_failure("cannot connect to backend: out of local resources", errno);  // epoll out of memory
    return;
  }
  upstream_registered_ = true;
  loop.timers().schedule(timer_, loop.now() + selector_->snapshot().connect_timeout);
}

void TcpSession::Endpoint::on_io(std::uint32_t events) {
  switch (session->state_) {
    case State::Queued:
      // Only the client is watched, for its leaving: its place in the queue goes with it.
      if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) session->finish(Outcome::Aborted);
      break;
    case State::Connecting:
      if (!is_client) session->on_backend_event(events);
      break;
    case State::Relaying:
      session->on_relay_event(is_client, events);
      break;
    case State::Lingering:
      session->linger();
      break;
    case State::Ended:
      break;
  }
}

void TcpSession::on_backend_event(std::uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) {
    const int error = net::socket_error(upstream_.get());
    on_connect_failed(error != 0 ? error : ECONNREFUSED);
  } else if (events & EPOLLOUT) {
    on_connected(events);  // writable without an error: the handshake completed
  }
}

void TcpSession::on_connect_failed(int error) {
  if (net::is_local_resource_error(error)) {
    on_local_failure("cannot connect to backend: out of local resources", error);
    return;
  }
  close_upstream(/*abortive=*/true);
  connector_.failed(upstream::AttemptFailure::Connect, std::strerror(error), services_.loop().now());
  connect_next();
}

void TcpSession::close_upstream(bool abortive) {
  if (!upstream_) return;
  if (abortive) net::set_abortive_close(upstream_.get());
  upstream_.reset();  // close() also ends its epoll registration
  upstream_registered_ = false;
}

void TcpSession::on_local_failure(const char* what, int error) {
  // Nothing is held against the backend, and nothing is retried (see Connector::failed_locally).
  connector_.failed_locally(what, error, connected_ ? "relay" : "connect");
  if (connected_) {
    finish(Outcome::Aborted);
    return;
  }
  close_upstream(/*abortive=*/false);
  send_unavailable();
}

void TcpSession::on_connected(std::uint32_t backend_events) {
  auto& loop = services_.loop();
  // send_proxy: the header goes first, before any relayed byte (the buffer is empty: no wait).
  const auto send_proxy = selector_->snapshot().config.send_proxy;
  if (send_proxy != PoolConfig::SendProxy::Off &&
      !upstream::send_proxy_header(upstream_.get(), send_proxy, client_address_, destination())) {
    on_connect_failed(errno);
    return;
  }
  connected_ = true;
  connector_.connected(/*reused=*/false);
  auto& backend = *connector_.backend();
  backend.record_success();  // passive health: a tcp pool's success is an established connection
  const auto connect_time = loop.now() - connector_.connect_started();
  connector_.backend_stats()->latency.observe(connect_time);  // tcp: a backend's latency is its connect time
  backend.record_response_time(connect_time, loop.now());      // least_latency's estimate
  listener_stats_->connect_time.observe(connect_time);
  pool_stats_->connect_time.observe(connect_time);
  // The table of the snapshot the backend was chosen from: the close is counted in the same one,
  // even if a reload has started a new table by then.
  sticky_ = selector_->snapshot().sticky;
  if (sticky_) sticky_->on_open(connector_.selection().client, backend.id(), loop.now());

  upstream_bound_.pipe = services_.pipes().acquire();
  downstream_bound_.pipe = services_.pipes().acquire();
  if (!upstream_bound_.pipe.valid() || !downstream_bound_.pipe.valid()) {
    on_local_failure("cannot relay: out of local resources", errno);
    return;
  }
  const bool client_watched = client_registered_ ? loop.modify(client_.get(), kRelayEvents, &client_endpoint_)
                                                 : loop.add(client_.get(), kRelayEvents, &client_endpoint_);
  if (!client_watched) {
    on_local_failure("cannot relay: out of local resources", errno);
    return;
  }
  client_registered_ = true;
  // A connect that completed at once was never registered; one that completed later already is.
  if (!upstream_registered_) loop.add(upstream_.get(), kRelayEvents, &upstream_endpoint_);
  upstream_bound_.from = client_.get();
  upstream_bound_.to = upstream_.get();
  downstream_bound_.from = upstream_.get();
  downstream_bound_.to = client_.get();
  // The event that reported the handshake may also report the backend's first bytes or its FIN
  // (edge-triggered: they will not be reported again). Without them, the backend has sent nothing
  // yet, and its first bytes will raise an event: no recv is spent on an EAGAIN to learn that.
  downstream_bound_.readable = false;
  note_events(/*client_side=*/false, backend_events);
  state_ = State::Relaying;
  loop.timers().schedule(timer_, loop.now() + settings_->config.idle_timeout);
  relay();
}

void TcpSession::note_events(bool client_side, std::uint32_t events) {
  Flow& reading = client_side ? upstream_bound_ : downstream_bound_;  // the flow this socket feeds
  Flow& writing = client_side ? downstream_bound_ : upstream_bound_;  // the flow that writes to it
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) reading.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) reading.peer_closing = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writing.writable = true;
}

void TcpSession::on_relay_event(bool client_side, std::uint32_t events) {
  note_events(client_side, events);
  relay();
}

void TcpSession::relay() {
  if (state_ != State::Relaying) return;
  int budget = kPumpBudget;
  const auto up_before = upstream_bound_.bytes;
  const auto down_before = downstream_bound_.bytes;
  const auto before = up_before + down_before;
  const PumpResult up = pump(upstream_bound_, budget);
  const PumpResult down = up == PumpResult::Error ? PumpResult::Ok : pump(downstream_bound_, budget);
  count_relayed(upstream_bound_, upstream_bound_.bytes - up_before);
  count_relayed(downstream_bound_, downstream_bound_.bytes - down_before);
  if (up == PumpResult::Error || down == PumpResult::Error) {
    finish(Outcome::Aborted);
    return;
  }
  auto& loop = services_.loop();
  if (upstream_bound_.bytes + downstream_bound_.bytes != before) {
    loop.timers().schedule(timer_, loop.now() + settings_->config.idle_timeout);
  }
  if (upstream_bound_.done() && downstream_bound_.done()) {
    finish(Outcome::Done);
    return;
  }
  if ((up == PumpResult::Yield || down == PumpResult::Yield) && !relay_scheduled_) {
    // Edge-triggered: nobody will tell us again about bytes we left unread, so come back after
    // the other connections of this turn had theirs.
    relay_scheduled_ = true;
    loop.defer([this] {
      relay_scheduled_ = false;
      relay();
    });
  }
}

void TcpSession::note_error(int fd, int error) {
  // Passive health: an error (reset, EPIPE) on the backend's socket counts against the backend; one
  // on the client's does not. Either ends the session with a reset to the other side (finish()).
  const auto& backend = connector_.backend();
  if (backend && fd == upstream_.get()) {
    backend->record_failure();
    log::warn("backend connection failed during relay", {{"listener", listener_.name},
                                                         {"backend", backend->address_text()},
                                                         {"error", std::strerror(error)}});
  } else {
    log::info("client connection failed during relay", {{"listener", listener_.name},
                                                        {"client", client_address_.to_string()},
                                                        {"error", std::strerror(error)}});
  }
}

void TcpSession::count_relayed(const Flow& flow, std::uint64_t bytes) {
  if (bytes == 0) return;
  auto* backend_stats = connector_.backend_stats();
  if (&flow == &downstream_bound_ && flow.bytes == bytes && upstream_bound_.bytes == 0) {
    // The backend spoke first (a greeting, a banner): how long it took to, from the connect's
    // start, is a truer latency than the handshake alone.
    const auto now = services_.loop().now();
    connector_.backend()->record_response_time(now - connector_.connect_started(), now);
  }
  if (&flow == &upstream_bound_) {
    listener_stats_->bytes_in.add(bytes);
    pool_stats_->bytes_out.add(bytes);
    backend_stats->traffic.bytes_out.add(bytes);
  } else {
    backend_stats->traffic.bytes_in.add(bytes);
    pool_stats_->bytes_in.add(bytes);
    listener_stats_->bytes_out.add(bytes);
  }
}

ssize_t TcpSession::read_message(Flow& flow, char* into, std::size_t room) {
  const ssize_t n = recv(flow.from, into, room, 0);
  if (n > 0) {
    const auto got = static_cast<std::size_t>(n);
    // A short read proves the socket drained (unless its FIN is still to be read), so no syscall
    // is spent on an EAGAIN.
    if (got < room && !flow.peer_closing) flow.readable = false;
    if (got == room) {
      // A stream, not messages: splice from now on, through a pipe large enough that each round
      // trip moves a lot (the kernel caps it at /proc/sys/fs/pipe-max-size).
      flow.bulk = true;
      fcntl(flow.pipe.write_fd, F_SETPIPE_SZ, kBulkPipeSize);
    }
    return n;
  }
  if (n == 0) {
    flow.read_done = true;
  } else if (errno == EAGAIN) {
    flow.readable = false;
  } else if (errno != EINTR) {
    note_error(flow.from, errno);
    return -1;  // ECONNRESET and friends
  }
  return 0;
}

bool TcpSession::park_unsent(Flow& flow, const char* message, std::size_t size, std::size_t sent) {
  if (sent == size) return true;
  // The pipe is empty here (a message is only read when it is), and holds more than a message.
  const ssize_t w = write(flow.pipe.write_fd, message + sent, size - sent);
  if (w != static_cast<ssize_t>(size - sent)) return false;
  flow.buffered = size - sent;
  return true;
}

TcpSession::PumpResult TcpSession::queue_small_message(Flow& flow, core::SendBatch& batch) {
  // As the direct path in pump(), but the bytes must outlive this call: read into a pooled block
  // the flow keeps until the send's result, not the worker's scratch buffer.
  auto& buffers = services_.buffers();
  buffers.attach(flow.staging);
  const std::size_t room = std::min(flow.staging.tail_room(), services_.scratch().size());
  const ssize_t n = read_message(flow, flow.staging.tail(), room);
  if (n <= 0) {
    buffers.detach(flow.staging, /*force=*/true);
    return n < 0 ? PumpResult::Error : PumpResult::Ok;
  }
  const auto got = static_cast<std::size_t>(n);
  flow.staging.produced(got);
  const iovec part{flow.staging.data(), got};
  flow.ticket = batch.queue(flow.to, {&part, 1}, flow);
  flow.in_flight = true;
  return PumpResult::Ok;
}

void TcpSession::on_flow_sent(Flow& flow, int sent_or_error) {
  flow.in_flight = false;
  if (state_ != State::Relaying) {
    services_.buffers().detach(flow.staging, /*force=*/true);
    return;
  }
  const std::size_t got = flow.staging.size();
  if (sent_or_error < 0 && sent_or_error != -EAGAIN && sent_or_error != -EINTR) {
    note_error(flow.to, -sent_or_error);
    services_.buffers().detach(flow.staging, /*force=*/true);
    finish(Outcome::Aborted);
    return;
  }
  const std::size_t sent = sent_or_error > 0 ? static_cast<std::size_t>(sent_or_error) : 0;
  if (sent < got) flow.writable = false;
  const bool parked = park_unsent(flow, flow.staging.data(), got, sent);
  services_.buffers().detach(flow.staging, /*force=*/true);
  if (!parked) {
    finish(Outcome::Aborted);
    return;
  }
  flow.bytes += sent;
  count_relayed(flow, sent);
  auto& loop = services_.loop();
  loop.timers().schedule(timer_, loop.now() + settings_->config.idle_timeout);
  relay();
}

void TcpSession::drop_queued_send(Flow& flow) {
  if (flow.in_flight) services_.loop().send_batch()->cancel(flow.ticket);
  flow.in_flight = false;
  services_.buffers().detach(flow.staging, /*force=*/true);
}

TcpSession::PumpResult TcpSession::pump(Flow& flow, int& budget) {
  constexpr unsigned kFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
  bool progress = true;
  while (progress) {
    progress = false;
    if (flow.in_flight) return PumpResult::Ok;  // on_flow_sent() resumes it
    if (budget-- <= 0) return PumpResult::Yield;
    if (!flow.read_done && flow.readable && flow.buffered == 0 && !flow.bulk && flow.writable) {
      if (auto* batch = services_.loop().send_batch()) {
        const PumpResult queued = queue_small_message(flow, *batch);
        if (queued != PumpResult::Ok || flow.in_flight) return queued;
        progress = true;  // nothing read (EAGAIN, FIN): go on to what follows
        continue;
      }
    }
    if (!flow.read_done && flow.readable && flow.buffered == 0 && !flow.bulk) {
      // Small messages: recv into the worker's scratch buffer and send on at once. Cheaper than
      // two splices through a pipe. What the receiver cannot take yet waits in the pipe.
      auto& scratch = services_.scratch();
      const ssize_t n = read_message(flow, scratch.data(), scratch.size());
      if (n < 0) return PumpResult::Error;
      if (n > 0) {
        const auto got = static_cast<std::size_t>(n);
        std::size_t sent = 0;
        if (flow.writable) {
          const ssize_t m = send(flow.to, scratch.data(), got, MSG_NOSIGNAL);
          if (m > 0) {
            sent = static_cast<std::size_t>(m);
          } else if (m < 0 && errno != EAGAIN && errno != EINTR) {
            note_error(flow.to, errno);
            return PumpResult::Error;
          }
          if (sent < got) flow.writable = false;
        }
        if (!park_unsent(flow, scratch.data(), got, sent)) return PumpResult::Error;
        flow.bytes += sent;
        progress = true;
        continue;
      }
      progress = !flow.read_done && flow.readable;  // nothing read: only EINTR is worth a retry
    } else if (!flow.read_done && flow.readable) {
      const ssize_t n = splice(flow.from, nullptr, flow.pipe.write_fd, nullptr, kSpliceChunk, kFlags);
      if (n > 0) {
        flow.buffered += static_cast<std::size_t>(n);
        progress = true;
      } else if (n == 0) {
        flow.read_done = true;
      } else if (errno == EINTR) {
        progress = true;
      } else if (errno == EAGAIN) {
        // The socket is empty or the pipe is full; only the first needs a new edge to resume.
        if (flow.buffered == 0) flow.readable = false;
      } else {
        note_error(flow.from, errno);
        return PumpResult::Error;
      }
    }
    if (flow.buffered > 0 && flow.writable) {
      const ssize_t n = splice(flow.pipe.read_fd, nullptr, flow.to, nullptr, flow.buffered, kFlags);
      if (n > 0) {
        flow.buffered -= static_cast<std::size_t>(n);
        flow.bytes += static_cast<std::uint64_t>(n);
        progress = true;
      } else if (n < 0 && errno == EINTR) {
        progress = true;
      } else if (n < 0 && errno == EAGAIN) {
        flow.writable = false;
      } else if (n < 0) {
        note_error(flow.to, errno);
        return PumpResult::Error;  // EPIPE, ECONNRESET: the receiver is gone
      }
    }
  }
  if (flow.read_done && flow.buffered == 0 && !flow.write_shut) {
    // Half-close: pass the FIN on, keep relaying the other direction. When the other direction is
    // already over, the session closes both sockets next and close() sends this FIN itself.
    const Flow& other = &flow == &upstream_bound_ ? downstream_bound_ : upstream_bound_;
    if (!other.done()) shutdown(flow.to, SHUT_WR);
    flow.write_shut = true;
  }
  return PumpResult::Ok;
}

void TcpSession::on_timer() {
  switch (state_) {
    case State::Queued:
      break;  // the connector's queue timer ends the wait
    case State::Connecting:
      on_connect_failed(ETIMEDOUT);
      break;
    case State::Relaying:
      log::debug("idle timeout", {{"listener", listener_.name}, {"client", client_address_.to_string()}});
      finish(Outcome::Aborted);
      break;
    case State::Lingering:
    case State::Ended:
      finish(Outcome::Done);
      break;
  }
}

void TcpSession::refuse_unavailable() {
  log::warn("no backend available", {{"listener", listener_.name},
                                     {"pool", selector_->pool().name()},
                                     {"client", client_address_.to_string()}});
  send_unavailable();
}

void TcpSession::send_unavailable(std::string_view reason) {
  std::optional<std::string> page;
  if (const Hooks* hooks = services_.hooks(); hooks && hooks->unavailable) {
    const std::string client = client_address_.to_string();
    const std::string label = listener_.label();
    try {
      page = hooks->unavailable(UnavailableInfo{label, selector_->pool().name(), client, reason}).body;
    } catch (const std::exception& error) {
      log::error("unavailable hook threw", {{"listener", label}, {"error", error.what()}});
    }
  }
  const auto& configured = settings_->config.unavailable;
  const std::string_view text = page ? std::string_view(*page) : configured ? std::string_view(*configured) : std::string_view();
  if (text.empty()) {
    finish(Outcome::Done);
    return;
  }
  // Best effort: a short text fits in an empty socket buffer.
  [[maybe_unused]] auto n = send(client_.get(), text.data(), text.size(), MSG_NOSIGNAL);
  shutdown(client_.get(), SHUT_WR);
  // Closing now with unread client bytes would send RST and could destroy the text in flight;
  // read and drop the client's bytes until its FIN or a short limit (NGINX's lingering close).
  auto& loop = services_.loop();
  state_ = State::Lingering;
  constexpr std::uint32_t kLingerEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;
  const bool watched = client_registered_ ? loop.modify(client_.get(), kLingerEvents, &client_endpoint_)
                                          : loop.add(client_.get(), kLingerEvents, &client_endpoint_);
  if (!watched) {
    finish(Outcome::Done);
    return;
  }
  client_registered_ = true;
  loop.timers().schedule(timer_, loop.now() + kLingerLimit);
  linger();
}

void TcpSession::linger() {
  char sink[4096];
  for (;;) {
    const ssize_t n = recv(client_.get(), sink, sizeof sink, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    finish(Outcome::Done);  // FIN or error
    return;
  }
}

void TcpSession::finish(Outcome outcome) {
  if (state_ == State::Ended) return;
  state_ = State::Ended;
  auto& loop = services_.loop();
  loop.timers().cancel(timer_);
  const auto now = loop.now();
  // Before the sockets close: a reused fd number must never receive a queued send.
  drop_queued_send(upstream_bound_);
  drop_queued_send(downstream_bound_);
  // close() ends the epoll registrations (these fds are never dup'ed); events already fetched in
  // this turn still find this object, in state Ended, because deletion is deferred.
  if (client_) {
    if (outcome == Outcome::Aborted) net::set_abortive_close(client_.get());
    client_.reset();
  }
  if (upstream_) {
    if (outcome == Outcome::Aborted) net::set_abortive_close(upstream_.get());
    upstream_.reset();
  }
  services_.pipes().release(upstream_bound_.pipe, upstream_bound_.buffered == 0);
  services_.pipes().release(downstream_bound_.pipe, downstream_bound_.buffered == 0);
  connector_.release();
  if (listener_stats_) listener_stats_->total_time.observe(now - started_);
  if (pool_stats_) pool_stats_->total_time.observe(now - started_);
  if (connected_ && sticky_) sticky_->on_close(connector_.selection().client, connector_.backend()->id(), now);
  if (auto* access_log = services_.access_log()) {
    const std::string client = client_address_.to_string();
    const std::string label = listener_.label();
    events::AccessRecord record;
    record.time = std::chrono::system_clock::now();
    record.client = client;
    record.listener = label;
    if (connected_) record.backend = connector_.backend()->address_text();
    record.bytes_in = upstream_bound_.bytes;
    record.bytes_out = downstream_bound_.bytes;
    record.duration_ms = std::chrono::duration<double, std::milli>(now - started_).count();
    access_log->log(services_.index(), record);
  }
  connector_.reset();  // out of the queue, if it waited there
  services_.session_ended(*this, listener_);
}

}  // namespace fulcrum::l4
