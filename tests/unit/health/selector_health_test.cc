// How a worker's Selector honours the health fields of a pool snapshot: down backends are left
// out, panic tries them all, slow start's effective weights shape a weighted pool.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "upstream/selector.h"

namespace fulcrum::upstream {
namespace {

std::shared_ptr<PoolSnapshot> snapshot_of(std::size_t backends, const std::string& strategy = "round_robin") {
  auto snapshot = std::make_shared<PoolSnapshot>();
  snapshot->name = "api";
  snapshot->strategy = strategy;
  snapshot->max_attempts = static_cast<std::uint32_t>(backends);
  snapshot->deactivate_for = std::chrono::seconds(60);
  for (std::size_t i = 0; i < backends; ++i) {
    const std::string address = "10.0.0." + std::to_string(i + 1) + ":80";
    snapshot->backends.push_back(
        std::make_shared<Backend>(i + 1, address, *net::Address::resolve(address, nullptr), 1));
  }
  return snapshot;
}

std::map<std::uint64_t, int> picks(Selector& selector, int count, core::TimePoint now) {
  std::map<std::uint64_t, int> seen;
  for (int i = 0; i < count; ++i) {
    auto selection = selector.begin({});
    auto backend = selector.next(selection, now);
    if (backend) ++seen[backend->id()];
  }
  return seen;
}

const core::TimePoint now = core::TimePoint{} + std::chrono::hours(1);

// A worker's selector over a pool that has published `snapshot`.
struct PublishedPool {
  explicit PublishedPool(std::shared_ptr<PoolSnapshot> snapshot) {
    pool.publish(std::move(snapshot));
    selector.emplace(pool, random);
  }
  Pool pool{"api", nullptr};
  balance::Random random{1};
  std::optional<Selector> selector;
};

TEST(SelectorHealth, DownBackendsGetNothing) {
  auto snapshot = snapshot_of(3);
  snapshot->down_reasons = {0, kDownUnhealthy, 0};
  PublishedPool published(snapshot);
  Selector& selector = *published.selector;
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{1, 5}, {3, 5}}));
}

TEST(SelectorHealth, FailoverNeverReachesADownBackendWhileOneIsUp) {
  auto snapshot = snapshot_of(3);
  snapshot->down_reasons = {0, kDownUnhealthy, kDownUnhealthy};
  PublishedPool published(snapshot);
  Selector& selector = *published.selector;
  auto selection = selector.begin({});
  auto first = selector.next(selection, now);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id(), 1u);
  EXPECT_EQ(selector.next(selection, now), nullptr);  // the only healthy one was tried
}

TEST(SelectorHealth, UpButDeactivatedBeforeDown) {
  auto snapshot = snapshot_of(3);
  snapshot->down_reasons = {0, kDownUnhealthy, 0};
  snapshot->backends[0]->deactivate(now + std::chrono::seconds(10));
  snapshot->backends[2]->deactivate(now + std::chrono::seconds(10));
  PublishedPool published(snapshot);
  Selector& selector = *published.selector;
  const auto seen = picks(selector, 10, now);
  EXPECT_EQ(seen.count(2), 0u);
  EXPECT_EQ(seen.at(1) + seen.at(3), 10);
}

TEST(SelectorHealth, PanicTriesEveryBackend) {
  auto snapshot = snapshot_of(2);
  snapshot->down_reasons = {kDownUnhealthy, kDownUnhealthy};
  snapshot->panic = true;
  PublishedPool published(snapshot);
  Selector& selector = *published.selector;
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{1, 5}, {2, 5}}));
  auto selection = selector.begin({});
  ASSERT_TRUE(selector.next(selection, now));
  ASSERT_TRUE(selector.next(selection, now));  // failover in panic goes on to the other
}

TEST(SelectorHealth, StickyBackendThatIsDownIsNotPreferred) {
  auto snapshot = snapshot_of(2);
  snapshot->down_reasons = {kDownUnhealthy, 0};
  PublishedPool published(snapshot);
  Selector& selector = *published.selector;
  auto selection = selector.begin({});
  selection.preferred = 1;
  auto backend = selector.next(selection, now);
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->id(), 2u);
}

TEST(SelectorHealth, EffectiveWeightsDuringSlowStart) {
  auto snapshot = snapshot_of(2, "weighted");
  snapshot->effective_weights = {100, 25};  // the second is a quarter into its ramp
  PublishedPool published(snapshot);
  Selector& selector = *published.selector;
  EXPECT_EQ(picks(selector, 125, now), (std::map<std::uint64_t, int>{{1, 100}, {2, 25}}));
  // Ramp over: configured weights (1:1) again with the next snapshot.
  auto after = std::make_shared<PoolSnapshot>(*snapshot);
  after->effective_weights.clear();
  published.pool.publish(after);
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{1, 5}, {2, 5}}));
}

}  // namespace
}  // namespace fulcrum::upstream
