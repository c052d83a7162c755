#include "balance/weighted_random.h"

#include <gtest/gtest.h>

#include <array>

#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using testing::Pool;

constexpr int kDraws = 100'000;

template <std::size_t N>
std::array<int, N> count_picks(Strategy& strategy, const BackendSet& excluded, std::uint64_t seed) {
  Random random(seed);
  PickContext context;
  context.random = &random;
  std::array<int, N> counts{};
  for (int i = 0; i < kDraws; ++i) {
    const auto picked = strategy.pick(context, excluded);
    EXPECT_TRUE(picked.has_value());
    if (picked) ++counts.at(*picked);
  }
  return counts;
}

double percent(int count) { return 100.0 * count / kDraws; }

TEST(WeightedRandom, DistributionFollowsWeights) {
  auto pool = Pool::with_weights({1, 2, 7});
  WeightedRandom strategy(pool.candidates);
  // Binomial standard deviation at 100k draws is at most 0.16 points: ±1.5 is ~9 sigma, and the
  // seed is fixed anyway, so this is a check of the proportions, not a flaky statistical test.
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto counts = count_picks<3>(strategy, BackendSet(3), seed);
    EXPECT_NEAR(percent(counts[0]), 10.0, 1.5) << "seed " << seed;
    EXPECT_NEAR(percent(counts[1]), 20.0, 1.5) << "seed " << seed;
    EXPECT_NEAR(percent(counts[2]), 70.0, 1.5) << "seed " << seed;
  }
}

TEST(WeightedRandom, ExcludedNeverPickedAndOthersKeepTheirRatio) {
  auto pool = Pool::with_weights({1, 2, 7, 4});
  WeightedRandom strategy(pool.candidates);
  BackendSet excluded(4);
  excluded.insert(2);
  const auto counts = count_picks<4>(strategy, excluded, 42);
  EXPECT_EQ(counts[2], 0);
  // The draw is among the remaining weight 1+2+4 = 7.
  EXPECT_NEAR(percent(counts[0]), 100.0 * 1 / 7, 1.5);
  EXPECT_NEAR(percent(counts[1]), 100.0 * 2 / 7, 1.5);
  EXPECT_NEAR(percent(counts[3]), 100.0 * 4 / 7, 1.5);
}

TEST(WeightedRandom, DrainedBackendNeverPicked) {
  auto pool = Pool::with_weights({0, 3, 0, 1, 0});
  WeightedRandom strategy(pool.candidates);
  const auto counts = count_picks<5>(strategy, BackendSet(5), 7);
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[2], 0);
  EXPECT_EQ(counts[4], 0);
  EXPECT_NEAR(percent(counts[1]), 75.0, 1.5);
}

TEST(WeightedRandom, SameSeedSameSequence) {
  auto pool = Pool::with_weights({1, 1, 1, 1});
  WeightedRandom strategy(pool.candidates);
  Random first(99);
  Random second(99);
  PickContext a;
  a.random = &first;
  PickContext b;
  b.random = &second;
  int differences_from_constant = 0;
  for (int i = 0; i < 100; ++i) {
    const auto x = strategy.pick(a, BackendSet(4));
    EXPECT_EQ(x, strategy.pick(b, BackendSet(4)));
    differences_from_constant += x != 0u;
  }
  EXPECT_GT(differences_from_constant, 0);  // it is not just returning one backend
}

TEST(WeightedRandom, NoneWhenAllExcluded) {
  auto pool = Pool::with_weights({1, 2});
  WeightedRandom strategy(pool.candidates);
  Random random(1);
  PickContext context;
  context.random = &random;
  BackendSet excluded(2);
  excluded.insert(0);
  excluded.insert(1);
  EXPECT_EQ(strategy.pick(context, excluded), std::nullopt);
  excluded.erase(1);
  EXPECT_EQ(strategy.pick(context, excluded), 1u);
}

}  // namespace
}  // namespace fulcrum::balance
