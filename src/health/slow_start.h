// Slow start: a backend that comes back (recovered by its health checks, or at the end of an
// ejection) takes a share of traffic that ramps up linearly over `slow_start` instead of the full
// share at once, so a cold cache or a JIT warming up is not flooded. Pure; time passed in.
//
// The factor is clamp(elapsed / slow_start, kMinimumFactor, 1): at least 10%, so a returning
// backend gets some traffic at once (at 0 it would get none and prove nothing). Strategies take
// integer weights and configured weights may be 1, so while any backend of a pool ramps, every
// weight of the pool is scaled by kWeightScale and the ramping ones by their factor too (factor
// quantised to 5% steps so that workers rebuild their strategies about 20 times per ramp, not at
// every tick). Strategies that ignore weights (round_robin, least_connections, random, ...) ignore
// slow start as well.
#pragma once

#include <cstdint>

#include "core/clock.h"

namespace fulcrum::health {

struct SlowStart {
  static constexpr double kMinimumFactor = 0.1;
  static constexpr std::uint32_t kWeightScale = 100;
  static constexpr double kStep = 0.05;

  /// The share (kMinimumFactor..1) of its weight a backend back since `since` gets at `now`;
  /// 1 when `slow_start` is zero or over.
  static double factor(core::Milliseconds slow_start, core::TimePoint since, core::TimePoint now);

  /// factor() rounded down to a kStep multiple (never below kMinimumFactor).
  static double quantised_factor(core::Milliseconds slow_start, core::TimePoint since, core::TimePoint now);

  /// The weight a strategy gets for a backend of configured `weight` at `factor`, in a pool whose
  /// weights are scaled by kWeightScale (at least 1).
  static std::uint32_t effective_weight(std::uint32_t weight, double factor);

  /// True while `since` + `slow_start` is after `now`.
  static bool ramping(core::Milliseconds slow_start, core::TimePoint since, core::TimePoint now) {
    return slow_start.count() > 0 && now < since + slow_start;
  }
};

}  // namespace fulcrum::health
