// What the control thread's components (health monitor, admin server, event delivery) see of a
// running balancer. Everything here outlives the control thread.
#pragma once

#include <memory>
#include <vector>

#include "events/event_bus.h"
#include "fulcrum/config.h"
#include "net/listener_state.h"
#include "runtime/reload_state.h"
#include "upstream/pool.h"
#include "membership/pool_manager.h"

namespace fulcrum::runtime {

class Worker;

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
};

}  // namespace fulcrum::runtime
