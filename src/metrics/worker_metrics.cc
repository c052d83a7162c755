#include "metrics/worker_metrics.h"

namespace fulcrum::metrics {

void TrafficTotals::add(const TrafficCounters& counters) {
  requests += counters.requests.value();
  for (std::size_t i = 0; i < responses.size(); ++i) responses[i] += counters.responses[i].value();
  bytes_in += counters.bytes_in.value();
  bytes_out += counters.bytes_out.value();
  connect_errors += counters.connect_errors.value();
  retries += counters.retries.value();
}

WorkerMetrics::WorkerMetrics(std::vector<std::size_t> routes_per_listener, std::size_t pools)
    : listeners_(routes_per_listener.size()),
      pools_(pools),
      chunks_(std::make_unique<std::atomic<BackendCounters*>[]>(kMaxChunks)) {
  std::size_t total = 0;
  for (const std::size_t routes : routes_per_listener) {
    route_offsets_.push_back(total);
    total += routes;
  }
  route_offsets_.push_back(total);
  routes_ = std::vector<TrafficCounters>(total);
  for (std::size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

WorkerMetrics::~WorkerMetrics() {
  for (std::size_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

TrafficCounters& WorkerMetrics::route(std::size_t listener, std::size_t route) {
  const std::size_t index = route_offsets_[listener] + route;
  // A route index past the listener's table would be a bug; count it on the listener's last route.
  return routes_[index < route_offsets_[listener + 1] ? index : route_offsets_[listener + 1] - 1];
}

const TrafficCounters* WorkerMetrics::find_route(std::size_t listener, std::size_t route) const {
  if (listener + 1 >= route_offsets_.size()) return nullptr;
  const std::size_t index = route_offsets_[listener] + route;
  return index < route_offsets_[listener + 1] ? &routes_[index] : nullptr;
}

BackendCounters& WorkerMetrics::backend(std::uint32_t slot, std::uint64_t id) {
  const std::uint64_t chunk = slot / kChunk;
  if (chunk >= kMaxChunks) return overflow_;
  BackendCounters* block = chunks_[chunk].load(std::memory_order_relaxed);
  if (!block) {
    block = new BackendCounters[kChunk];
    // Release: a reader that sees the pointer sees zeroed counters behind it.
    chunks_[chunk].store(block, std::memory_order_release);
  }
  BackendCounters& counters = block[slot % kChunk];
  if (counters.backend_id.load(std::memory_order_relaxed) != id) {
    // The slot's previous backend is gone (slots are reused only then): start from zero.
    counters.traffic.reset();
    counters.latency.reset();
    counters.backend_id.store(id, std::memory_order_release);
  }
  return counters;
}

const BackendCounters* WorkerMetrics::find_backend(std::uint32_t slot, std::uint64_t id) const {
  const std::uint64_t chunk = slot / kChunk;
  if (chunk >= kMaxChunks) return &overflow_;
  const BackendCounters* block = chunks_[chunk].load(std::memory_order_acquire);
  if (!block || block[slot % kChunk].backend_id.load(std::memory_order_acquire) != id) return nullptr;
  return &block[slot % kChunk];
}

}  // namespace fulcrum::metrics
