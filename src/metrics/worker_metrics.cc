#include "metrics/worker_metrics.h"

namespace fulcrum::metrics {

void TrafficTotals::add(const TrafficCounters& counters) {
  requests += counters.requests.value();
  for (std::size_t i = 0; i < responses.size(); ++i) responses[i] += counters.responses[i].value();
  bytes_in += counters.bytes_in.value();
  bytes_out += counters.bytes_out.value();
  connect_errors += counters.connect_errors.value();
  retries += counters.retries.value();
  queued += counters.queued.value();
  queue_timeouts += counters.queue_timeouts.value();
  queue_full += counters.queue_full.value();
  counters.queue_time.add_to(queue_time);
  counters.connect_time.add_to(connect_time);
  counters.total_time.add_to(total_time);
}

BackendCounters& WorkerMetrics::backend(std::uint32_t slot, std::uint64_t id) {
  BackendCounters& counters = backends_.at(slot);
  if (counters.backend_id.load(std::memory_order_relaxed) != id) {
    // The slot's previous backend is gone (slots are reused only then): start from zero.
    counters.traffic.reset();
    counters.latency.reset();
    counters.backend_id.store(id, std::memory_order_release);
  }
  return counters;
}

const BackendCounters* WorkerMetrics::find_backend(std::uint32_t slot, std::uint64_t id) const {
  const BackendCounters* counters = backends_.find(slot);
  if (!counters || counters->backend_id.load(std::memory_order_acquire) != id) return nullptr;
  return counters;
}

}  // namespace fulcrum::metrics
