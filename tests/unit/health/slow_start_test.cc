#include "health/slow_start.h"

#include <gtest/gtest.h>

namespace fulcrum::health {
namespace {

using namespace std::chrono_literals;

const core::TimePoint t0 = core::TimePoint{} + 1000s;

TEST(SlowStart, RampsLinearlyWithAFloor) {
  const core::Milliseconds ramp = 10s;
  EXPECT_DOUBLE_EQ(SlowStart::factor(ramp, t0, t0), SlowStart::kMinimumFactor);
  EXPECT_DOUBLE_EQ(SlowStart::factor(ramp, t0, t0 + 500ms), SlowStart::kMinimumFactor);
  EXPECT_DOUBLE_EQ(SlowStart::factor(ramp, t0, t0 + 2500ms), 0.25);
  EXPECT_DOUBLE_EQ(SlowStart::factor(ramp, t0, t0 + 5s), 0.5);
  EXPECT_DOUBLE_EQ(SlowStart::factor(ramp, t0, t0 + 10s), 1.0);
  EXPECT_DOUBLE_EQ(SlowStart::factor(ramp, t0, t0 + 60s), 1.0);
}

TEST(SlowStart, OffWhenZero) {
  EXPECT_DOUBLE_EQ(SlowStart::factor(0ms, t0, t0), 1.0);
  EXPECT_FALSE(SlowStart::ramping(0ms, t0, t0));
}

TEST(SlowStart, Ramping) {
  EXPECT_TRUE(SlowStart::ramping(10s, t0, t0 + 9999ms));
  EXPECT_FALSE(SlowStart::ramping(10s, t0, t0 + 10s));
}

TEST(SlowStart, QuantisedInFivePercentSteps) {
  const core::Milliseconds ramp = 10s;
  EXPECT_DOUBLE_EQ(SlowStart::quantised_factor(ramp, t0, t0 + 1s), 0.1);
  EXPECT_DOUBLE_EQ(SlowStart::quantised_factor(ramp, t0, t0 + 1400ms), 0.1);
  EXPECT_DOUBLE_EQ(SlowStart::quantised_factor(ramp, t0, t0 + 1500ms), 0.15);
  EXPECT_DOUBLE_EQ(SlowStart::quantised_factor(ramp, t0, t0 + 3s), 0.3);
  EXPECT_DOUBLE_EQ(SlowStart::quantised_factor(ramp, t0, t0 + 9999ms), 0.95);
  EXPECT_DOUBLE_EQ(SlowStart::quantised_factor(ramp, t0, t0 + 10s), 1.0);
}

TEST(SlowStart, EffectiveWeightsScaleTheWholePool) {
  EXPECT_EQ(SlowStart::effective_weight(1, 1.0), 100u);
  EXPECT_EQ(SlowStart::effective_weight(1, 0.1), 10u);
  EXPECT_EQ(SlowStart::effective_weight(3, 0.5), 150u);
  EXPECT_EQ(SlowStart::effective_weight(1, 0.0), 1u);  // never zero
  EXPECT_EQ(SlowStart::effective_weight(1000000, 1.0), 100000000u);
}

}  // namespace
}  // namespace fulcrum::health
