// Per backend, what its active health checks cost and found: failed checks and the duration of
// every check (a histogram with the request latency's buckets, so its count is the checks run).
// The health monitor on the control thread is the only writer; the admin API and /metrics read.
//
// Blocks are keyed as the workers' backend counters are (WorkerMetrics::backend): by the
// backend's counter slot, checked against its id. A backend keeps its counts through every
// snapshot that keeps it (a reload, a weight change, a health verdict); a new backend that
// reuses the slot of one that left starts from zero.
#pragma once

#include <atomic>
#include <cstdint>

#include "metrics/counter.h"
#include "metrics/histogram.h"
#include "metrics/slot_table.h"

namespace fulcrum::metrics {

/// One backend's checks.
struct HealthCheckCounters {
  /// Checks whose verdict was a failure (refused, timed out, wrong status or body).
  Counter failures;
  /// From a check's start to its verdict, passed or failed.
  LatencyHistogram duration;
  /// The backend these counts are for (0: none yet); see WorkerMetrics' BackendCounters.
  std::atomic<std::uint64_t> backend_id{0};
};

class HealthCheckMetrics {
 public:
  /// Writer (the health monitor's thread): the block of backend `id` at counter slot `slot`
  /// (upstream::Backend::counter_slot()), zeroed first if it last counted another backend.
  HealthCheckCounters& backend(std::uint32_t slot, std::uint64_t id);
  /// Any thread: the block of backend `id`; null when it was never checked.
  const HealthCheckCounters* find_backend(std::uint32_t slot, std::uint64_t id) const;

 private:
  SlotTable<HealthCheckCounters> backends_;
};

}  // namespace fulcrum::metrics
