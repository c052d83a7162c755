// Request latency histograms with fixed, log-spaced buckets (the 1-2.5-5 series from 100 µs to
// 10 s, then +Inf): observing is one bucket search over 16 integers and three single-writer
// counter updates, no allocation. Buckets are the same everywhere, so histograms of different
// workers (and of successive samples) add and subtract bucket by bucket.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "metrics/counter.h"

namespace fulcrum::metrics {

/// Upper bounds (inclusive) of the finite buckets, in nanoseconds; one more bucket is +Inf.
inline constexpr std::array<std::int64_t, 16> kLatencyBoundsNs = {
    100'000,     250'000,     500'000,       1'000'000,     2'500'000,     5'000'000,
    10'000'000,  25'000'000,  50'000'000,    100'000'000,   250'000'000,   500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
inline constexpr std::size_t kLatencyBuckets = kLatencyBoundsNs.size() + 1;

/// The bucket of a duration: the first whose bound is >= it (the last one for longer ones).
inline std::size_t latency_bucket(std::int64_t nanoseconds) {
  std::size_t index = 0;
  for (const std::int64_t bound : kLatencyBoundsNs) index += nanoseconds > bound ? 1 : 0;
  return index;
}

/// Plain counts of a histogram at one moment (or a difference of two moments). Any thread.
struct HistogramSnapshot {
  /// Observations per bucket (not cumulative).
  std::array<std::uint64_t, kLatencyBuckets> buckets{};
  std::uint64_t count = 0;
  std::uint64_t sum_ns = 0;

  void add(const HistogramSnapshot& other);
  /// This minus an earlier snapshot of the same histogram (counts only grow).
  HistogramSnapshot since(const HistogramSnapshot& earlier) const;
  /// The `q` quantile (0..1) in seconds, interpolated linearly inside its bucket (a bucket's lower
  /// bound is the previous bound, 0 for the first; the +Inf bucket answers the last finite
  /// bound). 0 when empty.
  double quantile(double q) const;
};

/// One histogram with a single writing thread (see Counter).
class LatencyHistogram {
 public:
  /// Owner thread only.
  void observe(std::chrono::nanoseconds duration) {
    const std::int64_t ns = duration.count() < 0 ? 0 : duration.count();
    buckets_[latency_bucket(ns)].increment();
    sum_ns_.add(static_cast<std::uint64_t>(ns));
    count_.increment();
  }
  /// Any thread: adds the current counts to `out` (relaxed reads: an observation in flight may be seen in part).
  void add_to(HistogramSnapshot& out) const;
  /// Owner thread only: empty again.
  void reset() {
    for (auto& bucket : buckets_) bucket.reset();
    sum_ns_.reset();
    count_.reset();
  }

 private:
  std::array<Counter, kLatencyBuckets> buckets_;
  Counter sum_ns_;
  Counter count_;
};

}  // namespace fulcrum::metrics
