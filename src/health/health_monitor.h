// The health monitor: active checks, passive outlier detection and slow start of every pool,
// published to the workers through the pools' snapshots. Lives on the control thread.
//
// Active checks: each backend of a pool with `health:` is probed every `interval` ± 10% (seeded
// jitter, so that backends and balancers do not probe in lockstep), never more than one probe in
// flight per backend; the first probe of each backend starts within the first 10% of an interval.
// Results go through RiseFall. Passive: every tick (100 ms) the data path's failure counters
// (upstream::Backend::consecutive_failures) are fed to the pool's OutlierDetector. A backend that
// comes back (recovery, end of an ejection) ramps up per SlowStart.
//
// Verdicts: whenever a backend's availability or a ramping weight changes, the monitor submits
// its verdicts (per backend id: why it is down, its slow-start weight) to the PoolManager, which
// publishes the snapshot the workers see (and works out panic). The monitor never publishes. When
// the manager's membership of a pool changes, the monitor notices at its next tick, carries each
// backend's state over by id (ejections start afresh) and submits its verdicts again. Each ejection is also
// counted on the backend (upstream::Backend::ejections), a total that never decays, for metrics;
// every check's verdict and duration go to Options::metrics.
//
// Events: healthy, unhealthy, recovery, ejected, panic (and recovery with "panic":false when a pool
// leaves panic), monitoring every interval per checked pool. See docs/health.md for their details.
//
// Owned by the ControlPlane; every method runs on the control loop's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "balance/random.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "events/event_bus.h"
#include "fulcrum/config.h"
#include "health/outlier_detector.h"
#include "health/probe.h"
#include "health/rise_fall.h"
#include "membership/pool_manager.h"
#include "metrics/health_check_metrics.h"

namespace fulcrum::health {

class HealthMonitor {
 public:
  struct Options {
    /// Seeds the probe jitter; 0 picks a seed from the clock, so that balancers started
    /// together do not probe in lockstep. Tests pass a fixed one.
    std::uint64_t seed = 0;
    /// How often passive counters are read and slow-start weights refreshed.
    core::Milliseconds tick{100};
    /// Where each backend's check failures and durations are counted (keyed by counter slot, so
    /// they outlive snapshots); null: not counted. Outlives the monitor.
    metrics::HealthCheckMetrics* metrics = nullptr;
  };

  /// `events` may be null (no events, logs only). `manager` and `events` outlive the monitor.
  HealthMonitor(core::EventLoop& loop, membership::PoolManager& manager, events::EventBus* events, Options options);
  HealthMonitor(core::EventLoop& loop, membership::PoolManager& manager, events::EventBus* events)
      : HealthMonitor(loop, manager, events, Options{}) {}
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  /// Takes every pool's current snapshot and starts probing and ticking. Loop thread.
  void start();

  /// What the monitor knows of one backend, for the admin API and the dashboard.
  struct BackendReport {
    struct Check {
      bool ok = false;
      /// From the probe's start to its verdict.
      double duration_ms = 0;
      /// When the verdict came.
      std::chrono::system_clock::time_point at{};
      /// Why it failed; empty when it passed.
      std::string error;
    };
    std::uint64_t id = 0;
    std::string address;
    /// The last finished check; none before the first, or in a pool without health checks.
    std::optional<Check> last_check;
    /// When its state as the monitor sees it (healthy, unhealthy, ejected) last changed; before
    /// any change, when the monitor first saw the backend.
    std::chrono::system_clock::time_point state_since{};
  };
  /// The backends of the pool called `pool`, in the order of its snapshot; empty for an unknown
  /// pool or before start(). Loop thread.
  std::vector<BackendReport> reports(std::string_view pool) const;

 private:
  struct BackendHealth;
  struct PoolHealth;

  void rebuild(PoolHealth& pool);
  void schedule_probe(PoolHealth& pool, BackendHealth& backend, core::TimePoint at);
  void run_probe(PoolHealth& pool, BackendHealth& backend);
  void on_probe_result(PoolHealth& pool, BackendHealth& backend, const ProbeResult& result);
  void tick();
  void detect_outliers(PoolHealth& pool, core::TimePoint now);
  /// Submits the pool's verdicts to the manager (which publishes only if the workers' view changes).
  void submit_verdicts(PoolHealth& pool, core::TimePoint now);
  /// Emits `panic` when the published snapshot entered panic, `recovery` when it left.
  void report_panic(PoolHealth& pool);
  void emit_monitoring(PoolHealth& pool);
  core::Milliseconds jittered(core::Milliseconds interval);
  void emit(Event event, const std::string& details);

  core::EventLoop& loop_;
  membership::PoolManager& manager_;
  events::EventBus* events_;
  Options options_;
  balance::Random random_;
  std::vector<std::unique_ptr<PoolHealth>> states_;
  core::Timer tick_timer_;
};

}  // namespace fulcrum::health
