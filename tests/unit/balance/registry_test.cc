#include <gtest/gtest.h>

#include <algorithm>

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
  testing::VectorReportedLoad reported({-1, -1, -1});
  PickContext context;
  context.random = &random;
  context.load = &load;
  context.hash = 99;
  context.reported = &reported;
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

TEST(Registry, AdvertisesTheTcpStrategies) {
  // The http-only names (least_latency, hash) may be listed too; these five must be.
  for (std::string_view name : {"round_robin", "weighted", "random", "least_connections", "source_hash"}) {
    EXPECT_NE(std::find(strategy_names().begin(), strategy_names().end(), name), strategy_names().end()) << name;
  }
}

TEST(Registry, HttpStrategiesBuild) {
  auto pool = Pool::with_weights({1, 1});
  Random random(5);
  VectorLoad load({4, 0});
  PickContext context;
  context.random = &random;
  context.load = &load;
  // least_latency with no latency known compares in-flight: b.
  auto least_latency = make_strategy("least_latency", pool.candidates);
  ASSERT_NE(least_latency, nullptr);
  EXPECT_EQ(least_latency->pick(context, BackendSet(2)), 1u);
  // hash is source_hash's Maglev lookup: the same hash, the same backend.
  auto hash = make_strategy("hash", pool.candidates);
  auto source_hash = make_strategy("source_hash", pool.candidates);
  ASSERT_NE(hash, nullptr);
  for (std::uint64_t key = 0; key < 100; ++key) {
    context.hash = key * 0x9e3779b97f4a7c15ULL;
    EXPECT_EQ(hash->pick(context, BackendSet(2)), source_hash->pick(context, BackendSet(2)));
  }
}

TEST(Registry, LeastLoadPicksByReportedLoad) {
  auto pool = Pool::with_weights({1, 1});
  testing::VectorReportedLoad reported({900, 100});
  PickContext context;
  context.reported = &reported;
  auto least_load = make_strategy("least_load", pool.candidates);
  ASSERT_NE(least_load, nullptr);
  EXPECT_EQ(least_load->pick(context, BackendSet(2)), 1u);
}

TEST(Registry, UnknownNameIsNull) {
  auto pool = Pool::with_weights({1});
  EXPECT_EQ(make_strategy("leastconn", pool.candidates), nullptr);
  EXPECT_EQ(make_strategy("", pool.candidates), nullptr);
  EXPECT_EQ(make_strategy("Round_Robin", pool.candidates), nullptr);
}

}  // namespace
}  // namespace fulcrum::balance
