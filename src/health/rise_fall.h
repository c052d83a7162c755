// The rise/fall state of one backend's active health checks: pure, no clock, no I/O.
//
// A backend starts Unknown, which counts as up: traffic flows from the first moment, before any
// probe finished (a balancer that refused everything until its first round of checks would turn
// every restart into an outage). From Unknown, the first passing check makes it Healthy, and `fall`
// failures in a row make it Unhealthy. A Healthy backend becomes Unhealthy after `fall` failures
// in a row; an Unhealthy one becomes Healthy again after `rise` passes in a row (a recovery). A
// result of the other kind resets the run being counted.
//
// A backend added while the balancer runs, to a pool with checks, starts Joining instead: down
// (no traffic) until its first check passes, since nothing says yet that it serves at all.
//
// Owned by the health monitor on the control thread; not thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace fulcrum::health {

enum class HealthState : std::uint8_t { Unknown, Healthy, Unhealthy, Joining };

/// `unknown`, `healthy`, `unhealthy`, `joining`.
std::string_view health_state_name(HealthState state);

/// What one check result changed.
enum class Transition : std::uint8_t {
  None,
  /// Unknown or Joining → Healthy: the first check passed.
  BecameHealthy,
  /// Unknown or Healthy → Unhealthy: `fall` checks failed in a row.
  BecameUnhealthy,
  /// Unhealthy → Healthy: `rise` checks passed in a row.
  Recovered,
};

class RiseFall {
 public:
  /// `rise` and `fall` below 1 count as 1. `joining`: start Joining rather than Unknown.
  RiseFall(std::uint32_t rise, std::uint32_t fall, bool joining = false);

  /// New thresholds (a reload changed the pool's checks); the state and the counts so far stay.
  void set_thresholds(std::uint32_t rise, std::uint32_t fall) {
    rise_ = rise < 1 ? 1 : rise;
    fall_ = fall < 1 ? 1 : fall;
  }

  /// Records one check result; returns the transition it caused, if any.
  Transition record(bool passed);

  HealthState state() const { return state_; }
  /// False when Unhealthy or Joining: Unknown counts as up (see the file comment).
  bool up() const { return state_ != HealthState::Unhealthy && state_ != HealthState::Joining; }
  /// Passes in a row so far (reset by a failure).
  std::uint32_t passes() const { return passes_; }
  /// Failures in a row so far (reset by a pass).
  std::uint32_t failures() const { return failures_; }

 private:
  std::uint32_t rise_;
  std::uint32_t fall_;
  HealthState state_ = HealthState::Unknown;
  std::uint32_t passes_ = 0;
  std::uint32_t failures_ = 0;
};

}  // namespace fulcrum::health
