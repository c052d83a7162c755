#include "balance/sticky_table.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace fulcrum::balance {
namespace {

using namespace std::chrono_literals;

// Times are injected: an arbitrary origin, never the real clock.
const TimePoint t0 = TimePoint{} + 1000h;

ClientKey client(std::uint8_t last, std::uint8_t third = 0) {
  return ClientKey{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, third, last};
}

TEST(StickyTable, UnknownClientHasNoBackend) {
  StickyTable table(30s);
  EXPECT_EQ(table.find(client(1), t0), std::nullopt);
  EXPECT_EQ(table.size(), 0u);
}

TEST(StickyTable, BindsOnOpenAndFindsWhileOpen) {
  StickyTable table(30s);
  table.on_open(client(1), 7, t0);
  EXPECT_EQ(table.find(client(1), t0), 7u);
  EXPECT_EQ(table.find(client(2), t0), std::nullopt);  // another client is not bound
  EXPECT_EQ(table.size(), 1u);
}

TEST(StickyTable, ExpiresExactlySessionExpiryAfterTheLastClose) {
  StickyTable table(30s);
  table.on_open(client(1), 7, t0);
  table.on_open(client(1), 7, t0 + 1s);
  table.on_close(client(1), 7, t0 + 2s);  // one still open
  EXPECT_EQ(table.find(client(1), t0 + 2s + 30s), 7u);
  const TimePoint last_close = t0 + 5s;
  table.on_close(client(1), 7, last_close);
  EXPECT_EQ(table.find(client(1), last_close + 30s - 1ms), 7u);
  EXPECT_EQ(table.find(client(1), last_close + 30s), std::nullopt);
}

TEST(StickyTable, OpenConnectionKeepsTheSessionAliveIndefinitely) {
  StickyTable table(1s);
  table.on_open(client(1), 3, t0);
  EXPECT_EQ(table.find(client(1), t0 + 24h * 365), 3u);
  EXPECT_EQ(table.sweep(t0 + 24h * 365), 0u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(StickyTable, ReopenWithinExpiryKeepsTheBinding) {
  StickyTable table(10s);
  table.on_open(client(1), 3, t0);
  table.on_close(client(1), 3, t0 + 1s);
  table.on_open(client(1), 3, t0 + 9s);
  table.on_close(client(1), 3, t0 + 12s);
  // Counted from the latest close, not the first.
  EXPECT_EQ(table.find(client(1), t0 + 21s), 3u);
  EXPECT_EQ(table.find(client(1), t0 + 22s), std::nullopt);
}

TEST(StickyTable, RebindAfterFailoverAndStaleCloseIgnored) {
  StickyTable table(10s);
  table.on_open(client(1), 1, t0);
  table.on_open(client(1), 1, t0);
  // Backend 1 failed for a new connection; the engine connected to 2 instead.
  table.on_open(client(1), 2, t0 + 1s);
  EXPECT_EQ(table.find(client(1), t0 + 1s), 2u);
  // The two old connections to 1 close: they must neither end nor re-bind the session.
  table.on_close(client(1), 1, t0 + 2s);
  table.on_close(client(1), 1, t0 + 2s);
  EXPECT_EQ(table.find(client(1), t0 + 1h), 2u);  // still open on 2
  table.on_close(client(1), 2, t0 + 3s);
  EXPECT_EQ(table.find(client(1), t0 + 3s + 10s - 1ms), 2u);
  EXPECT_EQ(table.find(client(1), t0 + 3s + 10s), std::nullopt);
}

TEST(StickyTable, ExpiredSessionRebindsToAnyBackend) {
  StickyTable table(5s);
  table.on_open(client(1), 1, t0);
  table.on_close(client(1), 1, t0);
  table.on_open(client(1), 4, t0 + 6s);  // not swept yet: the stale entry is reused
  EXPECT_EQ(table.find(client(1), t0 + 6s), 4u);
  table.on_close(client(1), 4, t0 + 7s);
  EXPECT_EQ(table.find(client(1), t0 + 11s), 4u);
  EXPECT_EQ(table.find(client(1), t0 + 12s), std::nullopt);
}

TEST(StickyTable, ExtraCloseDoesNotUnderflow) {
  StickyTable table(5s);
  table.on_close(client(9), 1, t0);  // unknown client: nothing happens
  EXPECT_EQ(table.size(), 0u);
  table.on_open(client(1), 1, t0);
  table.on_close(client(1), 1, t0 + 1s);
  table.on_close(client(1), 1, t0 + 4s);  // duplicate: must not move the expiry
  EXPECT_EQ(table.find(client(1), t0 + 6s), std::nullopt);
  table.on_open(client(1), 1, t0 + 7s);
  EXPECT_EQ(table.find(client(1), t0 + 100s), 1u);  // count is 1, not wrapped to 0
}

TEST(StickyTable, SweepRemovesOnlyExpired) {
  StickyTable table(10s);
  table.on_open(client(1), 1, t0);  // stays open
  table.on_open(client(2), 1, t0);
  table.on_close(client(2), 1, t0 + 1s);  // expires at t0 + 11s
  table.on_open(client(3), 2, t0);
  table.on_close(client(3), 2, t0 + 5s);  // expires at t0 + 15s
  EXPECT_EQ(table.sweep(t0 + 11s - 1ms), 0u);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.sweep(t0 + 11s), 1u);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.find(client(3), t0 + 11s), 2u);
  EXPECT_EQ(table.sweep(t0 + 15s), 1u);
  EXPECT_EQ(table.find(client(1), t0 + 15s), 1u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(StickyTable, ManyClientsAcrossShards) {
  StickyTable table(10s, 0x1234);
  for (int i = 0; i < 1000; ++i) {
    table.on_open(client(static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8)), i, t0);
  }
  EXPECT_EQ(table.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(table.find(client(static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8)), t0),
              static_cast<BackendId>(i));
  }
}

TEST(StickyTable, ConcurrentUseKeepsCountsConsistent) {
  // Four workers open and close connections of the same 8 clients (so they meet in the same
  // shards), while a sweeper runs. Each client's count must come out exact: one connection
  // short of balanced keeps every session alive forever; the last close ends it.
  StickyTable table(1s);
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  constexpr int kClients = 8;
  auto key = [](int c) { return client(static_cast<std::uint8_t>(c), 77); };
  const TimePoint far = t0 + 24h;

  std::atomic<bool> done{false};
  std::thread sweeper([&] {
    while (!done.load()) table.sweep(far);  // nothing open may ever be dropped
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (int c = 0; c < kClients; ++c) {
          table.on_open(key(c), c, t0);
          EXPECT_EQ(table.find(key(c), far), static_cast<BackendId>(c));
          // Every worker keeps one connection per client open past its last round.
          if (round > 0) table.on_close(key(c), c, t0 + std::chrono::milliseconds(t));
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  done = true;
  sweeper.join();

  EXPECT_EQ(table.size(), static_cast<std::size_t>(kClients));
  for (int c = 0; c < kClients; ++c) {
    for (int t = 0; t < kThreads - 1; ++t) table.on_close(key(c), c, t0 + 2s);
    EXPECT_EQ(table.find(key(c), far), static_cast<BackendId>(c)) << "client " << c << " lost a connection";
    table.on_close(key(c), c, t0 + 2s);
    EXPECT_EQ(table.find(key(c), t0 + 3s), std::nullopt) << "client " << c << " has a connection too many";
  }
  EXPECT_EQ(table.sweep(t0 + 3s), static_cast<std::size_t>(kClients));
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace fulcrum::balance
