#include "balance/least_latency.h"

#include <gtest/gtest.h>

#include <vector>

#include "balance/latency_tracker.h"
#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Pool;
using testing::VectorLoad;

const TimePoint t0 = TimePoint{} + std::chrono::hours(1000);

/// The LatencyView the engine will provide: one tracker per backend.
class Trackers final : public LatencyView {
 public:
  explicit Trackers(std::size_t count, std::chrono::nanoseconds decay = LatencyTracker::kDefaultDecay) {
    trackers.reserve(count);
    for (std::size_t i = 0; i < count; ++i) trackers.push_back(std::make_unique<LatencyTracker>(decay));
  }
  double latency(std::size_t backend, TimePoint now) const override { return trackers.at(backend)->estimate(now); }
  LatencyTracker& operator[](std::size_t backend) { return *trackers.at(backend); }
  std::vector<std::unique_ptr<LatencyTracker>> trackers;
};

/// Strategy, views, generator and clock of one simulated worker.
struct Harness {
  Harness(const std::vector<std::uint32_t>& weights, std::uint64_t seed = 42,
          std::chrono::nanoseconds decay = LatencyTracker::kDefaultDecay)
      : pool(Pool::with_weights(weights)),
        strategy(pool.candidates),
        latency(weights.size(), decay),
        load(std::vector<std::int64_t>(weights.size(), 0)),
        random(seed),
        excluded(weights.size()) {}

  std::optional<std::size_t> pick() {
    PickContext context;
    context.load = &load;
    context.random = &random;
    context.latency = &latency;
    context.now = now;
    return strategy.pick(context, excluded);
  }

  /// Picks per backend over `count` picks at the current time, nothing recorded.
  std::vector<int> counts(int count) {
    std::vector<int> out(pool.candidates.size(), 0);
    for (int i = 0; i < count; ++i) {
      const auto picked = pick();
      if (picked) ++out.at(*picked);
    }
    return out;
  }

  Pool pool;
  LeastLatency strategy;
  Trackers latency;
  VectorLoad load;
  Random random;
  BackendSet excluded;
  TimePoint now = t0;
};

TEST(LeastLatency, PrefersTheFasterBackends) {
  Harness h({1, 1, 1});
  h.latency[0].record(milliseconds(10), t0);
  h.latency[1].record(milliseconds(20), t0);
  h.latency[2].record(milliseconds(40), t0);
  // Each of the three pairs is drawn a third of the time and its faster member wins: a wins
  // {a,b} and {a,c} (2/3), b wins {b,c} (1/3), c never.
  const auto counts = h.counts(10000);
  EXPECT_NEAR(counts[0] / 10000.0, 2.0 / 3, 0.02);
  EXPECT_NEAR(counts[1] / 10000.0, 1.0 / 3, 0.02);
  EXPECT_EQ(counts[2], 0);
}

TEST(LeastLatency, InFlightRequestsShiftTheChoice) {
  Harness h({1, 1});
  h.latency[0].record(milliseconds(10), t0);
  h.latency[1].record(milliseconds(15), t0);
  // Two backends: every pick compares both, so the answer is exact.
  h.load.loads = {0, 0};  // 10 vs 15
  EXPECT_EQ(h.counts(100), (std::vector<int>{100, 0}));
  h.load.loads = {1, 0};  // 20 vs 15
  EXPECT_EQ(h.counts(100), (std::vector<int>{0, 100}));
  h.load.loads = {3, 2};  // 40 vs 45
  EXPECT_EQ(h.counts(100), (std::vector<int>{100, 0}));
  h.load.loads = {-3, 0};  // a counter caught mid-update counts as idle: 10 vs 15
  EXPECT_EQ(h.counts(100), (std::vector<int>{100, 0}));
}

TEST(LeastLatency, CostIsScaledByWeight) {
  Harness h({1, 2});
  h.latency[0].record(milliseconds(10), t0);
  h.latency[1].record(milliseconds(15), t0);
  EXPECT_EQ(h.counts(100), (std::vector<int>{0, 100}));  // 10/1 vs 15/2
  h.load.loads = {0, 1};                                  // 10/1 vs 30/2
  EXPECT_EQ(h.counts(100), (std::vector<int>{100, 0}));
}

TEST(LeastLatency, OneSlowResponseMovesTrafficAtOnce) {
  Harness h({1, 1});
  for (int i = 0; i < 50; ++i) {
    h.latency[0].record(milliseconds(10), t0 + milliseconds(i));
    h.latency[1].record(milliseconds(11), t0 + milliseconds(i));
  }
  h.now = t0 + milliseconds(50);
  EXPECT_EQ(h.counts(100), (std::vector<int>{100, 0}));
  h.latency[0].record(milliseconds(300), h.now);  // one slow response: the peak
  EXPECT_EQ(h.counts(100), (std::vector<int>{0, 100}));
}

// The scenario of Traefik's starvation bug: a backend that answered slowly once gets no traffic,
// hence no new samples, hence never looks better. Here its estimate decays, so it is probed again
// about every tau * ln(1 s / 10 ms) = 46 s, and each probe (still slow) pushes it back up.
struct ProbeRun {
  std::vector<double> slow_pick_times;  // seconds since start
  int total = 0;
};

