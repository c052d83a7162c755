// The response-time estimate of one backend for least_latency: a peak EWMA (Finagle's and
// Linkerd's), updated by every worker without locks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "balance/strategy.h"

namespace fulcrum::balance {

/// Peak-EWMA of a backend's time to first byte.
///
/// The rule, with tau the decay time and elapsed the time since the previous sample:
/// - Between samples the estimate decays toward 0: estimate(now) = value * exp(-elapsed / tau).
///   This is the anti-starvation rule. A backend that was slow once and then gets no traffic
///   (because it looks slow) looks cheaper and cheaper until least_latency tries it again: a
///   backend measured at S competes with one at F after about tau * ln(S / F) (46 s for 1 s against
///   10 ms at the default tau). The probe's sample then resets the estimate: up again if it is
///   still slow, or down to its new speed. Decaying toward 0 rather than toward a floor needs no
///   second parameter and matches Finagle; "0" is read as "unknown" by least_latency, which then
///   compares in-flight requests alone (see least_latency.h), so a long-idle backend is not flooded.
/// - A sample at or above estimate(now) replaces it at once (the peak): one slow response is seen
///   by the very next pick.
/// - A sample below it is blended: estimate(now) * w + sample * (1 - w), w = exp(-elapsed / tau),
///   so a sample after a long quiet period counts nearly fully, one right after another barely.
///   Under steady traffic at a constant latency L the estimate stays at L.
///
/// Thread-safety: any thread may call record() and estimate() at any time. The state is two
/// atomics, the value (a double, updated by a compare-and-swap loop) and the time of the last
/// sample, written just after. The race is benign and documented here: a reader or writer that
/// falls between the two writes of another pairs the new value with the previous time, so it
/// decays that value by a little more than it should (by the gap between two samples), for that one
/// read. When workers record at the same instant, one sample may be blended into a value that
/// already holds another, or, after a few failed swaps, dropped; an estimate loses at most a sample
/// under contention. It never produces garbage: each word is read and written whole, samples are
/// clamped to at least 1 ns, elapsed to at least 0, so the estimate is always a finite number
/// between 0 and the largest sample recorded.
///
/// One object per backend, owned by the backend (it outlives pool snapshots, like the in-flight
/// counter); aligned to its own cache line since every worker writes it.
class alignas(64) LatencyTracker {
 public:
  /// The default decay time: Finagle's and Linkerd's.
  static constexpr std::chrono::nanoseconds kDefaultDecay = std::chrono::seconds(10);

  /// `decay` is tau above; values below 1 ns are taken as 1 ns.
  explicit LatencyTracker(std::chrono::nanoseconds decay = kDefaultDecay);

  /// Adds a sample: the time from sending a request to the first byte of its response, measured
  /// at `now` (the worker's loop time). A few atomic operations and one exp(); never blocks.
  void record(std::chrono::nanoseconds time_to_first_byte, TimePoint now);

  /// The estimate at `now` in nanoseconds, decayed since the last sample; 0 before any sample.
  /// `now` earlier than the last sample (another worker's clock read later) counts as no time.
  double estimate(TimePoint now) const;

  /// The decay time this tracker was built with.
  std::chrono::nanoseconds decay() const { return std::chrono::nanoseconds(static_cast<std::int64_t>(tau_)); }

 private:
  // exp(-elapsed / tau) for the time from `stamp` to `now` (nanoseconds), elapsed clamped at 0.
  double weight(std::int64_t stamp, std::int64_t now) const;

  double tau_;                             // nanoseconds, >= 1
  std::atomic<double> value_{0.0};         // the estimate as of stamp_
  std::atomic<std::int64_t> stamp_{0};     // steady-clock nanoseconds of the last sample
};

}  // namespace fulcrum::balance
