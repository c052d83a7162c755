#include "core/timer_wheel.h"

#include <gtest/gtest.h>

#include <vector>

namespace fulcrum::core {
namespace {

using namespace std::chrono_literals;

struct WheelTest : ::testing::Test {
  TimePoint start = Clock::now();
  TimerWheel wheel{start};
  std::vector<int> fired;
};

TEST_F(WheelTest, FiresAtTheDeadlineNeverBefore) {
  Timer timer([&] { fired.push_back(1); });
  wheel.schedule(timer, start + 100ms);
  wheel.advance(start + 99ms);
  EXPECT_TRUE(fired.empty());
  wheel.advance(start + 100ms);
  EXPECT_EQ(fired, std::vector<int>{1});
  EXPECT_FALSE(timer.armed());
  EXPECT_EQ(wheel.size(), 0u);
}

TEST_F(WheelTest, FiresInDeadlineOrderAcrossSlots) {
  Timer a([&] { fired.push_back(1); }), b([&] { fired.push_back(2); }), c([&] { fired.push_back(3); });
  wheel.schedule(c, start + 30ms);
  wheel.schedule(a, start + 10ms);
  wheel.schedule(b, start + 20ms);
  wheel.advance(start + 50ms);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
}

TEST_F(WheelTest, ExtendingADeadlinePostponesTheTimer) {
  Timer timer([&] { fired.push_back(1); });
  wheel.schedule(timer, start + 100ms);
  wheel.schedule(timer, start + 300ms);  // the idle timeout after a read: no list work
  wheel.advance(start + 200ms);
  EXPECT_TRUE(fired.empty());
  wheel.advance(start + 300ms);
  EXPECT_EQ(fired.size(), 1u);
}

TEST_F(WheelTest, AnEarlierDeadlineMovesTheTimer) {
  Timer timer([&] { fired.push_back(1); });
  wheel.schedule(timer, start + 1000ms);
  wheel.schedule(timer, start + 20ms);
  wheel.advance(start + 20ms);
  EXPECT_EQ(fired.size(), 1u);
}

TEST_F(WheelTest, CancelledAndDestroyedTimersDoNotFire) {
  Timer a([&] { fired.push_back(1); });
  {
    Timer b([&] { fired.push_back(2); });
    wheel.schedule(b, start + 10ms);
  }
  wheel.schedule(a, start + 10ms);
  wheel.cancel(a);
  wheel.advance(start + 1s);
  EXPECT_TRUE(fired.empty());
  EXPECT_EQ(wheel.size(), 0u);
}

TEST_F(WheelTest, HandlesDeadlinesBeyondOneTurnOfTheWheel) {
  Timer timer([&] { fired.push_back(1); });
  const auto far = start + std::chrono::milliseconds(TimerWheel::kTickMs * TimerWheel::kSlots * 3 + 7);
  wheel.schedule(timer, far);
  for (auto t = start; t < far; t += 50ms) wheel.advance(t);
  EXPECT_TRUE(fired.empty());
  wheel.advance(far - 1ms);
  EXPECT_TRUE(fired.empty()) << "never before the deadline";
  wheel.advance(far + std::chrono::milliseconds(TimerWheel::kTickMs));
  EXPECT_EQ(fired.size(), 1u) << "at most one tick late";
}

TEST_F(WheelTest, ALongGapFiresEverythingDue) {
  Timer a([&] { fired.push_back(1); }), b([&] { fired.push_back(2); });
  wheel.schedule(a, start + 5ms);
  wheel.schedule(b, start + 10s);
  wheel.advance(start + 60s);
  EXPECT_EQ(fired.size(), 2u);
}

TEST_F(WheelTest, ACallbackMayRearmItsOwnTimer) {
  int count = 0;
  Timer* self = nullptr;
  Timer timer([&] {
    if (++count < 3) wheel.schedule(*self, start + std::chrono::milliseconds(10 * (count + 1)));
  });
  self = &timer;
  wheel.schedule(timer, start + 10ms);
  for (int ms = 0; ms <= 100; ++ms) wheel.advance(start + std::chrono::milliseconds(ms));
  EXPECT_EQ(count, 3);
}

TEST_F(WheelTest, WaitTellsHowLongTheLoopMaySleep) {
  EXPECT_EQ(wheel.wait_ms(start), -1);
  Timer timer([] {});
  wheel.schedule(timer, start + 200ms);
  const int wait = wheel.wait_ms(start);
  EXPECT_GE(wait, 196);
  EXPECT_LE(wait, 200 + static_cast<int>(TimerWheel::kTickMs));
}

TEST_F(WheelTest, AZeroWaitAlwaysMeansATimerIsDueNow) {
  // The loop calls epoll_wait(wait_ms()) then advance(): a 0 that advance() does not act on would
  // have the loop spin through epoll_wait(0) until the slot comes due.
  Timer timer([&] { fired.push_back(1); });
  wheel.schedule(timer, start + 10ms);
  for (auto now = start; fired.empty() && now <= start + 20ms; now += 100us) {
    const int wait = wheel.wait_ms(now);
    ASSERT_GE(wait, 0);
    if (wait == 0) {
      wheel.advance(now);
      EXPECT_EQ(fired.size(), 1u) << "wait 0 at +" << (now - start).count() << " ns, but nothing fired";
    }
  }
  EXPECT_EQ(fired, std::vector<int>{1});
}

}  // namespace
}  // namespace fulcrum::core
