#include "metrics/health_check_metrics.h"

#include <gtest/gtest.h>

#include <chrono>

namespace fulcrum::metrics {
namespace {

TEST(HealthCheckMetrics, CountsPerBackendBySlotAndId) {
  HealthCheckMetrics m;
  EXPECT_EQ(m.find_backend(4, 104), nullptr) << "never checked";
  m.backend(4, 104).failures.increment();
  m.backend(4, 104).duration.observe(std::chrono::milliseconds(3));
  m.backend(4, 104).duration.observe(std::chrono::milliseconds(300));
  m.backend(90, 190).duration.observe(std::chrono::microseconds(50));
  const HealthCheckCounters* a = m.find_backend(4, 104);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->failures.value(), 1u);
  HistogramSnapshot duration;
  a->duration.add_to(duration);
  EXPECT_EQ(duration.count, 2u);
  EXPECT_EQ(duration.buckets[latency_bucket(3'000'000)], 1u);
  EXPECT_EQ(duration.buckets[latency_bucket(300'000'000)], 1u);
  ASSERT_NE(m.find_backend(90, 190), nullptr);
  EXPECT_EQ(m.find_backend(90, 190)->failures.value(), 0u);
  EXPECT_EQ(m.find_backend(4, 999), nullptr) << "another backend's id at the slot";
}

TEST(HealthCheckMetrics, AReusedSlotStartsFromZeroForItsNewBackend) {
  HealthCheckMetrics m;
  m.backend(3, 11).failures.add(7);
  m.backend(3, 11).duration.observe(std::chrono::milliseconds(2));
  // The same backend again (a new snapshot that keeps it): its counts stay.
  EXPECT_EQ(m.backend(3, 11).failures.value(), 7u);
  // Backend 11 left; backend 12 got its slot.
  EXPECT_EQ(m.find_backend(3, 12), nullptr);
  EXPECT_EQ(m.backend(3, 12).failures.value(), 0u);
  HistogramSnapshot duration;
  m.find_backend(3, 12)->duration.add_to(duration);
  EXPECT_EQ(duration.count, 0u);
  EXPECT_EQ(m.find_backend(3, 11), nullptr);
}

}  // namespace
}  // namespace fulcrum::metrics
