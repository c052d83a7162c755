#include "balance/request_hash.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

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

TEST(RequestHash, DeterministicAndPinned) {
  EXPECT_EQ(hash_request_key("user-42"), hash_request_key(std::string("user-") + "42"));
  EXPECT_NE(hash_request_key("user-42"), hash_request_key("user-43"));
  EXPECT_NE(hash_request_key("user-42"), hash_request_key("User-42"));  // exactly as received
  EXPECT_NE(hash_request_key("/a"), hash_request_key("/a/"));
  // Pinned: every Fulcrum instance and version must send a key to the same backend, so the seed
  // and the hash function are part of the contract.
  EXPECT_EQ(hash_request_key("user-42"), 0x512ab9c4975a6015ULL);
  EXPECT_EQ(hash_request_key(""), 0xb0f4b8939a0b4673ULL);
}

TEST(RequestHash, AMissingOrEmptyKeyGetsARandomHash) {
  Random random(3);
  Random replay(3);
  EXPECT_EQ(request_hash("abc", random), hash_request_key("abc"));
  EXPECT_EQ(request_hash(std::string_view("abc"), random), hash_request_key("abc"));
  // No number was drawn for the keyed requests:
  const std::uint64_t first = request_hash(std::nullopt, random);
  EXPECT_EQ(first, replay.next());
  const std::uint64_t second = request_hash(std::string_view(""), random);
  EXPECT_EQ(second, replay.next());
  EXPECT_NE(first, second);
  EXPECT_NE(first, hash_request_key(""));
}

TEST(HashStrategy, EqualKeysGoToEqualBackendsOnEveryWorker) {
  auto pool = Pool::with_weights({1, 1, 1, 1, 1});
  auto worker_one = make_strategy("hash", pool.candidates);
  auto worker_two = make_strategy("hash", pool.candidates);
  ASSERT_NE(worker_one, nullptr);
  std::set<std::size_t> used;
  for (int user = 0; user < 200; ++user) {
    const auto context = for_hash(hash_request_key("session-" + std::to_string(user)));
    const auto picked = worker_one->pick(context, BackendSet(5));
    ASSERT_TRUE(picked.has_value());
    EXPECT_EQ(picked, worker_one->pick(context, BackendSet(5)));
    EXPECT_EQ(picked, worker_two->pick(context, BackendSet(5)));
    used.insert(*picked);
  }
  EXPECT_EQ(used.size(), 5u);
}

TEST(HashStrategy, TenThousandKeysSpreadEvenly) {
  auto pool = Pool::with_weights({1, 1, 1, 1});
  auto strategy = make_strategy("hash", pool.candidates);
  std::vector<int> counts(4, 0);
  for (int user = 0; user < 10000; ++user) {
    const auto picked = strategy->pick(for_hash(hash_request_key("user-" + std::to_string(user))), BackendSet(4));
    ASSERT_TRUE(picked.has_value());
    ++counts[*picked];
  }
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(counts[i], 2500, 125) << "backend " << i;  // ±5%
}

TEST(HashStrategy, FollowsWeightsAndFailsOverPerKey) {
  auto pool = Pool::with_weights({3, 1});
  auto strategy = make_strategy("hash", pool.candidates);
  std::vector<int> counts(2, 0);
  for (int user = 0; user < 10000; ++user) {
    const auto context = for_hash(hash_request_key("u" + std::to_string(user)));
    const auto home = strategy->pick(context, BackendSet(2));
    ASSERT_TRUE(home.has_value());
    ++counts[*home];
    BackendSet down(2);
    down.insert(*home);
    EXPECT_EQ(strategy->pick(context, down), 1 - *home);  // the other one, the only one left
  }
  EXPECT_NEAR(counts[0], 7500, 375);
}

}  // namespace
}  // namespace fulcrum::balance
