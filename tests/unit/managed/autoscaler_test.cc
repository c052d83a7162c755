#include "managed/autoscaler.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace fulcrum::managed {
namespace {

using namespace std::chrono_literals;

const core::TimePoint t0 = core::TimePoint{} + 1000s;

AutoscaleSettings in_flight_settings(std::uint32_t min, std::uint32_t max) {
  AutoscaleSettings settings;
  settings.signal = ScaleSignal::InFlight;
  settings.target = 20;
  settings.min = min;
  settings.max = max;
  settings.tolerance = 0.1;
  settings.up_cooldown = 10s;
  settings.down_window = 60s;
  return settings;
}

// A pool as the supervisor keeps it: instances started by an up-step become ready `startup` later;
// a down-step drains starting ones first, then ready ones. The signal is the in-flight count per
// ready instance for a total load the test sets.
class PoolModel {
 public:
  PoolModel(std::uint32_t ready, core::Milliseconds startup) : ready_(ready), startup_(startup) {}

  std::uint32_t instances() const { return ready_ + static_cast<std::uint32_t>(starting_.size()); }
  std::uint32_t ready() const { return ready_; }

  ScaleInput input(double total_in_flight) const {
    return {instances(), ready_, ready_ == 0 ? 0.0 : total_in_flight / ready_};
  }

  void advance(core::TimePoint now) {
    while (!starting_.empty() && starting_.front() <= now) {
      starting_.pop_front();
      ++ready_;
    }
  }

  void apply(const ScaleDecision& decision, core::TimePoint now) {
    for (std::uint32_t n = decision.from; n < decision.to; ++n) starting_.push_back(now + startup_);
    for (std::uint32_t n = decision.to; n < decision.from; ++n) {
      if (!starting_.empty()) {
        starting_.pop_back();
      } else {
        --ready_;
      }
    }
  }

 private:
  std::uint32_t ready_;
  std::deque<core::TimePoint> starting_;
  core::Milliseconds startup_;
};

// One evaluation per second over `seconds` of a load given per second; returns every decision.
template <typename Load>
std::vector<ScaleDecision> run(Autoscaler& autoscaler, PoolModel& pool, core::TimePoint start,
                               int seconds, Load load) {
  std::vector<ScaleDecision> decisions;
  for (int s = 0; s < seconds; ++s) {
    const core::TimePoint now = start + std::chrono::seconds(s);
    pool.advance(now);
    const ScaleDecision decision = autoscaler.evaluate(pool.input(load(s)), now);
    pool.apply(decision, now);
    decisions.push_back(decision);
  }
  return decisions;
}

int changes(const std::vector<ScaleDecision>& decisions) {
  int count = 0;
  for (const auto& decision : decisions) count += decision.to != decision.from ? 1 : 0;
  return count;
}

TEST(Autoscaler, DesiredIsReadyTimesRatioRoundedUp) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  // 3 ready at 30 in flight each, target 20: ceil(3 × 1.5) = 5.
  const ScaleDecision decision = autoscaler.evaluate({3, 3, 30}, t0);
  EXPECT_EQ(decision.action, ScaleAction::Up);
  EXPECT_EQ(decision.reason, ScaleReason::Load);
  EXPECT_EQ(decision.from, 3u);
  EXPECT_EQ(decision.to, 5u);
  EXPECT_EQ(decision.ready, 3u);
  EXPECT_DOUBLE_EQ(decision.value, 30);
  EXPECT_DOUBLE_EQ(decision.target, 20);
  EXPECT_DOUBLE_EQ(decision.ratio, 1.5);
  EXPECT_EQ(decision.recommendation, 5u);
  EXPECT_EQ(decision.window_highest, 5u);
}

TEST(Autoscaler, AWholeProductIsNotRoundedUpToTheNextCount) {
  AutoscaleSettings settings = in_flight_settings(1, 20);
  settings.target = 0.7;
  settings.tolerance = 0;
  settings.down_window = 0s;
  Autoscaler autoscaler(settings);
  // 7 × (0.2 / 0.7) is 2.0000000000000004 in doubles: the pool needs 2 instances, not 3.
  const ScaleDecision decision = autoscaler.evaluate({7, 7, 0.2}, t0);
  EXPECT_EQ(decision.recommendation, 2u);
  EXPECT_EQ(decision.to, 2u);
}

TEST(Autoscaler, NothingMovesWithinTheTolerance) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  // 4 ready at 21.9 (ratio 1.095) would be ceil(4.38) = 5 without the tolerance.
  ScaleDecision decision = autoscaler.evaluate({4, 4, 21.9}, t0);
  EXPECT_EQ(decision.action, ScaleAction::Hold);
  EXPECT_EQ(decision.reason, ScaleReason::WithinTolerance);
  EXPECT_EQ(decision.recommendation, 4u);
  EXPECT_EQ(decision.to, 4u);
  decision = autoscaler.evaluate({4, 4, 18.1}, t0 + 1s);
  EXPECT_EQ(decision.reason, ScaleReason::WithinTolerance);
  // Just outside it, the load counts.
  decision = autoscaler.evaluate({4, 4, 22.1}, t0 + 2s);
  EXPECT_EQ(decision.action, ScaleAction::Up);
  EXPECT_EQ(decision.to, 5u);
}

