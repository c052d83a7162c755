#include <gtest/gtest.h>

#include "balance/strategy.h"
#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using testing::pick_letters;
using testing::Pool;
using testing::VectorLoad;

TEST(Registry, EveryAdvertisedNameBuildsAWorkingStrategy) {
  auto pool = Pool::with_weights({1, 2, 3});
  Random random(5);
  VectorLoad load({0, 0, 0});
  PickContext context;
  context.random = &random;
  context.load = &load;
  context.hash = 99;
  ASSERT_EQ(strategy_names().size(), 5u);
  for (auto name : strategy_names()) {
    auto strategy = make_strategy(name, pool.candidates);
    ASSERT_NE(strategy, nullptr) << name;
    const auto picked = strategy->pick(context, BackendSet(3));
    ASSERT_TRUE(picked.has_value()) << name;
    EXPECT_LT(*picked, 3u) << name;
  }
}

TEST(Registry, NamesMapToTheirAlgorithms) {
  auto pool = Pool::with_weights({5, 1, 1});
  auto round_robin = make_strategy("round_robin", pool.candidates);
  EXPECT_EQ(pick_letters(*round_robin, 6, BackendSet(3)), "abcabc");  // ignores weights
  auto weighted = make_strategy("weighted", pool.candidates);
  EXPECT_EQ(pick_letters(*weighted, 7, BackendSet(3)), "aabacaa");
  VectorLoad load({4, 1, 2});
  PickContext context;
  context.load = &load;
  auto least = make_strategy("least_connections", pool.candidates);
  // load/weight: 0.8, 1, 2 → a.
  EXPECT_EQ(least->pick(context, BackendSet(3)), 0u);
}

TEST(Registry, UnknownNameIsNull) {
  auto pool = Pool::with_weights({1});
  EXPECT_EQ(make_strategy("leastconn", pool.candidates), nullptr);
  EXPECT_EQ(make_strategy("", pool.candidates), nullptr);
  EXPECT_EQ(make_strategy("Round_Robin", pool.candidates), nullptr);
}

}  // namespace
}  // namespace fulcrum::balance
