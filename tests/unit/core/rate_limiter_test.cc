// The rate limiter behind log lines and `error` events, driven by an injected clock.
#include "core/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace fulcrum::core {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiter, PassesABurstThenSuppressesAndReportsWithTheNextLine) {
  RateLimiter limiter(10, 20);
  const TimePoint t0{};
  int passed = 0;
  for (int i = 0; i < 1000; ++i) passed += limiter.admit("accept failed", t0).pass;
  EXPECT_EQ(passed, 20);
  // 100 ms later one token came back: the next line passes and carries the count of the others.
  auto verdict = limiter.admit("accept failed", t0 + milliseconds(100));
  EXPECT_TRUE(verdict.pass);
  EXPECT_EQ(verdict.suppressed.count, 980u);
  EXPECT_EQ(verdict.suppressed.message, "accept failed");
  // Reported once: the next line that passes carries nothing.
  verdict = limiter.admit("accept failed", t0 + milliseconds(200));
  EXPECT_TRUE(verdict.pass);
  EXPECT_EQ(verdict.suppressed.count, 0u);
}

TEST(RateLimiter, SustainedFloodPassesTheConfiguredRate) {
  RateLimiter limiter(10, 20);
  const TimePoint t0{};
  int passed = 0;
  // 10 seconds of one line every millisecond: the burst, then 10 a second.
  for (int ms = 0; ms < 10'000; ++ms) passed += limiter.admit("bad request", t0 + milliseconds(ms)).pass;
  EXPECT_GE(passed, 20 + 99);
  EXPECT_LE(passed, 20 + 101);
}

TEST(RateLimiter, MessagesHaveTheirOwnBudgets) {
  RateLimiter limiter(10, 20);
  const TimePoint t0{};
  for (int i = 0; i < 100; ++i) limiter.admit("flood", t0);
  EXPECT_TRUE(limiter.admit("something else", t0).pass);
  EXPECT_FALSE(limiter.admit("flood", t0).pass);
}

TEST(RateLimiter, FlushReportsAFloodOnceItWentQuiet) {
  RateLimiter limiter(10, 20);
  const TimePoint t0{};
  for (int i = 0; i < 50; ++i) limiter.admit("flood", t0);
  std::vector<RateLimiter::Suppressed> reports;
  auto collect = [&](const RateLimiter::Suppressed& s) { reports.push_back(s); };
  limiter.flush(t0 + milliseconds(500), collect);  // still within the flood: not yet
  EXPECT_TRUE(reports.empty());
  limiter.flush(t0 + milliseconds(1000), collect);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].message, "flood");
  EXPECT_EQ(reports[0].count, 30u);
  limiter.flush(t0 + milliseconds(3000), collect);  // nothing new
  EXPECT_EQ(reports.size(), 1u);
}

TEST(RateLimiter, ConcurrentCallersNeverExceedTheBudget) {
  RateLimiter limiter(10, 20);
  const TimePoint t0{};
  std::atomic<int> passed{0};
  std::atomic<std::uint64_t> reported{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        const auto verdict = limiter.admit("shared", t0);
        passed += verdict.pass;
        reported += verdict.suppressed.count;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(passed.load(), 20);
  limiter.flush(t0 + std::chrono::seconds(2), [&](const RateLimiter::Suppressed& s) { reported += s.count; });
  EXPECT_EQ(reported.load(), 40'000u - 20u);  // every suppressed line is accounted for
}

}  // namespace
}  // namespace fulcrum::core
