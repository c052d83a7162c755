// The autoscaler of a managed pool: how many instances the pool should run, decided once a second
// from one of the data path's own figures. Pure: no clock, no I/O; the caller passes the time, the
// instance counts and the signal's value, and carries the decision out (start instances, or drain
// and stop some).
//
// The rule is the Kubernetes HPA's:
//   ratio   = value / target
//   desired = ceil(ready × ratio), within [min, max]
// - Within the tolerance (|ratio − 1| ≤ tolerance) the recommendation is the current count: a load
//   near the target moves nothing.
// - Up at once, but at most doubling per step (a pool of 2 goes to 4, not 40: the new instances'
//   own load tells the next step), and not again within `up_cooldown` of the last up-step (the
//   instances just started are not ready yet; their load would count twice).
// - Down only to the highest recommendation seen over the last `down_window` (the stabilisation
//   window): one quiet second among busy ones removes nothing, and a pool goes back to `min` only
//   once the load has been gone for the whole window.
// `ready` (instances that pass their readiness check) measures; `instances` (the count the
// supervisor keeps, starting ones included) is what the decision moves, so instances still starting
// are not asked for twice.
//
// Owned by the supervisor on the control thread; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

#include "core/clock.h"

namespace fulcrum::managed {

/// The figure an autoscaled pool follows.
enum class ScaleSignal : std::uint8_t {
  /// Requests in flight per ready instance (the pool's in-flight count / ready instances).
  InFlight,
  /// The pool's 95th percentile response time over the last second, in milliseconds.
  P95,
  /// Requests waiting in the pool's queue (its max_connections queue).
  Queue,
};

/// `in_flight`, `p95`, `queue`.
std::string_view scale_signal_name(ScaleSignal signal);

struct AutoscaleSettings {
  ScaleSignal signal = ScaleSignal::InFlight;
  /// The value of `signal` the pool aims at (> 0; milliseconds for P95).
  double target = 20;
  /// The bounds of the instance count (1 ≤ min ≤ max in a valid configuration: a pool at 0
  /// instances has nothing ready to measure, so it would never grow again).
  std::uint32_t min = 1;
  std::uint32_t max = 1;
  /// No change while |value / target − 1| is at most this.
  double tolerance = 0.1;
  /// No up-step within this of the previous one.
  core::Milliseconds up_cooldown{10'000};
  /// Down only to the highest recommendation of this long a window.
  core::Milliseconds down_window{60'000};
};

/// What the autoscaler is told each second.
struct ScaleInput {
  /// The instances the supervisor keeps now (running or starting; not those draining away).
  std::uint32_t instances = 0;
  /// Those of them that are ready and take traffic.
  std::uint32_t ready = 0;
  /// The signal's current value (see ScaleSignal); 0 with no traffic.
  double value = 0;
};

enum class ScaleAction : std::uint8_t { Hold, Up, Down };

/// Why a decision is what it is.
enum class ScaleReason : std::uint8_t {
  /// Up or down because of the load (the recommendation, or the window's highest).
  Load,
  /// `instances` was outside [min, max] (a reload moved the bounds): brought inside at once.
  Bounds,
  /// The ratio is within the tolerance.
  WithinTolerance,
  /// The recommendation is the current count.
  AtRecommendation,
  /// The load asks for more, but the last up-step was less than `up_cooldown` ago.
  UpCooldown,
  /// The load asks for fewer, but a higher recommendation within `down_window` holds the count.
  Stabilising,
  /// No instance is ready: nothing to measure.
  NoReadyInstance,
};

/// `up`, `down`, `hold`.
std::string_view scale_action_name(ScaleAction action);
/// `load`, `bounds`, `within_tolerance`, `at_recommendation`, `up_cooldown`, `stabilising`,
/// `no_ready_instance`.
std::string_view scale_reason_name(ScaleReason reason);

/// One decision and the numbers that led to it (the `scaled` event's details).
struct ScaleDecision {
  ScaleAction action = ScaleAction::Hold;
  ScaleReason reason = ScaleReason::AtRecommendation;
  /// The instance count before and after (equal on Hold).
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::uint32_t ready = 0;
  double value = 0;
  double target = 0;
  /// value / target (0 when nothing was measured).
  double ratio = 0;
  /// This second's recommendation: ceil(ready × ratio) within [min, max], or `from` within the
  /// tolerance (0 when nothing was measured).
  std::uint32_t recommendation = 0;
  /// The highest recommendation over the last `down_window`, this one included.
  std::uint32_t window_highest = 0;
};

class Autoscaler {
 public:
  explicit Autoscaler(const AutoscaleSettings& settings);

  /// New settings (a reload). The window's recommendations and the last up-step are kept, so a
  /// reload neither unlocks a scale-down nor an up-step early; counts outside the new bounds are
  /// brought inside by the next evaluate().
  void set_settings(const AutoscaleSettings& settings) { settings_ = settings; }
  const AutoscaleSettings& settings() const { return settings_; }

  /// The decision at `now` (about once a second, `now` never going back). Records this second's
  /// recommendation in the window, and an up-step's time for the cooldown: the caller is expected
  /// to carry out what it returns.
  ScaleDecision evaluate(const ScaleInput& input, core::TimePoint now);

  /// Forgets the window and the last up-step (the pool was stopped, or stops being autoscaled).
  void reset();

 private:
  struct Recommendation {
    core::TimePoint at;
    std::uint32_t instances = 0;
  };

  /// Drops recommendations older than `down_window` before `now`, adds `instances`, and returns
  /// the highest left.
  std::uint32_t record(std::uint32_t instances, core::TimePoint now);

  AutoscaleSettings settings_;
  /// The window's recommendations, oldest first, each strictly higher than every later one (a
  /// recommendation is dropped once a later one is at least as high: it can never be the window's
  /// highest again). So the front is the highest, and the length is at most max − min + 1.
  std::deque<Recommendation> window_;
  std::optional<core::TimePoint> last_up_;
};

}  // namespace fulcrum::managed
