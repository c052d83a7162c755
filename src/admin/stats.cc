#include "admin/stats.h"

#include "fulcrum/balancer.h"
#include "http/http_context.h"
#include "managed/supervisor.h"
#include "managed/autoscaling.h"
#include "managed/rolling_restarts.h"
#include "runtime/runtime_context.h"
#include "runtime/worker.h"

namespace fulcrum::admin {

std::string backend_state(const upstream::PoolSnapshot& snapshot, std::size_t index, core::TimePoint now) {
  // The health monitor publishes why each backend is down (down_reasons); an empty list means
  // every backend is up (upstream/pool.h), which is also how a checked pool starts.
  // Admin states (drain, maint) are reported apart (admin_state); this is health alone.
  const std::uint8_t all = snapshot.down_reasons.empty() ? 0 : snapshot.down_reasons[index];
  if ((all & upstream::kDownJoining) != 0) return "joining";
  const std::uint8_t reasons = all & (upstream::kDownUnhealthy | upstream::kDownEjected);
  if (reasons != 0) {
    // Down for both reasons: `unhealthy`, since failing checks keep it out after the ejection ends.
    if ((reasons & upstream::kDownEjected) != 0 && (reasons & upstream::kDownUnhealthy) == 0) return "ejected";
    return "unhealthy";
  }
  if (snapshot.backends[index]->deactivated(now)) return "deactivated";
  return "healthy";
}

namespace {

double effective_weight(const upstream::PoolSnapshot& snapshot, std::size_t index) {
  // effective_weights are scaled by 100 (health/slow_start.h).
  if (index < snapshot.effective_weights.size()) return snapshot.effective_weights[index] / 100.0;
  return snapshot.backends[index]->weight();
}

bool pool_panic(const upstream::PoolSnapshot& snapshot) { return snapshot.panic; }

}  // namespace

StatsSnapshot collect_stats(const runtime::RuntimeContext& context, core::TimePoint started, core::TimePoint now) {
  StatsSnapshot stats;
  stats.version = fulcrum::version();
  stats.uptime_seconds = std::chrono::duration<double>(now - started).count();
  if (const auto* reload = context.reload) {
    stats.reloads_ok = reload->ok.load(std::memory_order_relaxed);
    stats.reloads_failed = reload->failed.load(std::memory_order_relaxed);
    stats.config_generation = reload->generation.load(std::memory_order_relaxed);
    stats.last_reload_unix = reload->last_reload_unix.load(std::memory_order_relaxed);
    stats.last_reload_ok = reload->last_reload_ok.load(std::memory_order_relaxed);
  }

  if (context.control_counters) {
    if (context.config.admin) {
      stats.admin_refused_acl = context.control_counters->admin_refused.load(std::memory_order_relaxed);
    }
    if (context.config.registration) {
      stats.registration_refused_acl = context.control_counters->registration_refused.load(std::memory_order_relaxed);
    }
  }
  for (const auto& state : context.listeners) {
    const ListenerConfig& config = state->settings->config;
    ListenerStats listener;
    listener.name = state->name;
    listener.address = state->bound.to_string();
    listener.mode = state->mode == ListenerMode::Http ? "http" : "tcp";
    listener.active_connections = state->active.load(std::memory_order_relaxed);
    listener.accepted_total = state->accepted_total.load(std::memory_order_relaxed);
    for (const auto& worker : context.workers) {
      if (const auto* counters = worker->metrics().find_listener(state->slot)) listener.traffic.add(*counters);
      if (const auto* refused = worker->metrics().find_refused(state->slot)) {
        listener.refused_acl += refused->acl.value();
        listener.refused_connections_per_ip += refused->connections_per_ip.value();
      }
    }
    if (state->clients.active()) listener.clients = state->clients.size();
    if (const auto& http = state->settings->http) {
      const std::size_t routes = std::max<std::size_t>(1, config.routes.size());
      for (std::size_t r = 0; r < routes; ++r) {
        RouteStats route;
        route.listener = state->name;
        route.index = r;
        route.pool = config.routes.empty() ? config.pool : config.routes[r].pool;
        for (const auto& worker : context.workers) {
          if (const auto* counters = worker->metrics().find_route(http->route_slot(r))) route.traffic.add(*counters);
        }
        stats.routes.push_back(std::move(route));
      }
    }
    stats.listeners.push_back(std::move(listener));
  }

  for (std::size_t p = 0; p < context.pools.size(); ++p) {
    if (context.pool_manager.retired(p)) continue;  // a reload removed it; its backends drain
    const auto snapshot = context.pools[p]->snapshot();
    PoolStats pool;
    pool.name = context.pools[p]->name();
    if (context.supervisor != nullptr && context.supervisor->manages(p)) {
      pool.managed = true;
      pool.instances = context.supervisor->instances(p);
    }
    if (!snapshot) {
      stats.pools.push_back(std::move(pool));
      continue;
    }
    pool.strategy = snapshot->strategy;
    pool.panic = pool_panic(*snapshot);
    pool.paused = context.pools[p]->queue().paused();
    pool.queue_depth = context.pools[p]->queue().depth();
    pool.queue_size = snapshot->config.queue.size;
    pool.queue_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(snapshot->config.queue.timeout);
    if (context.rolls) pool.roll = context.rolls->status(p);
    if (context.autoscaling) pool.autoscale = context.autoscaling->status(p);
    pool.health_checked = snapshot->config.health.has_value();
    for (const auto& worker : context.workers) {
      if (const auto* counters = worker->metrics().find_pool(p)) pool.traffic.add(*counters);
    }
    for (std::size_t b = 0; b < snapshot->backends.size(); ++b) {
      const upstream::Backend& backend = *snapshot->backends[b];
      BackendStats entry;
      entry.id = backend.id();
      entry.address = backend.address_text();
      entry.name = backend.name();
      entry.source = std::string(upstream::backend_source_name(backend.source()));
      const std::uint8_t reasons = snapshot->down_reasons.empty() ? 0 : snapshot->down_reasons[b];
      entry.admin_state = (reasons & upstream::kDownMaint) != 0    ? "maint"
                          : (reasons & upstream::kDownDrain) != 0 ? "drain"
                                                                   : "ready";
      entry.weight = backend.weight();
      entry.effective_weight = effective_weight(*snapshot, b);
      entry.state = backend_state(*snapshot, b, now);
      entry.active = backend.active();
      entry.max_connections = backend.max_connections();
      entry.ejections = backend.ejections();
      for (const auto& worker : context.workers) {
        if (const auto* counters = worker->metrics().find_backend(backend.counter_slot(), backend.id())) {
          entry.traffic.add(counters->traffic);
          counters->latency.add_to(entry.latency);
        }
      }
      if (context.health_checks != nullptr) {
        if (const auto* checks = context.health_checks->find_backend(backend.counter_slot(), backend.id())) {
          entry.check_failures = checks->failures.value();
          checks->duration.add_to(entry.check_duration);
        }
      }
      pool.backends.push_back(std::move(entry));
    }
    stats.pools.push_back(std::move(pool));
  }

  if (context.event_queue != nullptr) stats.drops.events_queue_full = context.event_queue->dropped();
  if (context.event_log != nullptr) stats.drops.events_log_write_failed = context.event_log->lines_lost();
  if (context.access_log != nullptr) {
    stats.drops.access_log_buffer_full = context.access_log->dropped();
    stats.drops.access_log_write_failed = context.access_log->lines_lost();
  }

  for (const auto& worker : context.workers) {
    WorkerStats entry;
    entry.index = worker->index();
    entry.connections = worker->metrics().connections.value();
    entry.loop_iterations = worker->loop_iterations();
    entry.loop_busy_seconds = std::chrono::duration<double>(worker->loop_busy_time()).count();
    entry.accept_pauses = worker->metrics().accept_pauses.value();
    entry.accept_errors = worker->metrics().accept_errors.value();
    entry.proxy_refused = worker->metrics().proxy_refused.value();
    entry.local_resource_errors = worker->metrics().local_resource_errors.value();
    stats.workers.push_back(entry);
  }
  return stats;
}

void RecentStats::sample(const StatsSnapshot& stats, core::TimePoint now) {
  std::unordered_map<std::uint64_t, std::deque<Sample>> kept;
  for (const auto& pool : stats.pools) {
    for (const auto& backend : pool.backends) {
      auto& history = backends_[backend.id];
      history.push_back({now, backend.traffic.requests, backend.latency});
      while (history.size() > kWindow) history.pop_front();
      kept[backend.id] = std::move(history);
    }
  }
  backends_ = std::move(kept);  // forget backends that left every pool
}

void RecentStats::fill(StatsSnapshot& stats, core::TimePoint now) const {
  for (auto& pool : stats.pools) {
    for (auto& backend : pool.backends) {
      const auto found = backends_.find(backend.id);
      if (found == backends_.end() || found->second.empty()) {
        // Not sampled yet (the first second): everything so far is recent.
        backend.p50_seconds = backend.latency.quantile(0.5);
        backend.p99_seconds = backend.latency.quantile(0.99);
        continue;
      }
      const auto& history = found->second;
      // The rate: from the newest sample at least kRateSpan old (or the oldest one) to now.
      const Sample* base = &history.front();
      for (const auto& sample : history) {
        if (now - sample.at >= std::chrono::seconds(kRateSpan)) base = &sample;
      }
      const double seconds = std::chrono::duration<double>(now - base->at).count();
      if (seconds > 0.2 && backend.traffic.requests >= base->requests) {
        backend.rps = static_cast<double>(backend.traffic.requests - base->requests) / seconds;
      }
      // Latency over the window; while the backend is younger than the window (fewer samples than
      // it holds), everything it ever answered is recent, including what came before the first
      // sample.
      const auto recent =
          history.size() >= kWindow ? backend.latency.since(history.front().latency) : backend.latency;
      backend.p50_seconds = recent.quantile(0.5);
      backend.p99_seconds = recent.quantile(0.99);
    }
  }
}

}  // namespace fulcrum::admin
