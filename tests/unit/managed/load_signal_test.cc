#include "managed/load_signal.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

namespace fulcrum::managed {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<upstream::Backend> backend(std::uint64_t id, upstream::BackendSource source, std::int64_t active) {
  const std::string address = "127.0.0.1:" + std::to_string(9000 + id);
  auto made = std::make_shared<upstream::Backend>(id, address, *net::Address::parse_numeric(address), 1,
                                                  std::string(), source);
  made->add_active(active);
  return made;
}

TEST(LoadSignal, ServingInstancesAreManagedBackendsInRotationAndUp) {
  upstream::PoolSnapshot snapshot;
  snapshot.backends = {backend(1, upstream::BackendSource::Managed, 5),
                       backend(2, upstream::BackendSource::Managed, 7),
                       backend(3, upstream::BackendSource::Config, 100),    // not an instance
                       backend(4, upstream::BackendSource::Managed, 11),   // draining away
                       backend(5, upstream::BackendSource::Managed, 13),   // unhealthy
                       backend(6, upstream::BackendSource::Managed, 0)};   // joining
  snapshot.down_reasons = {0, 0, 0, upstream::kDownDrain, upstream::kDownUnhealthy, upstream::kDownJoining};
  ServingInstances serving = serving_instances(snapshot);
  EXPECT_EQ(serving.count, 2u);
  EXPECT_EQ(serving.in_flight, 5 + 7);
  snapshot.down_reasons.clear();  // empty: every backend up
  serving = serving_instances(snapshot);
  EXPECT_EQ(serving.count, 5u);
  EXPECT_EQ(serving.in_flight, 5 + 7 + 11 + 13);
}

TEST(LoadSignal, ValuesPerReadyInstance) {
  const PoolLoad load{.in_flight = 60, .queue_depth = 9, .p95_ms = 250};
  EXPECT_DOUBLE_EQ(signal_value(ScaleSignal::InFlight, load, 3), 20);
  EXPECT_DOUBLE_EQ(signal_value(ScaleSignal::Queue, load, 3), 3);
  EXPECT_DOUBLE_EQ(signal_value(ScaleSignal::P95, load, 3), 250);
  EXPECT_DOUBLE_EQ(signal_value(ScaleSignal::InFlight, load, 0), 0);
}

metrics::HistogramSnapshot histogram(std::uint64_t at_1ms, std::uint64_t at_400ms) {
  metrics::HistogramSnapshot snapshot;
  snapshot.buckets[metrics::latency_bucket(1'000'000)] = at_1ms;
  snapshot.buckets[metrics::latency_bucket(400'000'000)] = at_400ms;
  snapshot.count = at_1ms + at_400ms;
  return snapshot;
}

TEST(LoadSignal, LatencyIsOfTheLastIntervalOnly) {
  LatencyWindow window;
  EXPECT_DOUBLE_EQ(window.p95_since_last(histogram(1000, 0)), 0) << "no interval yet";
  // 100 slow requests (250..500 ms bucket) out of 100 in this interval: p95 in that bucket.
  const double slow = window.p95_since_last(histogram(1000, 100));
  EXPECT_GT(slow, 250);
  EXPECT_LE(slow, 500);
  // The next interval has only fast ones: the slow ones of the interval before no longer count.
  const double fast = window.p95_since_last(histogram(2000, 100));
  EXPECT_GT(fast, 0.5);
  EXPECT_LE(fast, 1);
  EXPECT_DOUBLE_EQ(window.p95_since_last(histogram(2000, 100)), 0) << "nothing ended";
  // Counters that went back (reset) start over rather than underflow.
  EXPECT_DOUBLE_EQ(window.p95_since_last(histogram(10, 0)), 0);
  EXPECT_LE(window.p95_since_last(histogram(20, 0)), 1);
}

TEST(LoadSignal, AverageOfTheReadingsSinceTheLastTake) {
  Average average;
  EXPECT_DOUBLE_EQ(average.take(), 0);
  average.add(10);
  average.add(20);
  average.add(60);
  EXPECT_DOUBLE_EQ(average.take(), 30);
  average.add(4);
  EXPECT_DOUBLE_EQ(average.take(), 4);
}

}  // namespace
}  // namespace fulcrum::managed
