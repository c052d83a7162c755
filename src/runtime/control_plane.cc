#include "runtime/control_plane.h"

#include <fcntl.h>

#include <future>

#include "core/log.h"
#include "fulcrum/balancer.h"
#include "runtime/worker.h"

namespace fulcrum::runtime {

namespace {
constexpr auto kSweepEvery = std::chrono::seconds(1);
// A removed backend leaves its pool within this of its last request ending.
constexpr auto kMembershipTick = std::chrono::milliseconds(50);
}

ControlPlane::ControlPlane(const RuntimeContext& context, events::LocalEventBus& delivery)
    : context_(context),
      delivery_(delivery),
      sweep_timer_([this] { sweep_sessions(); }),
      membership_timer_([this] { tick_membership(); }),
      supervisor_(std::make_unique<managed::Supervisor>(loop_, context.pool_manager, &context.events)),
      rolls_(std::make_unique<managed::RollingRestarts>(loop_, *supervisor_, context.pool_manager, &context.events)) {
  // The autoscaler's latency signal: the pool's request-time histogram, summed over the workers.
  const RuntimeContext* shared = &context_;
  autoscaling_ = std::make_unique<managed::Autoscaling>(
      loop_, *supervisor_, context.pool_manager, &context.events,
      [shared](std::size_t pool) {
        metrics::HistogramSnapshot total;
        for (const auto& worker : shared->workers) {
          if (const auto* counters = worker->metrics().find_pool(pool)) counters->total_time.add_to(total);
        }
        return total;
      },
      [rolls = rolls_.get()](std::size_t pool) { return rolls->rolling(pool); });
}

ControlPlane::~ControlPlane() { stop(); }

void ControlPlane::start() {
  // Events emitted on any thread are delivered here, one batch per wake-up.
  delivery_.set_wake([this] { loop_.post([this] { delivery_.deliver_pending(); }); });
  // Health checks and outlier detection.
  health::HealthMonitor::Options health_options;
  health_options.metrics = context_.health_checks;
  health_ = std::make_unique<health::HealthMonitor>(loop_, context_.pool_manager, &context_.events, health_options);
  loop_.post([this] { health_->start(); });
  loop_.post([this] { loop_.timers().schedule(sweep_timer_, loop_.now() + kSweepEvery); });
  loop_.post([this] { loop_.timers().schedule(membership_timer_, loop_.now() + kMembershipTick); });
  if (dns_) loop_.post([this] { dns_->start(loop_); });
  // Managed pools start their instances from this thread: their death signal follows it.
  loop_.post([this] {
    for (std::size_t p = 0; p < context_.config.pools.size(); ++p) {
      if (context_.config.pools[p].managed) supervisor_->manage(p, context_.config.pools[p]);
    }
    autoscaling_->start();
  });
  if (cluster_wanted_ && context_.config.cluster) {
    cluster::InstanceIdentity self{cluster::make_instance_id(), cluster_address_, fulcrum::version(),
                                   context_.reload ? &context_.reload->generation : nullptr};
    cluster_ = std::make_unique<cluster::ClusterStore>(loop_, *context_.config.cluster, context_.pool_manager,
                                                       context_.config.pools, &context_.events, std::move(self));
    cluster_->start();
  }
  if (admin_socket_ && admin_context_) {
    admin_ = std::make_unique<admin::AdminServer>(loop_, *admin_context_, std::move(admin_socket_));
    admin_->set_health(health_.get());
    admin_->set_cluster(cluster_.get());
    loop_.post([this] { admin_->start(); });
  }
  if (registration_socket_ && registration_context_) {
    registration_ = std::make_unique<admin::RegistrationServer>(loop_, *registration_context_,
                                                                std::move(registration_socket_));
    registration_->set_cluster(cluster_.get());
    loop_.post([this] { registration_->start(); });
  }
  thread_ = std::thread([this] { loop_.run(); });
}

void ControlPlane::stop() {
  if (!thread_.joinable()) return;
  loop_.quit();
  thread_.join();
  // The thread is gone: what is still queued (the `stop` event) is delivered here.
  delivery_.set_wake(nullptr);
  delivery_.deliver_pending();
  loop_.timers().cancel(sweep_timer_);
  loop_.timers().cancel(membership_timer_);
  health_.reset();  // the loop is stopped: its probes and timers go with it
  admin_.reset();   // likewise: closes the admin socket and its connections
  dns_.reset();     // likewise: its lookups, sockets and timers
  registration_.reset();
  autoscaling_.reset();
  rolls_.reset();
  supervisor_.reset();  // kills and reaps whatever stop_instances() left (none, normally)
  cluster_.reset();  // after those that point at it; its threads end within about a second
}

void ControlPlane::stop_instances(std::chrono::milliseconds limit) {
  if (!thread_.joinable()) return;
  auto stopped = std::make_shared<std::promise<void>>();
  auto done = stopped->get_future();
  loop_.post([this, stopped] {
    // Nothing is scaled or rolled any more; a roll under way ends as cancelled.
    autoscaling_->stop();
    rolls_->cancel_all("Fulcrum stops");
    supervisor_->stop_all([stopped] { stopped->set_value(); });
  });
  if (done.wait_for(limit) != std::future_status::ready) {
    log::warn("managed instances still running after their stop timeout; killing them");
  }
}

std::vector<std::pair<process::SocketKind, net::UniqueFd>> ControlPlane::copy_listening_sockets() {
  std::vector<std::pair<process::SocketKind, net::UniqueFd>> copies;
  if (!thread_.joinable()) return copies;
  std::promise<void> copied;
  auto done = copied.get_future();
  loop_.post([this, &copies, &copied] {
    auto copy = [&copies](process::SocketKind kind, int fd) {
      if (fd < 0) return;
      net::UniqueFd duplicate(fcntl(fd, F_DUPFD_CLOEXEC, 3));
      if (duplicate) copies.emplace_back(kind, std::move(duplicate));
    };
    if (admin_) copy(process::SocketKind::Admin, admin_->listening_fd());
    if (registration_) copy(process::SocketKind::Registration, registration_->listening_fd());
    copied.set_value();
  });
  done.wait();
  return copies;
}

void ControlPlane::stop_accepting() {
  if (!thread_.joinable()) return;
  std::promise<void> stopped;
  auto done = stopped.get_future();
  loop_.post([this, &stopped] {
    if (admin_) admin_->stop_accepting();
    if (registration_) registration_->stop_accepting();
    stopped.set_value();
  });
  done.wait();
}

void ControlPlane::sweep_sessions() {
  const auto now = loop_.now();
  for (const auto& pool : context_.pools) {
    if (const auto snapshot = pool->snapshot(); snapshot && snapshot->sticky) snapshot->sticky->sweep(now);
  }
  log::flush_suppressed();  // the summary of log floods that ended
  loop_.timers().schedule(sweep_timer_, now + kSweepEvery);
}

}  // namespace fulcrum::runtime

namespace fulcrum::runtime {

void ControlPlane::tick_membership() {
  const auto now = loop_.now();
  context_.pool_manager.tick(now);
  loop_.timers().schedule(membership_timer_, now + kMembershipTick);
}

}  // namespace fulcrum::runtime