TEST(Autoscaler, AnUpStepAtMostDoubles) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  // 2 ready at 200 each wants 20, capped at max 8, and at 4 by the doubling rule.
  const ScaleDecision decision = autoscaler.evaluate({2, 2, 200}, t0);
  EXPECT_EQ(decision.recommendation, 8u);
  EXPECT_EQ(decision.to, 4u);
}

TEST(Autoscaler, NoUpStepWithinTheCooldown) {
  Autoscaler autoscaler(in_flight_settings(1, 16));
  ASSERT_EQ(autoscaler.evaluate({2, 2, 80}, t0).to, 4u);
  // The 2 new ones are not ready yet: the 2 old ones still carry 80 each.
  ScaleDecision decision = autoscaler.evaluate({4, 2, 80}, t0 + 9s);
  EXPECT_EQ(decision.action, ScaleAction::Hold);
  EXPECT_EQ(decision.reason, ScaleReason::UpCooldown);
  EXPECT_EQ(decision.to, 4u);
  decision = autoscaler.evaluate({4, 4, 80}, t0 + 10s);
  EXPECT_EQ(decision.action, ScaleAction::Up);
  EXPECT_EQ(decision.to, 8u);
}

TEST(Autoscaler, RisingLoadGrowsTowardMaxDoublingAtMostPerStep) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  PoolModel pool(1, 3s);
  // 40 more requests in flight every second, up to 400 (what 20 instances would carry at target).
  const auto decisions =
      run(autoscaler, pool, t0, 120, [](int s) { return std::min(400.0, 40.0 * (s + 1)); });

  std::vector<std::uint32_t> steps;
  std::vector<int> step_seconds;
  for (std::size_t s = 0; s < decisions.size(); ++s) {
    const auto& decision = decisions[s];
    EXPECT_NE(decision.action, ScaleAction::Down) << "second " << s;
    if (decision.action == ScaleAction::Up) {
      EXPECT_LE(decision.to, 2 * decision.from) << "second " << s;
      steps.push_back(decision.to);
      step_seconds.push_back(static_cast<int>(s));
    }
  }
  EXPECT_EQ(steps, (std::vector<std::uint32_t>{2, 4, 8}));
  // The first at once, then each one a cooldown after the one before.
  EXPECT_EQ(step_seconds, (std::vector<int>{0, 10, 20}));
  EXPECT_EQ(pool.instances(), 8u);
  EXPECT_EQ(decisions.back().reason, ScaleReason::AtRecommendation);  // capped at max: stays
}

TEST(Autoscaler, LoadGoneReturnsToMinOnlyAfterTheDownWindow) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  PoolModel pool(8, 3s);
  // Busy at the target of 8 instances for 30 s, then nothing.
  const auto decisions = run(autoscaler, pool, t0, 120, [](int s) { return s < 30 ? 160.0 : 0.0; });
  for (int s = 0; s < 89; ++s) {
    EXPECT_EQ(decisions[s].to, 8u) << "second " << s;
    if (s >= 30) {
      EXPECT_EQ(decisions[s].reason, ScaleReason::Stabilising) << "second " << s;
      EXPECT_EQ(decisions[s].recommendation, 1u);
      EXPECT_EQ(decisions[s].window_highest, 8u);
    }
  }
  // The last busy second was 29: its recommendation leaves the 60 s window at 89.
  EXPECT_EQ(decisions[89].action, ScaleAction::Down);
  EXPECT_EQ(decisions[89].reason, ScaleReason::Load);
  EXPECT_EQ(decisions[89].from, 8u);
  EXPECT_EQ(decisions[89].to, 1u);
  EXPECT_EQ(changes(decisions), 1);
  EXPECT_EQ(pool.instances(), 1u);
}

TEST(Autoscaler, FallingLoadStepsDownThroughTheWindowsHighest) {
  AutoscaleSettings settings = in_flight_settings(1, 8);
  settings.down_window = 10s;
  Autoscaler autoscaler(settings);
  PoolModel pool(8, 0s);
  // 160 → 120 → 40 in flight, 20 s each: recommendations 8, 6, 2.
  const auto decisions = run(autoscaler, pool, t0, 60, [](int s) {
    return s < 20 ? 160.0 : s < 40 ? 120.0 : 40.0;
  });
  std::vector<std::pair<int, std::uint32_t>> steps;
  for (std::size_t s = 0; s < decisions.size(); ++s) {
    if (decisions[s].to != decisions[s].from) steps.emplace_back(static_cast<int>(s), decisions[s].to);
  }
  // 6 is recommended from second 20; the 8 of second 19 leaves the window at 29.
  EXPECT_EQ(steps, (std::vector<std::pair<int, std::uint32_t>>{{29, 6}, {49, 2}}));
}

