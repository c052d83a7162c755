#include "health/rise_fall.h"

#include <algorithm>

namespace fulcrum::health {

std::string_view health_state_name(HealthState state) {
  switch (state) {
    case HealthState::Unknown: return "unknown";
    case HealthState::Healthy: return "healthy";
    case HealthState::Unhealthy: return "unhealthy";
    case HealthState::Joining: return "joining";
  }
  return "unknown";
}

RiseFall::RiseFall(std::uint32_t rise, std::uint32_t fall, bool joining)
    : rise_(std::max(rise, 1u)), fall_(std::max(fall, 1u)), state_(joining ? HealthState::Joining : HealthState::Unknown) {}

Transition RiseFall::record(bool passed) {
  if (passed) {
    failures_ = 0;
    ++passes_;
    if (state_ == HealthState::Unknown || state_ == HealthState::Joining) {
      state_ = HealthState::Healthy;
      return Transition::BecameHealthy;
    }
    if (state_ == HealthState::Unhealthy && passes_ >= rise_) {
      state_ = HealthState::Healthy;
      return Transition::Recovered;
    }
    return Transition::None;
  }
  passes_ = 0;
  ++failures_;
  if (state_ != HealthState::Unhealthy && failures_ >= fall_) {
    state_ = HealthState::Unhealthy;
    return Transition::BecameUnhealthy;
  }
  return Transition::None;
}

}  // namespace fulcrum::health
