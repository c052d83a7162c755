#include "http/body_rate.h"

#include <gtest/gtest.h>

namespace fulcrum::http {
namespace {

using namespace std::chrono_literals;

TEST(BodyRateGuard, NoDeadlineWhenOffOrBeforeTheFirstByte) {
  const auto t0 = core::Clock::now();
  BodyRateGuard off(0, 10s);
  off.received(1, t0);
  EXPECT_FALSE(off.deadline());
  BodyRateGuard guard(1024, 10s);
  EXPECT_FALSE(guard.deadline());
  guard.received(0, t0);
  EXPECT_FALSE(guard.deadline());
}

TEST(BodyRateGuard, EachByteBuysTimeAtTheRateAfterTheGrace) {
  const auto t0 = core::Clock::now();
  BodyRateGuard guard(1000, 10s);
  guard.received(1, t0);
  EXPECT_EQ(*guard.deadline(), t0 + 10s + 1ms);
  guard.received(1999, t0 + 5s);  // 2000 bytes: two seconds past the grace
  EXPECT_EQ(*guard.deadline(), t0 + 12s);
  // A trickle of one byte every 5 s falls behind soon after the grace.
  BodyRateGuard trickle(1024, 2s);
  auto now = t0;
  int reads = 0;
  for (; reads < 100; ++reads, now += 5s) {
    if (now >= *(trickle.received(1, now), trickle.deadline())) break;
  }
  EXPECT_LE(reads, 1);
}

TEST(BodyRateGuard, TimeSpentPausedIsNotHeldAgainstTheClient) {
  const auto t0 = core::Clock::now();
  BodyRateGuard guard(100, 1s);
  guard.received(100, t0);
  EXPECT_EQ(*guard.deadline(), t0 + 2s);
  guard.pause(t0 + 1s);
  EXPECT_FALSE(guard.deadline()) << "no deadline while the backend holds us";
  guard.resume(t0 + 31s);
  EXPECT_EQ(*guard.deadline(), t0 + 32s);
  guard.reset();
  EXPECT_FALSE(guard.deadline());
}

TEST(BodyRateGuard, HugeBodiesDoNotOverflow) {
  const auto t0 = core::Clock::now();
  BodyRateGuard guard(1, 0s);
  guard.received(std::uint64_t{1} << 50, t0);
  ASSERT_TRUE(guard.deadline());
  EXPECT_GT(*guard.deadline(), t0 + std::chrono::hours(24 * 365));
}

}  // namespace
}  // namespace fulcrum::http
