#include "metrics/histogram.h"

namespace fulcrum::metrics {

void HistogramSnapshot::add(const HistogramSnapshot& other) {
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) buckets[i] += other.buckets[i];
  count += other.count;
  sum_ns += other.sum_ns;
}

HistogramSnapshot HistogramSnapshot::since(const HistogramSnapshot& earlier) const {
  HistogramSnapshot d;
  // Relaxed reads of live counters may disagree by an observation in flight: never go below zero.
  auto minus = [](std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; };
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) d.buckets[i] = minus(buckets[i], earlier.buckets[i]);
  d.count = minus(count, earlier.count);
  d.sum_ns = minus(sum_ns, earlier.sum_ns);
  return d;
}

double HistogramSnapshot::quantile(double q) const {
  std::uint64_t total = 0;
  for (const auto n : buckets) total += n;
  if (total == 0) return 0.0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  const double rank = q * static_cast<double>(total);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    const std::uint64_t here = buckets[i];
    if (here == 0 || static_cast<double>(below + here) < rank) {
      below += here;
      continue;
    }
    if (i == kLatencyBoundsNs.size()) return static_cast<double>(kLatencyBoundsNs.back()) / 1e9;
    const double lower = i == 0 ? 0.0 : static_cast<double>(kLatencyBoundsNs[i - 1]);
    const double upper = static_cast<double>(kLatencyBoundsNs[i]);
    const double within = (rank - static_cast<double>(below)) / static_cast<double>(here);
    return (lower + (upper - lower) * within) / 1e9;
  }
  return static_cast<double>(kLatencyBoundsNs.back()) / 1e9;
}

void LatencyHistogram::add_to(HistogramSnapshot& out) const {
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) out.buckets[i] += buckets_[i].value();
  out.count += count_.value();
  out.sum_ns += sum_ns_.value();
}

}  // namespace fulcrum::metrics
