// What the autoscaler is given for a managed pool's configuration (managed/autoscaling.h).
#include <gtest/gtest.h>

#include "managed/autoscaling.h"

namespace fulcrum::managed {
namespace {

using namespace std::chrono_literals;

ManagedConfig autoscaled(const AutoscaleConfig& autoscale) {
  ManagedConfig config;
  config.instances = {2, 9};
  config.autoscale = autoscale;
  return config;
}

TEST(AutoscaleSettings, TakeTheBoundsTheTargetAndTheTimes) {
  AutoscaleConfig in_flight;
  in_flight.target_in_flight = 20;
  in_flight.up_cooldown = 7s;
  in_flight.down_window = 90s;
  in_flight.tolerance = 0.2;
  const AutoscaleSettings settings = autoscale_settings(autoscaled(in_flight));
  EXPECT_EQ(settings.signal, ScaleSignal::InFlight);
  EXPECT_DOUBLE_EQ(settings.target, 20);
  EXPECT_EQ(settings.min, 2u);
  EXPECT_EQ(settings.max, 9u);
  EXPECT_EQ(settings.up_cooldown, 7s);
  EXPECT_EQ(settings.down_window, 90s);
  EXPECT_DOUBLE_EQ(settings.tolerance, 0.2);
}

TEST(AutoscaleSettings, TheP95TargetIsInMillisecondsAndTheQueueTargetACount) {
  AutoscaleConfig p95;
  p95.target_p95 = 250ms;
  EXPECT_EQ(autoscale_settings(autoscaled(p95)).signal, ScaleSignal::P95);
  EXPECT_DOUBLE_EQ(autoscale_settings(autoscaled(p95)).target, 250);
  AutoscaleConfig queue;
  queue.target_queue = 5;
  EXPECT_EQ(autoscale_settings(autoscaled(queue)).signal, ScaleSignal::Queue);
  EXPECT_DOUBLE_EQ(autoscale_settings(autoscaled(queue)).target, 5);
}

}  // namespace
}  // namespace fulcrum::managed
