#include "health/outlier_detector.h"

#include <gtest/gtest.h>

namespace fulcrum::health {
namespace {

using namespace std::chrono_literals;

OutlierDetectionConfig config(std::uint32_t percent = 50) {
  OutlierDetectionConfig c;
  c.consecutive_failures = 3;
  c.base_ejection = 10s;
  c.max_ejection = 35s;
  c.max_ejection_percent = percent;
  return c;
}

const core::TimePoint t0 = core::TimePoint{} + 1000s;

TEST(OutlierDetector, EjectsAtTheThreshold) {
  OutlierDetector detector(config(), 4);
  EXPECT_FALSE(detector.observe(0, 2, t0));
  EXPECT_FALSE(detector.ejected(0));
  EXPECT_TRUE(detector.observe(0, 3, t0));
  EXPECT_TRUE(detector.ejected(0));
  EXPECT_EQ(detector.ejected_until(0), t0 + 10s);
  EXPECT_EQ(detector.ejected_count(), 1u);
  // Already ejected: not again.
  EXPECT_FALSE(detector.observe(0, 9, t0 + 1s));
}

TEST(OutlierDetector, ReleasesWhenTimePasses) {
  OutlierDetector detector(config(), 4);
  ASSERT_TRUE(detector.observe(1, 3, t0));
  EXPECT_TRUE(detector.release_expired(t0 + 9999ms).empty());
  EXPECT_TRUE(detector.ejected(1));
  const auto released = detector.release_expired(t0 + 10s);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0], 1u);
  EXPECT_FALSE(detector.ejected(1));
  EXPECT_EQ(detector.ejected_count(), 0u);
}

TEST(OutlierDetector, EjectionTimesGrowAndCap) {
  OutlierDetector detector(config(), 4);
  auto now = t0;
  const std::chrono::seconds expected[] = {10s, 20s, 30s, 35s, 35s};
  for (auto duration : expected) {
    ASSERT_TRUE(detector.observe(2, 3, now));
    EXPECT_EQ(detector.ejected_until(2) - now, duration);
    now = detector.ejected_until(2);
    ASSERT_EQ(detector.release_expired(now).size(), 1u);
    now += 1s;  // fails again soon after it is back
  }
  EXPECT_EQ(detector.ejections(2), 5u);
}

TEST(OutlierDetector, EjectionCountDecaysWhileBehaving) {
  OutlierDetector detector(config(), 4);
  auto now = t0;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(detector.observe(0, 3, now));
    now = detector.ejected_until(0);
    detector.release_expired(now);
  }
  EXPECT_EQ(detector.ejections(0), 3u);
  // Two full max_ejection periods back in the pool forgive two ejections: the next is the 2nd.
  now += 70s;
  ASSERT_TRUE(detector.observe(0, 3, now));
  EXPECT_EQ(detector.ejections(0), 2u);
  EXPECT_EQ(detector.ejected_until(0) - now, 20s);
}

TEST(OutlierDetector, NeverEjectsMoreThanThePercent) {
  OutlierDetector detector(config(50), 4);  // 2 of 4 at most
  EXPECT_TRUE(detector.observe(0, 5, t0));
  EXPECT_TRUE(detector.observe(1, 5, t0));
  EXPECT_FALSE(detector.observe(2, 5, t0));
  EXPECT_FALSE(detector.ejected(2));
  EXPECT_EQ(detector.ejected_count(), 2u);
  // Once one comes back, another may go.
  detector.release_expired(t0 + 10s);
  EXPECT_TRUE(detector.observe(2, 5, t0 + 10s));
}

TEST(OutlierDetector, PercentIsStrict) {
  OutlierDetector three(config(50), 3);  // 1.5 → 1
  EXPECT_TRUE(three.observe(0, 3, t0));
  EXPECT_FALSE(three.observe(1, 3, t0));
  OutlierDetector one(config(50), 1);  // a lone backend is never ejected at 50%
  EXPECT_FALSE(one.observe(0, 3, t0));
  OutlierDetector all(config(100), 2);
  EXPECT_TRUE(all.observe(0, 3, t0));
  EXPECT_TRUE(all.observe(1, 3, t0));
  OutlierDetector none(config(0), 10);
  EXPECT_FALSE(none.observe(0, 3, t0));
}

}  // namespace
}  // namespace fulcrum::health
