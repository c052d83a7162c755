#include "balance/source_hash.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

#include "balance/client_hash.h"
#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using testing::Pool;

PickContext for_hash(std::uint64_t hash) {
  PickContext context;
  context.hash = hash;
  return context;
}

std::array<std::uint8_t, 16> v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

TEST(SourceHash, SameClientSameBackendAcrossWorkers) {
  auto pool = Pool::with_weights({1, 1, 1, 1, 1, 1});
  SourceHash worker_one(pool.candidates);
  SourceHash worker_two(pool.candidates);
  std::set<std::size_t> used;
  for (std::uint8_t host = 1; host < 200; ++host) {
    const auto hash = hash_client_ip(v4(192, 0, 2, host));
    const auto first = worker_one.pick(for_hash(hash), BackendSet(6));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first, worker_one.pick(for_hash(hash), BackendSet(6)));
    EXPECT_EQ(first, worker_two.pick(for_hash(hash), BackendSet(6)));
    used.insert(*first);
  }
  EXPECT_EQ(used.size(), 6u);  // 199 clients do reach every backend
}

TEST(SourceHash, FailoverIsDeterministicAndNeverExcluded) {
  auto pool = Pool::with_weights({1, 2, 1, 3});
  SourceHash strategy(pool.candidates);
  for (std::uint8_t host = 1; host < 250; ++host) {
    const auto context = for_hash(hash_client_ip(v4(198, 51, 100, host)));
    BackendSet tried(4);
    std::vector<std::size_t> order;
    // Fail over through every backend: each pick is new, and the order is the same twice.
    while (auto picked = strategy.pick(context, tried)) {
      EXPECT_FALSE(tried.contains(*picked));
      tried.insert(*picked);
      order.push_back(*picked);
    }
    EXPECT_EQ(order.size(), 4u);
    BackendSet again(4);
    for (std::size_t expected : order) {
      const auto picked = strategy.pick(context, again);
      ASSERT_EQ(picked, expected);
      again.insert(*picked);
    }
  }
}

TEST(SourceHash, ClientReturnsToItsBackendWhenItIsBack) {
  auto pool = Pool::with_weights({1, 1, 1});
  SourceHash strategy(pool.candidates);
  const auto context = for_hash(hash_client_ip(v4(203, 0, 113, 9)));
  const auto home = strategy.pick(context, BackendSet(3));
  ASSERT_TRUE(home.has_value());
  BackendSet down(3);
  down.insert(*home);
  const auto backup = strategy.pick(context, down);
  ASSERT_TRUE(backup.has_value());
  EXPECT_NE(backup, home);
  EXPECT_EQ(strategy.pick(context, BackendSet(3)), home);
}

TEST(SourceHash, NoneWhenAllExcluded) {
  auto pool = Pool::with_weights({1, 1});
  SourceHash strategy(pool.candidates);
  BackendSet excluded(2);
  excluded.insert(0);
  excluded.insert(1);
  EXPECT_EQ(strategy.pick(for_hash(123), excluded), std::nullopt);
}

}  // namespace
}  // namespace fulcrum::balance
