#include "balance/round_robin.h"

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using testing::pick_letters;

TEST(RoundRobin, CyclesInOrder) {
  RoundRobin strategy(3);
  EXPECT_EQ(pick_letters(strategy, 7, BackendSet(3)), "abcabca");
}

TEST(RoundRobin, SkipsExcluded) {
  RoundRobin strategy(4);
  BackendSet excluded(4);
  excluded.insert(1);
  EXPECT_EQ(pick_letters(strategy, 6, excluded), "acdacd");
}

TEST(RoundRobin, ResumesAfterTheChosenBackendAfterFailover) {
  RoundRobin strategy(4);
  BackendSet tried(4);
  EXPECT_EQ(strategy.pick({}, tried), 0u);
  tried.insert(0);
  EXPECT_EQ(strategy.pick({}, tried), 1u);  // failover: next one
  // A fresh connection continues after the backend failover ended on.
  EXPECT_EQ(strategy.pick({}, BackendSet(4)), 2u);
}

TEST(RoundRobin, NoneWhenAllExcluded) {
  RoundRobin strategy(2);
  BackendSet excluded(2);
  excluded.insert(0);
  excluded.insert(1);
  EXPECT_EQ(strategy.pick({}, excluded), std::nullopt);
  // And it recovers once they come back.
  EXPECT_EQ(strategy.pick({}, BackendSet(2)), 0u);
}

TEST(RoundRobin, EmptyPoolPicksNothing) {
  RoundRobin strategy(0);
  EXPECT_EQ(strategy.pick({}, BackendSet(0)), std::nullopt);
}

}  // namespace
}  // namespace fulcrum::balance
