#include "metrics/health_check_metrics.h"

namespace fulcrum::metrics {

HealthCheckCounters& HealthCheckMetrics::backend(std::uint32_t slot, std::uint64_t id) {
  HealthCheckCounters& counters = backends_.at(slot);
  if (counters.backend_id.load(std::memory_order_relaxed) != id) {
    // The slot's previous backend is gone (slots are reused only then): start from zero.
    counters.failures.reset();
    counters.duration.reset();
    counters.backend_id.store(id, std::memory_order_release);
  }
  return counters;
}

const HealthCheckCounters* HealthCheckMetrics::find_backend(std::uint32_t slot, std::uint64_t id) const {
  const HealthCheckCounters* counters = backends_.find(slot);
  if (!counters || counters->backend_id.load(std::memory_order_acquire) != id) return nullptr;
  return counters;
}

}  // namespace fulcrum::metrics
