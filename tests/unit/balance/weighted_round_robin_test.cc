#include "balance/weighted_round_robin.h"

#include <gtest/gtest.h>

#include <map>

#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using testing::pick_letters;
using testing::Pool;

TEST(WeightedRoundRobin, SmoothInterleaveFiveOneOne) {
  auto pool = Pool::with_weights({5, 1, 1});
  WeightedRoundRobin strategy(pool.candidates);
  // NGINX's documented sequence, repeated: the cycle returns to its start state.
  EXPECT_EQ(pick_letters(strategy, 14, BackendSet(3)), "aabacaaaabacaa");
}

TEST(WeightedRoundRobin, SmoothInterleaveFourTwoOne) {
  auto pool = Pool::with_weights({4, 2, 1});
  WeightedRoundRobin strategy(pool.candidates);
  // current after +w / chosen: (4,2,1) a → (-3,2,1); (1,4,2) b → (1,-3,2); (5,-1,3) a → (-2,-1,3);
  // (2,1,4) c → (2,1,-3); (6,3,-2) a → (-1,3,-2); (3,5,-1) b → (3,-2,-1); (7,0,0) a → (0,0,0).
  EXPECT_EQ(pick_letters(strategy, 7, BackendSet(3)), "abacaba");
}

TEST(WeightedRoundRobin, EqualWeightsAreRoundRobin) {
  auto pool = Pool::with_weights({3, 3, 3});
  WeightedRoundRobin strategy(pool.candidates);
  EXPECT_EQ(pick_letters(strategy, 6, BackendSet(3)), "abcabc");
}

TEST(WeightedRoundRobin, SharesFollowWeightsOverManyCycles) {
  auto pool = Pool::with_weights({7, 2, 1, 0});
  WeightedRoundRobin strategy(pool.candidates);
  std::map<char, int> counts;
  for (char c : pick_letters(strategy, 1000, BackendSet(4))) ++counts[c];
  EXPECT_EQ(counts['a'], 700);
  EXPECT_EQ(counts['b'], 200);
  EXPECT_EQ(counts['c'], 100);
  EXPECT_EQ(counts['d'], 0);  // weight 0: drained
}

TEST(WeightedRoundRobin, ExcludedBackendLeavesOthersInterleaved) {
  auto pool = Pool::with_weights({5, 1, 1});
  WeightedRoundRobin strategy(pool.candidates);
  BackendSet excluded(3);
  excluded.insert(0);
  // Without a, b and c alternate evenly.
  EXPECT_EQ(pick_letters(strategy, 6, excluded), "bcbcbc");
  // a back: the smooth cycle is intact (b and c got no extra share at a's return).
  EXPECT_EQ(pick_letters(strategy, 7, BackendSet(3)), "aabacaa");
}

TEST(WeightedRoundRobin, FailoverSkipsTriedBackend) {
  auto pool = Pool::with_weights({5, 1, 1});
  WeightedRoundRobin strategy(pool.candidates);
  BackendSet tried(3);
  const auto first = strategy.pick({}, tried);
  ASSERT_EQ(first, 0u);
  tried.insert(*first);
  const auto second = strategy.pick({}, tried);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*second, 0u);
}

TEST(WeightedRoundRobin, NoneWhenAllExcludedOrDrained) {
  auto pool = Pool::with_weights({2, 0});
  WeightedRoundRobin strategy(pool.candidates);
  BackendSet excluded(2);
  excluded.insert(0);
  EXPECT_EQ(strategy.pick({}, excluded), std::nullopt);
  EXPECT_EQ(strategy.pick({}, BackendSet(2)), 0u);
}

}  // namespace
}  // namespace fulcrum::balance
