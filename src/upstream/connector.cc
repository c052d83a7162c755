#include "upstream/connector.h"

#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "events/error_event.h"
#include "events/json_text.h"
#include "upstream/session_services.h"

namespace fulcrum::upstream {

Connector::Connector(SessionServices& services, const net::ListenerState& listener)
    : services_(services), listener_(listener) {}

void Connector::begin(Selector& selector, const net::Address& client, std::uint32_t max_attempts,
                      metrics::TrafficCounters* pool_stats) {
  release();
  selector_ = &selector;
  selection_ = selector.begin(client.ip_bytes());
  selection_.max_attempts = max_attempts;
  client_ = client;
  pool_stats_ = pool_stats;
  backend_.reset();
  backend_stats_ = nullptr;
  retry_pending_ = false;
}

const std::shared_ptr<Backend>& Connector::choose(core::TimePoint now) {
  release();
  backend_ = selector_->next(selection_, now);
  if (!backend_) return backend_;
  backend_->add_active(1);  // tcp: open connections; http: requests in flight
  holds_slot_ = true;
  if (retry_pending_) {
    // The previous attempt failed and another backend is tried.
    if (backend_stats_) backend_stats_->traffic.retries.increment();
    if (pool_stats_) pool_stats_->retries.increment();
    retry_pending_ = false;
  }
  backend_stats_ = &services_.metrics().backend(backend_->counter_slot(), backend_->id());
  if (services_.events().sample(Event::SelectingServer)) {
    services_.events().emit(Event::SelectingServer, events::JsonObject()
                                                        .add("listener", listener_.label())
                                                        .add("pool", selector_->pool().name())
                                                        .add("backend", backend_->address_text())
                                                        .add("attempt", selection_.attempts)
                                                        .add("strategy", selector_->snapshot().strategy)
                                                        .add("client", client_.to_string())
                                                        .finish());
  }
  return backend_;
}

void Connector::retake(std::shared_ptr<Backend> backend) {
  release();
  backend_ = std::move(backend);
  backend_->add_active(1);
  holds_slot_ = true;
  if (retry_pending_) {
    if (backend_stats_) backend_stats_->traffic.retries.increment();
    if (pool_stats_) pool_stats_->retries.increment();
    retry_pending_ = false;
  }
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
      break;
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
  backend_->add_active(-1);
}

void Connector::reset() {
  release();
  backend_.reset();
  backend_stats_ = nullptr;
  pool_stats_ = nullptr;
  selector_ = nullptr;
  retry_pending_ = false;
}

}  // namespace fulcrum::upstream
