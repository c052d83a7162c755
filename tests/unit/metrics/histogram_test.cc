#include "metrics/histogram.h"

#include <gtest/gtest.h>

namespace fulcrum::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(LatencyHistogram, BucketsAreInclusiveUpperBounds) {
  EXPECT_EQ(latency_bucket(0), 0u);
  EXPECT_EQ(latency_bucket(100'000), 0u);  // exactly 100 µs: le="0.0001"
  EXPECT_EQ(latency_bucket(100'001), 1u);
  EXPECT_EQ(latency_bucket(5'000'000), 5u);  // 5 ms: le="0.005"
  EXPECT_EQ(latency_bucket(10'000'000'000), 15u);
  EXPECT_EQ(latency_bucket(10'000'000'001), 16u);  // +Inf
}

TEST(LatencyHistogram, CountsSumsAndSnapshotsAdd) {
  LatencyHistogram a, b;
  a.observe(microseconds(50));
  a.observe(milliseconds(3));
  b.observe(milliseconds(3));
  b.observe(std::chrono::seconds(20));
  HistogramSnapshot total;
  a.add_to(total);
  b.add_to(total);
  EXPECT_EQ(total.count, 4u);
  EXPECT_EQ(total.buckets[0], 1u);
  EXPECT_EQ(total.buckets[latency_bucket(3'000'000)], 2u);
  EXPECT_EQ(total.buckets[kLatencyBuckets - 1], 1u);
  EXPECT_EQ(total.sum_ns, 50'000u + 6'000'000u + 20'000'000'000u);
}

TEST(HistogramSnapshot, QuantilesInterpolateWithinTheBucket) {
  HistogramSnapshot s;
  EXPECT_EQ(s.quantile(0.5), 0.0) << "empty";
  // 100 observations spread evenly over (1 ms, 2.5 ms]: the median is half-way through.
  s.buckets[latency_bucket(2'000'000)] = 100;
  EXPECT_NEAR(s.quantile(0.5), 0.00175, 1e-9);
  EXPECT_NEAR(s.quantile(1.0), 0.0025, 1e-9);
  // 90 fast (≤100 µs), 10 slow (in (50, 100] ms): p50 is fast, p99 is slow.
  HistogramSnapshot mixed;
  mixed.buckets[0] = 90;
  mixed.buckets[latency_bucket(80'000'000)] = 10;
  EXPECT_LE(mixed.quantile(0.5), 0.0001);
  EXPECT_GT(mixed.quantile(0.99), 0.05);
  EXPECT_LE(mixed.quantile(0.99), 0.1);
  // Everything beyond the last bound: answered with the last finite bound.
  HistogramSnapshot slow;
  slow.buckets[kLatencyBuckets - 1] = 3;
  EXPECT_EQ(slow.quantile(0.5), 10.0);
}

TEST(HistogramSnapshot, SinceSubtractsAnEarlierSample) {
  LatencyHistogram h;
  h.observe(milliseconds(1));
  HistogramSnapshot earlier;
  h.add_to(earlier);
  h.observe(milliseconds(200));
  h.observe(milliseconds(200));
  HistogramSnapshot now;
  h.add_to(now);
  const auto recent = now.since(earlier);
  EXPECT_EQ(recent.count, 2u);
  EXPECT_EQ(recent.buckets[latency_bucket(1'000'000)], 0u);
  EXPECT_GT(recent.quantile(0.5), 0.1);
}

}  // namespace
}  // namespace fulcrum::metrics
