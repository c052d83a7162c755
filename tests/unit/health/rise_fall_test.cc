#include "health/rise_fall.h"

#include <gtest/gtest.h>

namespace fulcrum::health {
namespace {

TEST(RiseFall, StartsUnknownAndUp) {
  RiseFall state(2, 3);
  EXPECT_EQ(state.state(), HealthState::Unknown);
  EXPECT_TRUE(state.up());
}

TEST(RiseFall, FirstPassMakesHealthy) {
  RiseFall state(2, 3);
  EXPECT_EQ(state.record(true), Transition::BecameHealthy);
  EXPECT_EQ(state.state(), HealthState::Healthy);
  EXPECT_EQ(state.record(true), Transition::None);
}

TEST(RiseFall, UnknownNeedsFallFailuresToBeUnhealthy) {
  RiseFall state(2, 3);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_TRUE(state.up());
  EXPECT_EQ(state.record(false), Transition::BecameUnhealthy);
  EXPECT_FALSE(state.up());
  EXPECT_EQ(state.failures(), 3u);
}

TEST(RiseFall, FallCountsOnlyFailuresInARow) {
  RiseFall state(2, 3);
  state.record(true);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_EQ(state.record(true), Transition::None);  // resets the run
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_EQ(state.record(false), Transition::BecameUnhealthy);
  // Further failures do not repeat the transition.
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_EQ(state.state(), HealthState::Unhealthy);
}

TEST(RiseFall, RiseCountsOnlyPassesInARow) {
  RiseFall state(3, 1);
  state.record(true);
  EXPECT_EQ(state.record(false), Transition::BecameUnhealthy);
  EXPECT_EQ(state.record(true), Transition::None);
  EXPECT_EQ(state.record(true), Transition::None);
  EXPECT_EQ(state.record(false), Transition::None);  // resets the run
  EXPECT_EQ(state.record(true), Transition::None);
  EXPECT_EQ(state.record(true), Transition::None);
  EXPECT_FALSE(state.up());
  EXPECT_EQ(state.record(true), Transition::Recovered);
  EXPECT_TRUE(state.up());
  EXPECT_EQ(state.passes(), 3u);
}

TEST(RiseFall, ZeroCountsAsOne) {
  RiseFall state(0, 0);
  EXPECT_EQ(state.record(false), Transition::BecameUnhealthy);
  EXPECT_EQ(state.record(true), Transition::Recovered);
}

TEST(RiseFall, StateNames) {
  EXPECT_EQ(health_state_name(HealthState::Unknown), "unknown");
  EXPECT_EQ(health_state_name(HealthState::Healthy), "healthy");
  EXPECT_EQ(health_state_name(HealthState::Unhealthy), "unhealthy");
}

}  // namespace
}  // namespace fulcrum::health
