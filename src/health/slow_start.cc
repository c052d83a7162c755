#include "health/slow_start.h"

#include <algorithm>
#include <cmath>

namespace fulcrum::health {

double SlowStart::factor(core::Milliseconds slow_start, core::TimePoint since, core::TimePoint now) {
  if (slow_start.count() <= 0) return 1.0;
  const double elapsed = std::chrono::duration<double>(now - since).count();
  const double total = std::chrono::duration<double>(slow_start).count();
  return std::clamp(elapsed / total, kMinimumFactor, 1.0);
}

double SlowStart::quantised_factor(core::Milliseconds slow_start, core::TimePoint since, core::TimePoint now) {
  const double f = factor(slow_start, since, now);
  if (f >= 1.0) return 1.0;
  // The small epsilon keeps 0.3 / 0.05 from flooring to 5.
  return std::max(kMinimumFactor, std::floor(f / kStep + 1e-9) * kStep);
}

std::uint32_t SlowStart::effective_weight(std::uint32_t weight, double factor) {
  const double scaled = static_cast<double>(weight) * kWeightScale * std::clamp(factor, 0.0, 1.0);
  return static_cast<std::uint32_t>(std::max(1.0, std::min(std::round(scaled), 4294967295.0)));
}

}  // namespace fulcrum::health
