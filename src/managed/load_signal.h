// What an autoscaled pool's load is, read from figures the data path keeps anyway: the in-flight
// count of each backend (an atomic the workers update per request), the pool's queue depth, and
// the pool's request-time histogram (per worker, summed here). No metrics pipeline, no lag: each
// reading is of this very moment (the latency: of the last interval).
//
// Control thread; the readings are relaxed atomic loads, the workers never wait for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "managed/autoscaler.h"
#include "metrics/histogram.h"
#include "upstream/pool.h"

namespace fulcrum::managed {

/// One pool's load at one moment.
struct PoolLoad {
  /// Requests (tcp: connections) in flight on the pool's serving instances (serving_instances()).
  double in_flight = 0;
  /// Requests or connections waiting in the pool's queue for a free slot.
  double queue_depth = 0;
  /// The 95th percentile of the pool's request time over the last interval, in milliseconds; 0
  /// when no request ended in it.
  double p95_ms = 0;
};

/// A pool's managed backends that take new work now (in rotation and up), and the requests in
/// flight on them.
struct ServingInstances {
  std::uint32_t count = 0;
  std::int64_t in_flight = 0;
};

/// The managed backends of `snapshot` that take new work, and their in-flight count, now (those
/// draining away, joining, unhealthy or ejected, and backends that are not managed instances, do
/// not count).
ServingInstances serving_instances(const upstream::PoolSnapshot& snapshot);

/// The value the autoscaler compares with its target, for a pool of `ready` instances: in-flight or
/// queued work per ready instance, or the p95 in milliseconds. 0 when no instance is ready.
double signal_value(ScaleSignal signal, const PoolLoad& load, std::uint32_t ready);

/// The p95 of one pool's request times between two readings of its histogram.
class LatencyWindow {
 public:
  /// The p95 (ms) of the requests that ended between the previous call and `total` (the pool's
  /// histogram summed over the workers now); 0 on the first call, or when none ended. A histogram
  /// that went back (its counters were reset) starts the window over.
  double p95_since_last(const metrics::HistogramSnapshot& total);

 private:
  std::optional<metrics::HistogramSnapshot> previous_;
};

/// An average of readings taken between two autoscaler decisions (the in-flight count is read
/// every 100 ms and the mean of the second is decided on, so one busy or idle instant does not
/// stand for the whole second).
class Average {
 public:
  void add(double value) {
    sum_ += value;
    ++count_;
  }
  /// The mean of the values added since the previous take() (0 if none), and starts over.
  double take() {
    const double mean = count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
    sum_ = 0;
    count_ = 0;
    return mean;
  }

 private:
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace fulcrum::managed