ProbeRun simulate_slow_once(std::chrono::nanoseconds decay) {
  Harness h({1, 1}, 7, decay);
  const milliseconds latency[2] = {milliseconds(10), milliseconds(1000)};
  h.latency[0].record(latency[0], t0);
  h.latency[1].record(latency[1], t0);
  ProbeRun run;
  for (int step = 1; step <= 6000; ++step) {  // a request every 100 ms for 600 s
    h.now = t0 + milliseconds(100) * step;
    const auto picked = h.pick();
    if (!picked) continue;
    ++run.total;
    h.latency[*picked].record(latency[*picked], h.now);
    if (*picked == 1) run.slow_pick_times.push_back(step / 10.0);
  }
  return run;
}

TEST(LeastLatency, ABackendSlowOnceIsProbedAgainAfterTheDecay) {
  const ProbeRun run = simulate_slow_once(LatencyTracker::kDefaultDecay);
  ASSERT_EQ(run.total, 6000);
  // 600 s / 46 s: about 13 probes, the first after about 46 s, and never a burst.
  EXPECT_GE(run.slow_pick_times.size(), 11u);
  EXPECT_LE(run.slow_pick_times.size(), 14u);
  ASSERT_FALSE(run.slow_pick_times.empty());
  EXPECT_NEAR(run.slow_pick_times.front(), 46.1, 0.5);
  for (std::size_t i = 1; i < run.slow_pick_times.size(); ++i) {
    EXPECT_NEAR(run.slow_pick_times[i] - run.slow_pick_times[i - 1], 46.1, 0.5) << "probe " << i;
  }
}

TEST(LeastLatency, WithoutDecayASlowBackendWouldStarve) {
  // The control for the test above: with a decay time of a day the slow backend is never tried
  // again in 600 s. (So the probing above comes from the decay, not from chance.)
  const ProbeRun run = simulate_slow_once(std::chrono::hours(24));
  EXPECT_EQ(run.slow_pick_times.size(), 0u);
}

TEST(LeastLatency, ANewBackendIsTriedButNotFlooded) {
  Harness h({1, 1});
  h.latency[0].record(milliseconds(10), t0);  // b has no sample: latency unknown
  // Unknown latency: both are compared by in-flight alone, as if equally fast.
  for (std::int64_t b_in_flight = 0; b_in_flight < 5; ++b_in_flight) {
    h.load.loads = {5, b_in_flight};
    EXPECT_EQ(h.counts(50), (std::vector<int>{0, 50})) << "b in flight " << b_in_flight;
  }
  h.load.loads = {5, 6};
  EXPECT_EQ(h.counts(50), (std::vector<int>{50, 0}));
  // Idle pool: a tie, broken by the random draw order, so b gets about half.
  h.load.loads = {0, 0};
  const auto counts = h.counts(1000);
  EXPECT_NEAR(counts[1], 500, 60);
  // Once b has answered (slowly), its latency counts.
  h.latency[1].record(milliseconds(50), t0);
  EXPECT_EQ(h.counts(50), (std::vector<int>{50, 0}));
}

TEST(LeastLatency, WithoutLatencyViewItComparesInFlight) {
  auto pool = Pool::with_weights({1, 1});
  LeastLatency strategy(pool.candidates);
  VectorLoad load({3, 1});
  Random random(1);
  PickContext context;
  context.load = &load;
  context.random = &random;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(strategy.pick(context, BackendSet(2)), 1u);
}

TEST(LeastLatency, ExcludedAndDrainedAreNeverPicked) {
  Harness h({1, 1, 1, 1, 0, 1});
  const int latency_ms[6] = {10, 11, 12, 1, 1, 15};  // d is the fastest but excluded, e drained
  for (std::size_t i = 0; i < 6; ++i) h.latency[i].record(milliseconds(latency_ms[i]), t0);
  h.excluded.insert(3);
  h.excluded.insert(1);
  const auto counts = h.counts(10000);
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[3], 0);
  EXPECT_EQ(counts[4], 0);
  // Among a (10 ms), c (12 ms), f (15 ms): a wins 2/3, c 1/3, f never.
  EXPECT_NEAR(counts[0], 6667, 200);
  EXPECT_NEAR(counts[2], 3333, 200);
  EXPECT_EQ(counts[5], 0);
}

TEST(LeastLatency, FailoverWalksEveryEligibleBackendThenNone) {
  Harness h({1, 2, 0, 1});
  BackendSet tried(4);
  std::vector<std::size_t> order;
  PickContext context;
  context.random = &h.random;
  context.latency = &h.latency;
  context.load = &h.load;
  context.now = t0;
  while (auto picked = h.strategy.pick(context, tried)) {
    ASSERT_FALSE(tried.contains(*picked));
    ASSERT_NE(*picked, 2u);
    tried.insert(*picked);
    order.push_back(*picked);
  }
  EXPECT_EQ(order.size(), 3u);
}

TEST(LeastLatency, OneCandidateIsPickedWithoutDrawing) {
  Harness h({1, 1, 1});
  h.excluded.insert(0);
  h.excluded.insert(2);
  Random before = h.random;
  EXPECT_EQ(h.pick(), 1u);
  EXPECT_EQ(h.random.next(), before.next());  // no number drawn
  h.excluded.insert(1);
  EXPECT_EQ(h.pick(), std::nullopt);
  auto empty_pool = Pool::with_weights({});
  LeastLatency empty(empty_pool.candidates);
  EXPECT_EQ(empty.pick(PickContext{0, nullptr, &h.random}, BackendSet(0)), std::nullopt);
}

}  // namespace
}  // namespace fulcrum::balance
