// What the control thread's components (health monitor, admin server, event delivery) see of a
// running balancer. Everything here outlives the control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "events/access_log.h"
#include "events/event_bus.h"
#include "events/event_log.h"
#include "events/local_event_bus.h"
#include "fulcrum/config.h"
#include "net/listener_state.h"
#include "runtime/reload_state.h"
#include "upstream/pool.h"
#include "membership/pool_manager.h"
#include "metrics/health_check_metrics.h"

namespace fulcrum::runtime {

class Worker;
}  // namespace fulcrum::runtime

namespace fulcrum::managed {
class Supervisor;
class RollingRestarts;
class Autoscaling;
}  // namespace fulcrum::managed

namespace fulcrum::runtime {

/// Connections the admin and registration listeners refused by their allow/deny lists (control
/// thread writes, any thread reads).
struct ControlListenerCounters {
  std::atomic<std::uint64_t> admin_refused{0};
  std::atomic<std::uint64_t> registration_refused{0};
};

struct RuntimeContext {
  const Config& config;
  const std::vector<std::unique_ptr<upstream::Pool>>& pools;
  /// The one writer of the pools' snapshots (control thread).
  membership::PoolManager& pool_manager;
  /// The listeners in configuration order (control thread: a reload adds and removes them).
  const std::vector<std::shared_ptr<net::ListenerState>>& listeners;
  /// Workers, for their per-worker figures (read with relaxed atomics; never call into them).
  const std::vector<std::unique_ptr<Worker>>& workers;
  events::EventBus& events;
  /// Reload counters and the way to ask for one (the admin API's POST /api/reload).
  ReloadState* reload = nullptr;
  /// Every backend's health-check failures and durations: the health monitor writes, the admin
  /// API reads (null: not counted).
  metrics::HealthCheckMetrics* health_checks = nullptr;
  /// What counts drops for metrics (null when off): the bus behind `events` (its queue full), the
  /// event log (lines a failed write lost), the access log (lines dropped or lost).
  const events::LocalEventBus* event_queue = nullptr;
  const events::EventLog* event_log = nullptr;
  const events::AccessLog* access_log = nullptr;
  /// The admin and registration listeners' refusals; null in tests that build a context by hand.
  ControlListenerCounters* control_counters = nullptr;
  /// The supervisor of managed pools (control thread only); null in tests that build a context
  /// by hand.
  managed::Supervisor* supervisor = nullptr;
  /// Rolling restarts and autoscaling of managed pools (control thread only); null likewise.
  managed::RollingRestarts* rolls = nullptr;
  managed::Autoscaling* autoscaling = nullptr;
};

}  // namespace fulcrum::runtime
