#include "balance/least_load.h"

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using testing::pick_letters;
using testing::Pool;
using testing::VectorReportedLoad;

PickContext with_reports(const ReportedLoadView& reported) {
  PickContext context;
  context.reported = &reported;
  return context;
}

TEST(LeastLoad, PicksTheLowestReportedLoad) {
  auto pool = Pool::with_weights({1, 1, 1});
  LeastLoad strategy(pool.candidates);
  VectorReportedLoad reported({700, 200, 900});
  EXPECT_EQ(pick_letters(strategy, 3, BackendSet(3), with_reports(reported)), "bbb");
  reported.loads = {700, 800, 100};
  EXPECT_EQ(strategy.pick(with_reports(reported), BackendSet(3)), 2u);
}

TEST(LeastLoad, LoadIsRelativeToWeight) {
  auto pool = Pool::with_weights({1, 4});
  LeastLoad strategy(pool.candidates);
  // 300/1 against 800/4 = 200: the bigger backend, though it says it is busier.
  VectorReportedLoad reported({300, 800});
  EXPECT_EQ(strategy.pick(with_reports(reported), BackendSet(2)), 1u);
  // 100/1 against 800/4: a.
  reported.loads = {100, 800};
  EXPECT_EQ(strategy.pick(with_reports(reported), BackendSet(2)), 0u);
}

TEST(LeastLoad, UnreportedCountsAsHalfBusy) {
  auto pool = Pool::with_weights({1, 1, 1});
  LeastLoad strategy(pool.candidates);
  // a never reported (500): preferred over c at 600, not over b at 400.
  VectorReportedLoad reported({-1, 400, 600});
  EXPECT_EQ(strategy.pick(with_reports(reported), BackendSet(3)), 1u);
  reported.loads = {-1, 501, 600};
  EXPECT_EQ(strategy.pick(with_reports(reported), BackendSet(3)), 0u);
}

TEST(LeastLoad, TiesAreServedRoundRobin) {
  auto pool = Pool::with_weights({1, 1, 1, 1});
  LeastLoad strategy(pool.candidates);
  VectorReportedLoad none({-1, -1, -1, -1});
  EXPECT_EQ(pick_letters(strategy, 8, BackendSet(4), with_reports(none)), "abcdabcd");
  VectorReportedLoad two({300, 100, 900, 100});  // b and d tie
  EXPECT_EQ(pick_letters(strategy, 4, BackendSet(4), with_reports(two)), "bdbd");
}

TEST(LeastLoad, ExcludedAndDrainedAreSkipped) {
  auto pool = Pool::with_weights({1, 0, 1});
  LeastLoad strategy(pool.candidates);
  VectorReportedLoad reported({500, 0, 800});  // b is weight 0: never, however idle
  BackendSet excluded(3);
  EXPECT_EQ(strategy.pick(with_reports(reported), excluded), 0u);
  excluded.insert(0);
  EXPECT_EQ(strategy.pick(with_reports(reported), excluded), 2u);  // failover: the next best
  excluded.insert(2);
  EXPECT_EQ(strategy.pick(with_reports(reported), excluded), std::nullopt);
}

TEST(LeastLoad, OutOfRangeReportsAreClamped) {
  auto pool = Pool::with_weights({1, 1});
  LeastLoad strategy(pool.candidates);
  VectorReportedLoad reported({5000, 999});  // a's 5000 counts as 1000: still the busier
  EXPECT_EQ(strategy.pick(with_reports(reported), BackendSet(2)), 1u);
}

}  // namespace
}  // namespace fulcrum::balance
