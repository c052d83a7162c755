#include "managed/backoff.h"

#include <gtest/gtest.h>

namespace fulcrum::managed {
namespace {

using namespace std::chrono_literals;

ManagedRestartConfig restart(Duration min, Duration max) {
  ManagedRestartConfig config;
  config.backoff_min = min;
  config.backoff_max = max;
  return config;
}

TEST(RestartBackoff, DoublesFromTheLowerBoundToTheCap) {
  const auto config = restart(100ms, 1s);
  EXPECT_EQ(restart_delay(config, 1, 0.0), 100ms);
  EXPECT_EQ(restart_delay(config, 2, 0.0), 200ms);
  EXPECT_EQ(restart_delay(config, 3, 0.0), 400ms);
  EXPECT_EQ(restart_delay(config, 4, 0.0), 800ms);
  EXPECT_EQ(restart_delay(config, 5, 0.0), 1s);
  EXPECT_EQ(restart_delay(config, 1000000, 0.0), 1s) << "no overflow however many failures";
  EXPECT_EQ(restart_delay(config, 0, 0.0), 100ms);
}

TEST(RestartBackoff, JitterTakesUpToAQuarterOffButNeverGoesBelowTheLowerBound) {
  const auto config = restart(100ms, 1s);
  EXPECT_EQ(restart_delay(config, 4, 0.5), 700ms);
  EXPECT_GT(restart_delay(config, 5, 0.999), 750ms - 1ms);
  EXPECT_LE(restart_delay(config, 5, 1.5), 1s);
  EXPECT_EQ(restart_delay(config, 1, 0.999), 100ms);
}

TEST(RestartBackoff, CrashLoopsOnceTheDelayReachedTheCap) {
  const auto config = restart(50ms, 400ms);
  EXPECT_FALSE(crash_looping(config, 1));
  EXPECT_FALSE(crash_looping(config, 3));  // 200 ms
  EXPECT_TRUE(crash_looping(config, 4));   // 400 ms
  EXPECT_TRUE(crash_looping(config, 40));
  // A cap equal to the lower bound: one exit is not yet a loop.
  EXPECT_FALSE(crash_looping(restart(1s, 1s), 1));
  EXPECT_TRUE(crash_looping(restart(1s, 1s), 2));
}

}  // namespace
}  // namespace fulcrum::managed
