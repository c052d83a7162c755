#include "balance/latency_tracker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

namespace fulcrum::balance {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// An arbitrary, non-zero steady-clock time: the tracker must not assume the clock starts at 0.
const TimePoint t0 = TimePoint{} + std::chrono::hours(1000);

constexpr double kMs = 1e6;  // nanoseconds

TEST(LatencyTracker, UnknownUntilTheFirstSample) {
  LatencyTracker tracker;
  EXPECT_EQ(tracker.estimate(t0), 0.0);
  EXPECT_EQ(tracker.estimate(TimePoint{}), 0.0);
  EXPECT_EQ(tracker.decay(), seconds(10));
}

TEST(LatencyTracker, FirstSampleIsTheEstimateThenDecaysTowardZeroWithTau) {
  LatencyTracker tracker;  // tau = 10 s
  tracker.record(milliseconds(100), t0);
  EXPECT_EQ(tracker.estimate(t0), 100 * kMs);
  EXPECT_NEAR(tracker.estimate(t0 + seconds(10)), 100 * kMs * std::exp(-1.0), 1e-3);
  EXPECT_NEAR(tracker.estimate(t0 + seconds(10)), 36'787'944.1, 0.1);  // the same, as a number
  EXPECT_NEAR(tracker.estimate(t0 + seconds(20)), 100 * kMs * std::exp(-2.0), 1e-3);
  EXPECT_NEAR(tracker.estimate(t0 + milliseconds(500)), 100 * kMs * std::exp(-0.05), 1e-3);
  // Reading does not change the state.
  EXPECT_EQ(tracker.estimate(t0), 100 * kMs);
}

TEST(LatencyTracker, AHigherSampleReplacesTheEstimateAtOnce) {
  LatencyTracker tracker;
  for (int i = 0; i < 100; ++i) tracker.record(milliseconds(10), t0 + milliseconds(i));
  EXPECT_NEAR(tracker.estimate(t0 + milliseconds(99)), 10 * kMs, 1.0);
  tracker.record(milliseconds(500), t0 + milliseconds(100));
  EXPECT_EQ(tracker.estimate(t0 + milliseconds(100)), 500 * kMs);
  // A sample above the decayed estimate but below the stored value is a peak too.
  LatencyTracker decayed;
  decayed.record(milliseconds(100), t0);
  decayed.record(milliseconds(50), t0 + seconds(10));  // estimate then 36.8 ms < 50 ms
  EXPECT_EQ(decayed.estimate(t0 + seconds(10)), 50 * kMs);
}

TEST(LatencyTracker, ALowerSampleIsBlendedByElapsedTime) {
  LatencyTracker tracker;
  tracker.record(milliseconds(100), t0);
  // 10 s later: estimate 100 ms * e^-1; the 20 ms sample is blended with w = e^-1:
  // 36.79 * 0.3679 + 20 * 0.6321 = 26.18 ms.
  tracker.record(milliseconds(20), t0 + seconds(10));
  const double w = std::exp(-1.0);
  EXPECT_NEAR(tracker.estimate(t0 + seconds(10)), 100 * kMs * w * w + 20 * kMs * (1 - w), 1e-3);
  EXPECT_NEAR(tracker.estimate(t0 + seconds(10)), 26'175'939.5, 0.1);

  // Right after a sample, a lower one barely counts: w = e^-0.0001.
  LatencyTracker recent;
  recent.record(milliseconds(100), t0);
  recent.record(milliseconds(1), t0 + milliseconds(1));
  const double w2 = std::exp(-1e-4);
  EXPECT_NEAR(recent.estimate(t0 + milliseconds(1)), 100 * kMs * w2 * w2 + 1 * kMs * (1 - w2), 1e-3);
  EXPECT_GT(recent.estimate(t0 + milliseconds(1)), 99.9 * kMs);
}

TEST(LatencyTracker, SteadyLatencyStaysPutAndADropIsFollowed) {
  LatencyTracker tracker;
  TimePoint now = t0;
  for (int i = 0; i < 600; ++i, now += milliseconds(100)) {
    tracker.record(milliseconds(100), now);
    ASSERT_EQ(tracker.estimate(now), 100 * kMs) << "sample " << i;
  }
  // The backend gets ten times faster; samples every 100 ms pull the estimate down over seconds
  // (each step keeps w^2 = 0.98 of the excess), and once the decayed estimate falls below a sample
  // that sample resets it exactly.
  const TimePoint change = now;
  for (; now < change + seconds(5); now += milliseconds(100)) tracker.record(milliseconds(10), now);
  EXPECT_GT(tracker.estimate(now - milliseconds(100)), 20 * kMs);
  for (; now < change + seconds(30); now += milliseconds(100)) tracker.record(milliseconds(10), now);
  EXPECT_EQ(tracker.estimate(now - milliseconds(100)), 10 * kMs);
}

TEST(LatencyTracker, ConfigurableDecay) {
  LatencyTracker tracker(seconds(1));
  EXPECT_EQ(tracker.decay(), seconds(1));
  tracker.record(milliseconds(40), t0);
  EXPECT_NEAR(tracker.estimate(t0 + seconds(1)), 40 * kMs * std::exp(-1.0), 1e-3);
  EXPECT_NEAR(tracker.estimate(t0 + seconds(3)), 40 * kMs * std::exp(-3.0), 1e-3);
  // After ~750 decay times the double underflows: the backend is unknown again.
  EXPECT_EQ(tracker.estimate(t0 + seconds(800)), 0.0);
  LatencyTracker degenerate(nanoseconds(0));  // taken as 1 ns, never a division by zero
  degenerate.record(milliseconds(1), t0);
  EXPECT_EQ(degenerate.estimate(t0), 1 * kMs);
  EXPECT_EQ(degenerate.estimate(t0 + milliseconds(1)), 0.0);
}

TEST(LatencyTracker, ClampsSamplesAndTimeGoingBackwards) {
  LatencyTracker tracker;
  tracker.record(nanoseconds(0), t0);
  EXPECT_EQ(tracker.estimate(t0), 1.0);  // recorded is never "unknown"
  tracker.record(nanoseconds(-5), t0);
  EXPECT_EQ(tracker.estimate(t0), 1.0);

  // Another worker's loop time may lag: an earlier `now` counts as no time, not as growth.
  LatencyTracker lagging;
  lagging.record(milliseconds(30), t0 + seconds(1));
  EXPECT_EQ(lagging.estimate(t0), 30 * kMs);
  lagging.record(milliseconds(10), t0);  // w = 1: the lower sample does not count
  EXPECT_EQ(lagging.estimate(t0 + seconds(1)), 30 * kMs);
}

// Workers record and read one tracker at once. Whatever the interleaving, every estimate is a
// finite number within the samples' range (the value is always a blend of samples, decayed).
// Run under -fsanitize=thread to check that the state is only touched atomically.
TEST(LatencyTracker, ConcurrentRecordsNeverProduceGarbage) {
  LatencyTracker tracker;
  constexpr int kWriters = 4;
  constexpr int kSamples = 20000;
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::atomic<long> reads{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&tracker, w] {
      for (int i = 0; i < kSamples; ++i) {
        const auto sample = milliseconds(1 + (i * 7 + w) % 5);  // 1..5 ms
        tracker.record(sample, t0 + std::chrono::microseconds(i));
      }
    });
  }
  threads.emplace_back([&] {
    while (!done.load()) {
      const double estimate = tracker.estimate(t0 + std::chrono::microseconds(kSamples));
      if (!std::isfinite(estimate) || estimate < 0 || estimate > 5 * kMs) bad_reads.fetch_add(1);
      reads.fetch_add(1);
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done.store(true);
  threads.back().join();
  EXPECT_EQ(bad_reads.load(), 0) << "of " << reads.load() << " reads";
  // The samples were 1..5 ms, and the last ones just now: the estimate is in that range.
  const double final_estimate = tracker.estimate(t0 + std::chrono::microseconds(kSamples - 1));
  EXPECT_GE(final_estimate, 0.99 * kMs);
  EXPECT_LE(final_estimate, 5 * kMs);
}

}  // namespace
}  // namespace fulcrum::balance
