#include "managed/autoscaler.h"

#include <algorithm>
#include <cmath>

namespace fulcrum::managed {
namespace {

// ceil() of a product that should be a whole number (3 × 20 / 20) must not become the next one
// through rounding (3.0000000000000004 → 4): values this close below a whole number count as it.
constexpr double kWholeSlack = 1e-9;

std::uint32_t clamp_count(double count, std::uint32_t min, std::uint32_t max) {
  if (!(count > 0)) return min;  // also NaN
  const double whole = std::ceil(count - kWholeSlack);
  if (whole >= static_cast<double>(max)) return max;
  return std::max(min, static_cast<std::uint32_t>(whole));
}

}  // namespace

std::string_view scale_signal_name(ScaleSignal signal) {
  switch (signal) {
    case ScaleSignal::InFlight: return "in_flight";
    case ScaleSignal::P95: return "p95";
    case ScaleSignal::Queue: return "queue";
  }
  return "unknown";
}

std::string_view scale_action_name(ScaleAction action) {
  switch (action) {
    case ScaleAction::Hold: return "hold";
    case ScaleAction::Up: return "up";
    case ScaleAction::Down: return "down";
  }
  return "unknown";
}

std::string_view scale_reason_name(ScaleReason reason) {
  switch (reason) {
    case ScaleReason::Load: return "load";
    case ScaleReason::Bounds: return "bounds";
    case ScaleReason::WithinTolerance: return "within_tolerance";
    case ScaleReason::AtRecommendation: return "at_recommendation";
    case ScaleReason::UpCooldown: return "up_cooldown";
    case ScaleReason::Stabilising: return "stabilising";
    case ScaleReason::NoReadyInstance: return "no_ready_instance";
  }
  return "unknown";
}

Autoscaler::Autoscaler(const AutoscaleSettings& settings) : settings_(settings) {}

void Autoscaler::reset() {
  window_.clear();
  last_up_.reset();
}

std::uint32_t Autoscaler::record(std::uint32_t instances, core::TimePoint now) {
  while (!window_.empty() && window_.front().at + settings_.down_window <= now) window_.pop_front();
  while (!window_.empty() && window_.back().instances <= instances) window_.pop_back();
  window_.push_back({now, instances});
  return window_.front().instances;
}

ScaleDecision Autoscaler::evaluate(const ScaleInput& input, core::TimePoint now) {
  const std::uint32_t min = settings_.min;
  const std::uint32_t max = std::max(settings_.min, settings_.max);
  ScaleDecision decision;
  decision.from = input.instances;
  decision.to = input.instances;
  decision.ready = input.ready;
  decision.value = input.value;
  decision.target = settings_.target;

  // Bounds first: a count outside them is wrong whatever the load says.
  if (input.instances < min || input.instances > max) {
    decision.action = input.instances < min ? ScaleAction::Up : ScaleAction::Down;
    decision.reason = ScaleReason::Bounds;
    decision.to = input.instances < min ? min : max;
    return decision;
  }
  if (input.ready == 0 || !(settings_.target > 0)) {
    decision.reason = ScaleReason::NoReadyInstance;
    return decision;
  }

  decision.ratio = input.value / settings_.target;
  const bool within_tolerance = std::abs(decision.ratio - 1.0) <= settings_.tolerance;
  decision.recommendation =
      within_tolerance ? input.instances
                       : clamp_count(static_cast<double>(input.ready) * decision.ratio, min, max);
  decision.window_highest = std::min(record(decision.recommendation, now), max);

  if (decision.recommendation > input.instances) {
    if (last_up_ && now - *last_up_ < settings_.up_cooldown) {
      decision.reason = ScaleReason::UpCooldown;
      return decision;
    }
    // At most doubling (one more from zero, when min is 0).
    const std::uint64_t doubled = input.instances == 0 ? 1 : 2 * std::uint64_t{input.instances};
    decision.action = ScaleAction::Up;
    decision.reason = ScaleReason::Load;
    decision.to = static_cast<std::uint32_t>(std::min<std::uint64_t>(decision.recommendation, doubled));
    last_up_ = now;
    return decision;
  }
  if (decision.window_highest < input.instances) {
    decision.action = ScaleAction::Down;
    decision.reason = ScaleReason::Load;
    decision.to = std::max(decision.window_highest, min);
    return decision;
  }
  decision.reason = decision.recommendation < input.instances ? ScaleReason::Stabilising
                    : within_tolerance                         ? ScaleReason::WithinTolerance
                                                               : ScaleReason::AtRecommendation;
  return decision;
}

}  // namespace fulcrum::managed
