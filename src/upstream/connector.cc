#include "upstream/connector.h"

#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "events/error_event.h"
#include "events/json_text.h"
#include "upstream/session_services.h"

namespace fulcrum::upstream {

Connector::Connector(SessionServices& services, const net::ListenerState& listener, Owner& owner)
    : services_(services), listener_(listener), owner_(owner), queue_timer_([this] { on_queue_timeout(); }) {}

void Connector::begin(Selector& selector, const net::Address& client, std::uint32_t max_attempts,
                      metrics::TrafficCounters* pool_stats) {
  reset();
  selector_ = &selector;
  selection_ = selector.begin(client.ip_bytes());
  selection_.max_attempts = max_attempts;
  client_ = &client;
  pool_stats_ = pool_stats;
  backend_.reset();
  backend_stats_ = nullptr;
  retry_pending_ = false;
}

Choice Connector::choose(core::TimePoint now) {
  release();
  Pool& pool = selector_->pool();
  if (!pool.queue().paused()) {
    // A backend the selector saw with a free slot may have lost it to another worker since: look
    // again a few times, then wait like everybody else.
    for (int look = 0; look < 4; ++look) {
      auto backend = selector_->next(selection_, now);
      if (!backend) break;
      if (backend->try_acquire()) {
        take(std::move(backend));
        return Choice::Chosen;
      }
      selection_.forget_last();
      selection_.full = true;
    }
    if (!selection_.full) return Choice::None;
  }
  return wait(now, /*at_front=*/retry_pending_);
}

void Connector::retry_same_backend() {
  // The slot was kept (see failed()): the new connection takes the old one's place.
  count_retry();
}

void Connector::count_retry() {
  if (!retry_pending_) return;
  // Counted on the backend that failed (backend_stats_ still points at it).
  if (backend_stats_) backend_stats_->traffic.retries.increment();
  if (pool_stats_) pool_stats_->retries.increment();
  retry_pending_ = false;
}

void Connector::take(std::shared_ptr<Backend> backend) {
  backend_ = std::move(backend);
  pool_ = &selector_->pool();
  holds_slot_ = true;
  count_retry();  // the previous attempt failed and another backend is tried
  backend_stats_ = &services_.metrics().backend(backend_->counter_slot(), backend_->id());
  if (services_.events().sample(Event::SelectingServer)) {
    services_.events().emit(Event::SelectingServer, events::JsonObject()
                                                        .add("listener", listener_.label())
                                                        .add("pool", selector_->pool().name())
                                                        .add("backend", backend_->address_text())
                                                        .add("attempt", selection_.attempts)
                                                        .add("strategy", selector_->snapshot().strategy)
                                                        .add("client", client_->to_string())
                                                        .finish());
  }
}

Choice Connector::wait(core::TimePoint now, bool at_front) {
  const QueueConfig& config = selector_->snapshot().config.queue;
  WaitQueue& queue = selector_->pool().queue();
  auto ticket = std::make_shared<WaitQueue::Ticket>();
  ticket->loop = &services_.loop();
  ticket->waiter = this;
  ticket->wanted = selection_.wanted;
  if (queue.enter(ticket, config.size, at_front) == WaitQueue::Entered::Full) {
    if (pool_stats_) pool_stats_->queue_full.increment();
    return Choice::QueueFull;
  }
  ticket_ = std::move(ticket);
  // A slot given back between the look above and entering the queue went by unseen (its giver
  // saw no waiter): look once more now that the queue counts this one.
  if (!queue.paused()) {
    if (auto backend = selector_->next(selection_, now)) {
      if (backend->try_acquire()) {
        if (queue.leave(*ticket_)) {
          ticket_.reset();
          take(std::move(backend));
          return Choice::Chosen;
        }
        queue.give_back(backend);  // a grant is on its way already: it is the one used
      }
      selection_.forget_last();
    }
  }
  queued_since_ = now;
  if (pool_stats_) pool_stats_->queued.increment();
  services_.loop().timers().schedule(queue_timer_, now + config.timeout);
  return Choice::Queued;
}

void Connector::granted(std::shared_ptr<Backend> backend) {
  services_.loop().timers().cancel(queue_timer_);
  ticket_.reset();
  const auto now = services_.loop().now();
  if (pool_stats_) pool_stats_->queue_time.observe(now - queued_since_);
  // The grant counts as this attempt's pick, so that a failover after it does not try it again.
  ++selection_.attempts;
  selection_.tried[selection_.tried_count % Selection::kMaxTracked] = backend->id();
  ++selection_.tried_count;
  take(std::move(backend));
  owner_.backend_ready();
}

void Connector::on_queue_timeout() {
  if (!ticket_) return;
  if (!selector_->pool().queue().leave(*ticket_)) return;  // granted meanwhile: the grant comes next
  ticket_.reset();
  if (pool_stats_) {
    pool_stats_->queue_timeouts.increment();
    pool_stats_->queue_time.observe(services_.loop().now() - queued_since_);
  }
  owner_.queue_timed_out();
}

void Connector::leave_queue() {
  if (!ticket_) return;
  services_.loop().timers().cancel(queue_timer_);
  // Gone before its grant arrived: the grant finds no waiter and gives the slot back.
  ticket_->waiter = nullptr;
  selector_->pool().queue().leave(*ticket_);
  ticket_.reset();
}

net::UniqueFd Connector::start_connect(net::ConnectStart& started, int& error) {
  connect_started_ = services_.loop().now();
  net::UniqueFd fd = net::make_tcp_socket(backend_->address().family());
  if (!fd) {
    // socket() fails only for want of descriptors or memory: never the backend's fault.
    error = errno;
    started = net::ConnectStart::Failed;
    return fd;
  }
  started = net::start_connect(fd.get(), backend_->address());
  error = started == net::ConnectStart::Failed ? errno : 0;
  return fd;
}

void Connector::connected(bool reused) {
  if (!reused) backend_->count_connection();
  if (backend_stats_) backend_stats_->traffic.requests.increment();
}

void Connector::failed(AttemptFailure failure, std::string_view what, core::TimePoint now) {
  if (!backend_) return;
  log::warn(failure == AttemptFailure::Connect ? "backend connect failed" : "backend failed before responding",
            {{"listener", listener_.name},
             {"pool", selector_->pool().name()},
             {"backend", backend_->address_text()},
             {"error", what}});
  switch (failure) {
    case AttemptFailure::Connect:
      selector_->connect_failed(*backend_, now);
      backend_->record_failure();  // passive health
      if (backend_stats_) backend_stats_->traffic.connect_errors.increment();
      if (pool_stats_) pool_stats_->connect_errors.increment();
      break;
    case AttemptFailure::Exchange:
      backend_->record_failure();
      break;
    case AttemptFailure::ReusedConnectionClosed:
      retry_pending_ = true;
      return;  // the slot is kept for a fresh connection to the same backend
  }
  release();
  retry_pending_ = true;
}

void Connector::failed_locally(const char* what, int error, std::string_view phase) {
  // This process ran short: the backend keeps its health, and another backend would fail the same
  // way, so the session retries nothing either.
  const std::string backend = backend_ ? backend_->address_text() : std::string("-");
  const std::string pool = selector_ ? selector_->pool().name() : std::string("-");
  log::error(what, {{"listener", listener_.name}, {"pool", pool}, {"backend", backend}, {"error", std::strerror(error)}});
  services_.metrics().local_resource_errors.increment();
  events::emit_error(services_.events(), what,
                     events::JsonObject()
                         .add("phase", phase)
                         .add("listener", listener_.label())
                         .add("pool", pool)
                         .add("backend", backend)
                         .add("reason", std::strerror(error)));
  release();
}

void Connector::release() {
  if (!holds_slot_) return;
  holds_slot_ = false;
  pool_->queue().give_back(backend_);
}

void Connector::reset() {
  leave_queue();
  release();
  backend_.reset();
  backend_stats_ = nullptr;
  pool_stats_ = nullptr;
  selector_ = nullptr;
  retry_pending_ = false;
}

}  // namespace fulcrum::upstream
