#include "balance/latency_tracker.h"

#include <algorithm>
#include <cmath>

namespace fulcrum::balance {
namespace {

// A failed swap means another worker recorded a sample meanwhile; after this many the sample is
// dropped, which bounds a worker's time here under contention (see the class comment).
constexpr int kMaxSwapAttempts = 4;

static_assert(std::atomic<double>::is_always_lock_free, "the tracker must not take a lock");
static_assert(std::atomic<std::int64_t>::is_always_lock_free, "the tracker must not take a lock");

std::int64_t nanoseconds_of(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

LatencyTracker::LatencyTracker(std::chrono::nanoseconds decay)
    : tau_(static_cast<double>(std::max<std::int64_t>(decay.count(), 1))) {}

double LatencyTracker::weight(std::int64_t stamp, std::int64_t now) const {
  return std::exp(-static_cast<double>(std::max<std::int64_t>(now - stamp, 0)) / tau_);
}

void LatencyTracker::record(std::chrono::nanoseconds time_to_first_byte, TimePoint now) {
  const std::int64_t now_ns = nanoseconds_of(now);
  // At least 1 ns, so that a recorded backend never reads as "unknown" (0) right away.
  const double sample = static_cast<double>(std::max<std::int64_t>(time_to_first_byte.count(), 1));
  double value = value_.load(std::memory_order_relaxed);
  for (int attempt = 0; attempt < kMaxSwapAttempts; ++attempt) {
    const std::int64_t stamp = stamp_.load(std::memory_order_relaxed);
    const double w = weight(stamp, now_ns);
    const double current = value * w;
    const double next = sample >= current ? sample : current * w + sample * (1.0 - w);
    // On failure `value` is reloaded with the other worker's result and the sample is applied to it.
    if (value_.compare_exchange_weak(value, next, std::memory_order_relaxed)) {
      // A `now` behind the stamp (a worker whose loop time lags) must not move the stamp back, or
      // the value would later look older than it is and decay too far.
      stamp_.store(std::max(stamp, now_ns), std::memory_order_relaxed);
      return;
    }
  }
}

double LatencyTracker::estimate(TimePoint now) const {
  // Relaxed: the two words need no ordering with any other memory, and their pairing is the
  // benign race described in the header.
  const double value = value_.load(std::memory_order_relaxed);
  return value * weight(stamp_.load(std::memory_order_relaxed), nanoseconds_of(now));
}

}  // namespace fulcrum::balance
