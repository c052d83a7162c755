// What the admin API and /metrics report: one plain snapshot of every listener, route, pool,
// backend and worker, summed over the workers' single-writer counter tables. Built on the control
// thread with relaxed loads; the renderers (JSON, Prometheus) are pure functions of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "managed/instance.h"
#include "managed/status.h"
#include "metrics/histogram.h"
#include "metrics/worker_metrics.h"

namespace fulcrum::runtime {
struct RuntimeContext;
}
namespace fulcrum::upstream {
struct PoolSnapshot;
}

namespace fulcrum::admin {

struct ListenerStats {
  std::string name;
  std::string address;  ///< as bound
  std::string mode;     ///< `tcp` or `http`
  std::int64_t active_connections = 0;
  std::uint64_t accepted_total = 0;
  /// Connections closed right after accept: not allowed (allow/deny), or over connections_per_ip.
  std::uint64_t refused_acl = 0;
  std::uint64_t refused_connections_per_ip = 0;
  /// Clients in the listener's per-client table (0 without `limits`).
  std::uint64_t clients = 0;
  metrics::TrafficTotals traffic;
};

struct RouteStats {
  std::string listener;
  std::size_t index = 0;
  std::string pool;
  metrics::TrafficTotals traffic;
};

struct BackendStats {
  std::uint64_t id = 0;
  std::string address;
  /// The operator's name for it; empty when none.
  std::string name;
  /// `ready`, `drain` or `maint` (a backend being removed drains).
  std::string admin_state = "ready";
  /// `config`, `api`, `registration`, `dns`, `managed`.
  std::string source;
  std::uint32_t weight = 0;
  /// The weight in use now (slow start ramps it up to `weight`).
  double effective_weight = 0;
  /// `healthy`, `unhealthy`, `ejected`, `joining` or `deactivated` (see backend_state()).
  std::string state;
  std::int64_t active = 0;
  /// Its slots: `active` may not exceed it (0: no limit).
  std::uint32_t max_connections = 0;
  /// Times outlier detection ejected it since the start (monotonic: upstream::Backend::ejections).
  std::uint64_t ejections = 0;
  metrics::TrafficTotals traffic;
  metrics::HistogramSnapshot latency;
  /// Active health checks (pools with `health:` only): failed ones, and the duration of each
  /// (its count: the checks that finished). Since the backend joined its pool.
  std::uint64_t check_failures = 0;
  metrics::HistogramSnapshot check_duration;
  /// Requests per second over the last few seconds, and latency quantiles (seconds) of the recent
  /// window; filled from the RecentStats samples.
  double rps = 0;
  double p50_seconds = 0;
  double p99_seconds = 0;
};

struct PoolStats {
  std::string name;
  std::string strategy;
  bool panic = false;
  /// A managed pool's current or last rolling restart, and its autoscaling (when autoscaled).
  std::optional<managed::RollStatus> roll;
  std::optional<managed::AutoscaleStatus> autoscale;
  /// New requests or connections wait in the queue (PATCH /api/pools/{pool} {"paused": true}).
  bool paused = false;
  /// Waiting in the queue now, and the queue's size and timeout.
  std::size_t queue_depth = 0;
  std::uint32_t queue_size = 0;
  std::chrono::milliseconds queue_timeout{0};
  /// Whether the pool has active health checks (`health:`).
  bool health_checked = false;
  metrics::TrafficTotals traffic;
  std::vector<BackendStats> backends;
  /// Whether Fulcrum runs the pool's instances itself (`managed:`), and those instances.
  bool managed = false;
  std::vector<managed::InstanceView> instances;
};

struct WorkerStats {
  unsigned index = 0;
  std::int64_t connections = 0;
  std::uint64_t loop_iterations = 0;
  double loop_busy_seconds = 0;
  std::uint64_t accept_pauses = 0;
  std::uint64_t accept_errors = 0;
  std::uint64_t proxy_refused = 0;
  std::uint64_t local_resource_errors = 0;
};

/// What was dropped rather than buffered without bound, since the start.
struct DropStats {
  /// Events no subscriber got: the bus's queue was full.
  std::uint64_t events_queue_full = 0;
  /// Events an admin stream client never got: it fell 1 MiB behind and was cut off.
  std::uint64_t events_slow_client = 0;
  /// Event-log lines lost to a failed write.
  std::uint64_t events_log_write_failed = 0;
  /// Access-log lines dropped because the writer was behind (a worker's 4 MiB buffer full), and
  /// lines lost to a failed write.
  std::uint64_t access_log_buffer_full = 0;
  std::uint64_t access_log_write_failed = 0;

  std::uint64_t events_total() const { return events_queue_full + events_slow_client + events_log_write_failed; }
  std::uint64_t access_log_total() const { return access_log_buffer_full + access_log_write_failed; }
};

struct StatsSnapshot {
  std::string version;
  double uptime_seconds = 0;
  std::vector<ListenerStats> listeners;
  std::vector<RouteStats> routes;
  std::vector<PoolStats> pools;
  std::vector<WorkerStats> workers;
  std::uint64_t reloads_ok = 0;
  std::uint64_t reloads_failed = 0;
  std::uint64_t config_generation = 1;
  /// Unix time of the last reload attempt (0: none yet) and whether it applied.
  double last_reload_unix = 0;
  bool last_reload_ok = true;
  DropStats drops;
  /// Connections the admin and registration listeners refused by their allow/deny lists; unset
  /// when that listener is not configured.
  std::optional<std::uint64_t> admin_refused_acl;
  std::optional<std::uint64_t> registration_refused_acl;
};

class RecentStats;

/// What the API calls backend `index` of `snapshot` at `now`: `unhealthy` (its checks fail, ejected
/// or not), `ejected` (outlier detection alone took it out), `deactivated` (a connect failed within
/// deactivate_for) or `healthy`. Pure.
std::string backend_state(const upstream::PoolSnapshot& snapshot, std::size_t index, core::TimePoint now);

/// Reads every counter of a running balancer (control thread); rps and quantiles are left at 0
/// (see RecentStats::fill), and so are the events the admin server's own stream clients missed
/// (DropStats::events_slow_client: the AdminServer fills it).
StatsSnapshot collect_stats(const runtime::RuntimeContext& context, core::TimePoint started, core::TimePoint now);

/// A backend's recent history: requests and latency sampled once a second on the control thread,
/// kept for `kWindow` samples, so that rates and quantiles describe the last seconds rather than
/// the whole uptime.
class RecentStats {
 public:
  static constexpr std::size_t kWindow = 11;  ///< 10 s of deltas
  static constexpr std::size_t kRateSpan = 5;  ///< rps over the last 5 s

  /// Records one sample of every backend in `stats` (control thread, once a second).
  void sample(const StatsSnapshot& stats, core::TimePoint now);
  /// Fills rps and quantiles of every backend of `stats` (read at `now`) from its figures and the
  /// samples before it.
  void fill(StatsSnapshot& stats, core::TimePoint now) const;

 private:
  struct Sample {
    core::TimePoint at;
    std::uint64_t requests = 0;
    metrics::HistogramSnapshot latency;
  };
  std::unordered_map<std::uint64_t, std::deque<Sample>> backends_;
};

}  // namespace fulcrum::admin
