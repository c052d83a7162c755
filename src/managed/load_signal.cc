#include "managed/load_signal.h"

namespace fulcrum::managed {

ServingInstances serving_instances(const upstream::PoolSnapshot& snapshot) {
  ServingInstances serving;
  for (std::size_t i = 0; i < snapshot.backends.size(); ++i) {
    const upstream::Backend& backend = *snapshot.backends[i];
    if (backend.source() != upstream::BackendSource::Managed) continue;
    if (!snapshot.in_rotation(i) || !snapshot.is_up(i)) continue;
    ++serving.count;
    const std::int64_t active = backend.active();
    serving.in_flight += active > 0 ? active : 0;  // a relaxed read may see a decrement first
  }
  return serving;
}

double signal_value(ScaleSignal signal, const PoolLoad& load, std::uint32_t ready) {
  if (ready == 0) return 0;
  switch (signal) {
    case ScaleSignal::InFlight: return load.in_flight / ready;
    case ScaleSignal::P95: return load.p95_ms;
    case ScaleSignal::Queue: return load.queue_depth / ready;
  }
  return 0;
}

double LatencyWindow::p95_since_last(const metrics::HistogramSnapshot& total) {
  double p95 = 0;
  if (previous_ && total.count >= previous_->count) {
    p95 = total.since(*previous_).quantile(0.95) * 1000.0;
  }
  previous_ = total;
  return p95;
}

}  // namespace fulcrum::managed
