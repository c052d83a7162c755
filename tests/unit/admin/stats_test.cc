// backend_state(): the one word the admin API, /metrics and the dashboard show for a backend, read
// from what the health monitor published in the pool snapshot.
#include "admin/stats.h"

#include <gtest/gtest.h>

#include "upstream/pool.h"

namespace fulcrum::admin {
namespace {

using upstream::kDownEjected;
using upstream::kDownUnhealthy;

const core::TimePoint now = core::TimePoint{} + std::chrono::hours(1);

upstream::PoolSnapshot snapshot_of(std::size_t backends) {
  upstream::PoolSnapshot snapshot;
  for (std::size_t i = 0; i < backends; ++i) {
    const std::string address = "10.0.0." + std::to_string(i + 1) + ":80";
    snapshot.backends.push_back(
        std::make_shared<upstream::Backend>(i + 1, address, *net::Address::resolve(address, nullptr), 1));
  }
  return snapshot;
}

TEST(BackendState, EveryBackendUpIsHealthy) {
  const auto snapshot = snapshot_of(2);  // no down_reasons: every backend is up
  EXPECT_EQ(backend_state(snapshot, 0, now), "healthy");
  EXPECT_EQ(backend_state(snapshot, 1, now), "healthy");
}

TEST(BackendState, EjectedIsToldApartFromUnhealthy) {
  auto snapshot = snapshot_of(4);
  snapshot.down_reasons = {0, kDownUnhealthy, kDownEjected, kDownUnhealthy | kDownEjected};
  EXPECT_EQ(backend_state(snapshot, 0, now), "healthy");
  EXPECT_EQ(backend_state(snapshot, 1, now), "unhealthy");
  EXPECT_EQ(backend_state(snapshot, 2, now), "ejected");
  // Failing checks outlast the ejection: that is what the operator must look at.
  EXPECT_EQ(backend_state(snapshot, 3, now), "unhealthy");
}

TEST(BackendState, DownForFailedChecksIsUnhealthy) {
  auto snapshot = snapshot_of(2);
  snapshot.down_reasons = {kDownUnhealthy, 0};
  EXPECT_EQ(backend_state(snapshot, 0, now), "unhealthy");
  EXPECT_EQ(backend_state(snapshot, 1, now), "healthy");
}

TEST(BackendState, DeactivatedOnlyWhileItsWindowLasts) {
  auto snapshot = snapshot_of(2);
  snapshot.backends[0]->deactivate(now + std::chrono::seconds(5));
  EXPECT_EQ(backend_state(snapshot, 0, now), "deactivated");
  EXPECT_EQ(backend_state(snapshot, 0, now + std::chrono::seconds(5)), "healthy");
  // Down by health wins over a data-path deactivation.
  snapshot.down_reasons = {kDownEjected, 0};
  EXPECT_EQ(backend_state(snapshot, 0, now), "ejected");
}

// RecentStats: quantiles describe the last kWindow samples, and everything before the window
// fills up (requests answered before the first sample are not lost).
StatsSnapshot one_backend_with(std::uint64_t requests, std::uint64_t fast_answers) {
  StatsSnapshot stats;
  stats.pools.emplace_back();
  auto& backend = stats.pools.back().backends.emplace_back();
  backend.id = 7;
  backend.traffic.requests = requests;
  backend.latency.buckets[0] = fast_answers;  // under 100 µs
  backend.latency.count = fast_answers;
  return stats;
}

TEST(RecentStats, AnswersBeforeTheFirstSampleCountWhileTheWindowFills) {
  RecentStats recent;
  const auto start = now;
  recent.sample(one_backend_with(3, 3), start);  // the first sample comes after 3 answers
  auto stats = one_backend_with(3, 3);
  recent.fill(stats, start + std::chrono::milliseconds(500));
  EXPECT_GT(stats.pools[0].backends[0].p50_seconds, 0.0);
}

TEST(RecentStats, AnswersOlderThanTheWindowAgeOut) {
  RecentStats recent;
  for (std::size_t i = 0; i < RecentStats::kWindow; ++i) {
    recent.sample(one_backend_with(3, 3), now + std::chrono::seconds(i));
  }
  auto stats = one_backend_with(3, 3);  // nothing new for the whole window
  recent.fill(stats, now + std::chrono::seconds(RecentStats::kWindow));
  EXPECT_EQ(stats.pools[0].backends[0].p50_seconds, 0.0);
  EXPECT_EQ(stats.pools[0].backends[0].rps, 0.0);
}

}  // namespace
}  // namespace fulcrum::admin