TEST(Autoscaler, SteadyLoadNearTheTargetDoesNotFlap) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  PoolModel pool(4, 2s);
  std::mt19937 random(7);
  // 4 × 20 in flight, ±8% (within the 10% tolerance) each second for 10 minutes.
  const auto decisions = run(autoscaler, pool, t0, 600, [&](int) {
    return 80.0 * (0.92 + 0.16 * static_cast<double>(random() % 1001) / 1000.0);
  });
  EXPECT_EQ(changes(decisions), 0);
  EXPECT_EQ(pool.instances(), 4u);
}

// ±15% around the target of 4 instances: a peak beyond the tolerance asks for a 5th, and the dips
// ask for 4 again. The stabilisation window keeps the 5th (the peaks come back within it).
double noisy_load(std::mt19937& random) {
  return 80.0 * (0.85 + 0.30 * static_cast<double>(random() % 1001) / 1000.0);
}

TEST(Autoscaler, NoisyLoadBeyondTheToleranceStepsUpOnceAndStays) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  PoolModel pool(4, 2s);
  std::mt19937 random(11);
  const auto decisions = run(autoscaler, pool, t0, 600, [&](int) { return noisy_load(random); });
  EXPECT_EQ(changes(decisions), 1);
  EXPECT_EQ(pool.instances(), 5u);
  for (const auto& decision : decisions) EXPECT_NE(decision.action, ScaleAction::Down);
}

TEST(Autoscaler, WithoutTheWindowTheSameLoadWouldFlap) {
  // What the window prevents: with down_window 0, the same load moves the pool back and forth.
  AutoscaleSettings settings = in_flight_settings(1, 8);
  settings.down_window = 0s;
  settings.up_cooldown = 0s;
  Autoscaler autoscaler(settings);
  PoolModel pool(4, 0s);
  std::mt19937 random(11);
  const auto decisions = run(autoscaler, pool, t0, 600, [&](int) { return noisy_load(random); });
  EXPECT_GT(changes(decisions), 50);
}

TEST(Autoscaler, CountsOutsideTheBoundsAreBroughtInsideAtOnce) {
  Autoscaler autoscaler(in_flight_settings(2, 6));
  ScaleDecision decision = autoscaler.evaluate({9, 9, 0}, t0);
  EXPECT_EQ(decision.action, ScaleAction::Down);
  EXPECT_EQ(decision.reason, ScaleReason::Bounds);
  EXPECT_EQ(decision.to, 6u);
  decision = autoscaler.evaluate({1, 1, 20}, t0 + 1s);
  EXPECT_EQ(decision.action, ScaleAction::Up);
  EXPECT_EQ(decision.reason, ScaleReason::Bounds);
  EXPECT_EQ(decision.to, 2u);
}

TEST(Autoscaler, NothingReadyMeansNothingMeasured) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  const ScaleDecision decision = autoscaler.evaluate({2, 0, 0}, t0);
  EXPECT_EQ(decision.action, ScaleAction::Hold);
  EXPECT_EQ(decision.reason, ScaleReason::NoReadyInstance);
  EXPECT_EQ(decision.to, 2u);
}

TEST(Autoscaler, AReloadKeepsTheWindowAndTheCooldown) {
  Autoscaler autoscaler(in_flight_settings(1, 8));
  ASSERT_EQ(autoscaler.evaluate({4, 4, 40}, t0).to, 8u);
  AutoscaleSettings wider = in_flight_settings(1, 16);
  autoscaler.set_settings(wider);
  // Still within the cooldown of the up-step before the reload.
  EXPECT_EQ(autoscaler.evaluate({8, 8, 40}, t0 + 5s).reason, ScaleReason::UpCooldown);
  // Load gone: the 8 recommended before the reload still holds the count.
  const ScaleDecision decision = autoscaler.evaluate({8, 8, 0}, t0 + 30s);
  EXPECT_EQ(decision.reason, ScaleReason::Stabilising);
  EXPECT_EQ(decision.window_highest, 16u);  // the 16 asked for at t0 + 5s
  autoscaler.reset();
  EXPECT_EQ(autoscaler.evaluate({8, 8, 0}, t0 + 31s).to, 1u);
}

TEST(Autoscaler, LatencyAndQueueSignalsUseTheSameRule) {
  AutoscaleSettings settings = in_flight_settings(1, 8);
  settings.signal = ScaleSignal::P95;
  settings.target = 200;  // ms
  Autoscaler latency(settings);
  // p95 of 300 ms over 2 ready: ceil(2 × 1.5) = 3.
  EXPECT_EQ(latency.evaluate({2, 2, 300}, t0).to, 3u);
  settings.signal = ScaleSignal::Queue;
  settings.target = 5;
  Autoscaler queue(settings);
  // An empty queue recommends min; a queue of 20 over 2 ready: ceil(2 × 4) = 8, doubling → 4.
  EXPECT_EQ(queue.evaluate({2, 2, 0}, t0).recommendation, 1u);
  EXPECT_EQ(queue.evaluate({2, 2, 20}, t0 + 1s).to, 4u);
  EXPECT_EQ(scale_signal_name(ScaleSignal::InFlight), "in_flight");
  EXPECT_EQ(scale_signal_name(ScaleSignal::P95), "p95");
  EXPECT_EQ(scale_signal_name(ScaleSignal::Queue), "queue");
}

}  // namespace
}  // namespace fulcrum::managed
