// What the API and the dashboard show of a managed pool's rolling restart and autoscaling: plain
// copies, made on the control thread (RollingRestarts::status(), Autoscaling::status()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "managed/autoscaler.h"
#include "managed/load_signal.h"
#include "managed/roll_plan.h"

namespace fulcrum::managed {

/// A pool's current or last roll, for the API and the dashboard.
struct RollStatus {
  RollState state = RollState::Running;
  /// Why it began: `api` (POST /api/pools/{pool}/restart, `fulcrum pool restart`) or `reload`.
  std::string reason;
  std::uint32_t max_parallel = 1;
  RollProgress progress;
  struct Step {
    std::string instance;     ///< the old instance's name (`app-0`)
    std::string replacement;  ///< its replacement's name, once started
    StepState state = StepState::Pending;
  };
  std::vector<Step> steps;
  std::optional<RollFailure> failure;
  /// The names of the failure's instance and replacement (empty when none).
  std::string failed_instance;
  std::string failed_replacement;
  /// When it began (ISO-8601 UTC) and how long it ran (so far).
  std::string started;
  std::int64_t duration_ms = 0;
};

/// An autoscaled pool's figures, for the API and the dashboard.
struct AutoscaleStatus {
  AutoscaleSettings settings;
  /// Instances kept now (starting ones included, those stopping not) and those serving.
  std::uint32_t instances = 0;
  std::uint32_t ready = 0;
  /// The last second's load and the signal's value from it.
  PoolLoad load;
  double value = 0;
  /// The last decision (most often a hold), and the last one that changed the count with when
  /// (ISO-8601 UTC).
  std::optional<ScaleDecision> last;
  std::optional<ScaleDecision> last_change;
  std::string last_change_at;
};

}  // namespace fulcrum::managed
