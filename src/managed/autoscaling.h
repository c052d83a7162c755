// Autoscaling of managed pools: every 100 ms reads each autoscaled pool's load from the data path
// (load_signal.h), every second hands the second's figures to the pool's Autoscaler
// (autoscaler.h), and carries its decision out with the supervisor: more instances are started
// (each joins the pool once ready), fewer are stopped (each drains first: its in-flight requests
// finish). Each change is a `scaled` event with the numbers that led to it; status() gives the
// figures to the API and the dashboard (which plots instances beside load).
//
// A managed pool that is not autoscaled keeps its `instances` count the same way (a reload may
// change it). A pool being rolled (rolling_restarts.h) is not scaled meanwhile: its instance count
// is the roll's business until it ends.
//
// Thread: the control thread's loop only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/event_loop.h"
#include "events/event_bus.h"
#include "managed/autoscaler.h"
#include "managed/load_signal.h"
#include "managed/status.h"
#include "managed/supervisor.h"
#include "membership/pool_manager.h"
#include "metrics/histogram.h"

namespace fulcrum::managed {

/// The autoscaler's settings for a managed pool's configuration (its `instances` bounds and its
/// `autoscale` block, which must be set).
AutoscaleSettings autoscale_settings(const ManagedConfig& config);

class Autoscaling {
 public:
  /// The pool's request-time histogram summed over the workers, now.
  using LatencyReader = std::function<metrics::HistogramSnapshot(std::size_t pool)>;
  /// Whether a pool is being rolled (not scaled meanwhile).
  using RollingQuery = std::function<bool(std::size_t pool)>;

  /// Every reference outlives this object; `events` may be null.
  Autoscaling(core::EventLoop& loop, Supervisor& supervisor, membership::PoolManager& manager,
              events::EventBus* events, LatencyReader latency_of, RollingQuery rolling);
  ~Autoscaling();
  Autoscaling(const Autoscaling&) = delete;
  Autoscaling& operator=(const Autoscaling&) = delete;

  /// Starts sampling; the pools followed are those the supervisor manages with `autoscale` set,
  /// looked up at each tick (a reload may add, change or remove them). Control thread.
  void start();
  /// Stops sampling (Fulcrum stops: nothing is started or stopped any more). Control thread.
  void stop();

  /// Pool `pool`'s figures; nullopt when it is not autoscaled.
  std::optional<AutoscaleStatus> status(std::size_t pool) const;

  /// The readings per decision (one every 100 ms, a decision every second).
  static constexpr int kSamplesPerDecision = 10;

 private:
  struct PoolScaling;

  void sample();
  void decide(std::size_t pool, PoolScaling& scaling);
  /// Starts or stops instances per `decision` (with `settings`' bounds in its event); returns
  /// what was done (fewer started than asked when the pool ran out of ports).
  ScaleDecision carry_out(std::size_t pool, const ScaleDecision& decision, const AutoscaleSettings& settings);
  /// A pool that is not autoscaled keeps `instances` (a reload may change it): started or
  /// stopped to match, as a `scaled` event of reason `bounds`.
  void keep_count(std::size_t pool, std::uint32_t count);
  /// Instances of `pool` the supervisor keeps (not stopping).
  std::uint32_t kept_instances(std::size_t pool) const;

  core::EventLoop& loop_;
  Supervisor& supervisor_;
  membership::PoolManager& manager_;
  events::EventBus* events_;
  LatencyReader latency_of_;
  RollingQuery rolling_;
  std::unordered_map<std::size_t, std::unique_ptr<PoolScaling>> pools_;
  core::Timer timer_;
  int samples_ = 0;
  bool running_ = false;
};

}  // namespace fulcrum::managed
