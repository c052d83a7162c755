#include "balance/least_connections.h"

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using testing::pick_letters;
using testing::Pool;
using testing::VectorLoad;

PickContext with_load(const LoadView& load) {
  PickContext context;
  context.load = &load;
  return context;
}

TEST(LeastConnections, PicksLeastLoaded) {
  auto pool = Pool::with_weights({1, 1, 1});
  LeastConnections strategy(pool.candidates);
  VectorLoad load({5, 2, 9});
  EXPECT_EQ(strategy.pick(with_load(load), BackendSet(3)), 1u);
  load.loads = {5, 7, 3};
  EXPECT_EQ(strategy.pick(with_load(load), BackendSet(3)), 2u);
}

TEST(LeastConnections, LoadIsRelativeToWeight) {
  auto pool = Pool::with_weights({1, 4, 2});
  LeastConnections strategy(pool.candidates);
  // load/weight: 2/1 = 2, 6/4 = 1.5, 4/2 = 2 → b, though it has the most connections.
  VectorLoad load({2, 6, 4});
  EXPECT_EQ(strategy.pick(with_load(load), BackendSet(3)), 1u);
  // 2/1 = 2, 9/4 = 2.25, 3/2 = 1.5 → c.
  load.loads = {2, 9, 3};
  EXPECT_EQ(strategy.pick(with_load(load), BackendSet(3)), 2u);
}

TEST(LeastConnections, LargeWeightsAndLoadsDoNotOverflow) {
  auto pool = Pool::with_weights({1'000'000, 999'999});
  LeastConnections strategy(pool.candidates);
  // load * weight is about 5.6e20 here, far past int64 (where the wrapped products would say a).
  // 2^49 / 10^6 = 562949953.4 against (2^49 - 2^39) / 999999 = 562400760.0 → b.
  VectorLoad load({std::int64_t{1} << 49, (std::int64_t{1} << 49) - (std::int64_t{1} << 39)});
  EXPECT_EQ(strategy.pick(with_load(load), BackendSet(2)), 1u);
}

TEST(LeastConnections, IdlePoolRotatesInsteadOfAlwaysFirst) {
  auto pool = Pool::with_weights({1, 1, 1});
  LeastConnections strategy(pool.candidates);
  VectorLoad load({0, 0, 0});
  EXPECT_EQ(pick_letters(strategy, 6, BackendSet(3), with_load(load)), "abcabc");
}

TEST(LeastConnections, TieRotationOnlyAmongTheLeastLoaded) {
  auto pool = Pool::with_weights({1, 1, 1, 1});
  LeastConnections strategy(pool.candidates);
  VectorLoad load({3, 1, 5, 1});  // b and d tie
  EXPECT_EQ(pick_letters(strategy, 4, BackendSet(4), with_load(load)), "bdbd");
}

TEST(LeastConnections, FollowsLoadAsItChanges) {
  auto pool = Pool::with_weights({1, 1});
  LeastConnections strategy(pool.candidates);
  VectorLoad load({0, 0});
  std::string sequence;
  // Every pick opens a connection on the chosen backend: loads stay balanced.
  for (int i = 0; i < 6; ++i) {
    const auto picked = strategy.pick(with_load(load), BackendSet(2));
    ASSERT_TRUE(picked.has_value());
    ++load.loads[*picked];
    sequence += static_cast<char>('a' + *picked);
  }
  EXPECT_EQ(sequence, "ababab");
  EXPECT_EQ(load.loads, (std::vector<std::int64_t>{3, 3}));
}

TEST(LeastConnections, SkipsExcludedAndDrained) {
  auto pool = Pool::with_weights({1, 0, 1});
  LeastConnections strategy(pool.candidates);
  VectorLoad load({4, 0, 9});
  BackendSet excluded(3);
  excluded.insert(0);
  // b has the lowest load but weight 0; a is excluded → c.
  EXPECT_EQ(strategy.pick(with_load(load), excluded), 2u);
  excluded.insert(2);
  EXPECT_EQ(strategy.pick(with_load(load), excluded), std::nullopt);
}

}  // namespace
}  // namespace fulcrum::balance
