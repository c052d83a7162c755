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

// The firing rule: advance(now) fires what was due as it began; whatever its callbacks schedule,
// even with a deadline already past, fires at a later advance(). Before, a timer re-armed into the
// past by a callback fired again in the same advance() or not depending on where its slot fell
// relative to the ticks still to process (an HTTP session's 504 queued for sending, then its close
// deadline, already past, fired before the loop could flush the 504).
TEST_F(WheelTest, ATimerArmedInThePastByACallbackFiresAtTheNextAdvanceWhereverItsSlot) {
  const auto tick = std::chrono::milliseconds(TimerWheel::kTickMs);
  const auto turn = tick * static_cast<std::int64_t>(TimerWheel::kSlots);
  // Every slot position of the due timer, with advances catching up 1, 2, 3, 50 ticks and more
  // than a turn, the re-arm landing before, at and after the running tick.
  for (const auto due_offset : {tick, 7 * tick, turn / 2, turn - tick, turn, turn + 3 * tick, 3 * turn + 5 * tick}) {
    for (const auto gap : {tick, 2 * tick, 3 * tick, 50 * tick, turn + 2 * tick}) {
      for (const auto past : {std::chrono::milliseconds(0), tick, 2 * tick, 500 * tick, 2 * turn}) {
        TimePoint origin = Clock::now();
        TimerWheel w(origin);
        int first = 0, second = 0;
        Timer rearmed([&] { ++second; });
        const TimePoint due = origin + due_offset;
        const TimePoint now = due + gap - tick;  // the advance that finds `due` covers `gap` ticks
        Timer timer([&] {
          ++first;
          w.schedule(rearmed, std::max(origin, now - past));  // due already
        });
        w.schedule(timer, due);
        w.advance(due - gap);
        ASSERT_EQ(first, 0);
        w.advance(now);
        ASSERT_EQ(first, 1) << "due +" << due_offset.count() << "ms gap " << gap.count() << "ms";
        EXPECT_EQ(second, 0) << "fired in the advance that armed it: due +" << due_offset.count() << "ms, gap "
                             << gap.count() << "ms, " << past.count() << "ms in the past";
        EXPECT_TRUE(rearmed.armed());
        EXPECT_GE(w.wait_ms(now), 0);
        EXPECT_LE(w.wait_ms(now), static_cast<int>(TimerWheel::kTickMs));
        w.advance(now + tick);
        EXPECT_EQ(second, 1) << "a deadline already past fires at the next advance (one tick on)";
      }
    }
  }
}

TEST_F(WheelTest, ACallbackMayCancelOrMoveAnotherDueTimer) {
  // Both due in one advance, in the same slot: whichever fires first cancels the other, which
  // then must not fire (before, the rest of the slot's list was walked regardless).
  Timer* a_ptr = nullptr;
  Timer* b_ptr = nullptr;
  Timer a([&] {
    fired.push_back(1);
    wheel.cancel(*b_ptr);
  });
  Timer b([&] {
    fired.push_back(2);
    wheel.cancel(*a_ptr);
  });
  a_ptr = &a;
  b_ptr = &b;
  wheel.schedule(a, start + 10ms);
  wheel.schedule(b, start + 10ms);
  wheel.advance(start + 20ms);
  EXPECT_EQ(fired.size(), 1u);
  EXPECT_EQ(wheel.size(), 0u);

  // A callback that re-arms another due timer later: it fires at that later deadline only.
  fired.clear();
  Timer c([&] {
    fired.push_back(3);
    wheel.schedule(*a_ptr, start + 100ms);
  });
  Timer& d = a;
  wheel.schedule(c, start + 30ms);
  wheel.schedule(d, start + 38ms);  // a later tick than c: c fires first
  wheel.advance(start + 40ms);
  EXPECT_EQ(fired, std::vector<int>{3});
  wheel.advance(start + 99ms);
  EXPECT_EQ(fired, std::vector<int>{3});
  wheel.advance(start + 100ms);
  EXPECT_EQ(fired, (std::vector<int>{3, 1}));
}

}  // namespace
}  // namespace fulcrum::core
