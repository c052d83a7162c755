// How a worker's Selector honours the health fields of a pool snapshot: down backends are left
// out, panic tries them all, slow start's effective weights shape a weighted pool.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "membership/pool_manager.h"
#include "upstream/selector.h"

namespace fulcrum::upstream {
using membership::HealthVerdict;
using membership::PoolManager;
namespace {

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

// A worker's selector over a pool of `count` backends (ids 1..count, weight 1) whose snapshots a
// PoolManager publishes, as in the balancer: health reaches the selector only as verdicts.
struct ManagedPool {
  explicit ManagedPool(std::size_t count, const std::string& strategy = "round_robin") {
    pools.push_back(std::make_unique<Pool>("api"));
    manager.emplace(pools);
    PoolConfig config;
    config.name = "api";
    config.strategy = strategy;
    config.deactivate_for = std::chrono::seconds(60);
    for (std::size_t i = 0; i < count; ++i) {
      const std::string address = "10.0.0." + std::to_string(i + 1) + ":80";
      backends.push_back(manager->make_backend(address, *net::Address::resolve(address, nullptr), 1));
    }
    manager->set_members(0, config, backends);
    selector.emplace(*pools[0], random);
  }
  /// Verdicts by index: why each backend is down, and slow-start weights (empty: none ramps).
  void set_health(const std::vector<std::uint8_t>& down, const std::vector<std::uint32_t>& weights = {}) {
    std::vector<HealthVerdict> verdicts;
    for (std::size_t i = 0; i < backends.size(); ++i) {
      verdicts.push_back({backends[i]->id(), i < down.size() ? down[i] : std::uint8_t{0},
                          i < weights.size() ? weights[i] : 0u});
    }
    manager->set_health(0, verdicts);
  }

  std::vector<std::unique_ptr<Pool>> pools;
  std::optional<PoolManager> manager;
  std::vector<std::shared_ptr<Backend>> backends;
  balance::Random random{1};
  std::optional<Selector> selector;
};

TEST(SelectorHealth, DownBackendsGetNothing) {
  ManagedPool published(3);
  published.set_health({0, kDownUnhealthy, 0});
  Selector& selector = *published.selector;
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{1, 5}, {3, 5}}));
}

TEST(SelectorHealth, FailoverNeverReachesADownBackendWhileOneIsUp) {
  ManagedPool published(3);
  published.set_health({0, kDownUnhealthy, kDownUnhealthy});
  Selector& selector = *published.selector;
  auto selection = selector.begin({});
  auto first = selector.next(selection, now);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id(), 1u);
  EXPECT_EQ(selector.next(selection, now), nullptr);  // the only healthy one was tried
}

TEST(SelectorHealth, UpButDeactivatedBeforeDown) {
  ManagedPool published(3);
  published.set_health({0, kDownUnhealthy, 0});
  published.backends[0]->deactivate(now + std::chrono::seconds(10));
  published.backends[2]->deactivate(now + std::chrono::seconds(10));
  Selector& selector = *published.selector;
  const auto seen = picks(selector, 10, now);
  EXPECT_EQ(seen.count(2), 0u);
  EXPECT_EQ(seen.at(1) + seen.at(3), 10);
}

TEST(SelectorHealth, PanicTriesEveryBackend) {
  ManagedPool published(2);
  published.set_health({kDownUnhealthy, kDownUnhealthy});  // the manager declares panic
  ASSERT_TRUE(published.manager->snapshot(0)->panic);
  Selector& selector = *published.selector;
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{1, 5}, {2, 5}}));
  auto selection = selector.begin({});
  ASSERT_TRUE(selector.next(selection, now));
  ASSERT_TRUE(selector.next(selection, now));  // failover in panic goes on to the other
}

TEST(SelectorHealth, DrainedAndMaintainedBackendsAreNeverChosenNotEvenInPanic) {
  ManagedPool published(3);
  ASSERT_TRUE(published.manager->update_backend("api", "10.0.0.1:80", {.state = membership::AdminState::Drain}).ok());
  ASSERT_TRUE(published.manager->update_backend("api", "10.0.0.2:80", {.state = membership::AdminState::Maint}).ok());
  Selector& selector = *published.selector;
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{3, 10}}));
  // The one backend in rotation is down: panic tries it, and only it.
  published.set_health({0, 0, kDownUnhealthy});
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{3, 10}}));
  auto selection = selector.begin({});
  selection.preferred = 1;  // a sticky cookie naming the drained backend
  auto backend = selector.next(selection, now);
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->id(), 3u);
  EXPECT_EQ(selector.next(selection, now), nullptr);
}

TEST(SelectorHealth, JoiningBackendGetsNothingUntilItsFirstCheckPasses) {
  ManagedPool published(2);
  published.set_health({0, upstream::kDownJoining});
  Selector& selector = *published.selector;
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{1, 10}}));
  published.set_health({0, 0});
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{1, 5}, {2, 5}}));
}

TEST(SelectorHealth, DrainingOneBackendOfAHashedPoolMovesOnlyItsKeys) {
  ManagedPool published(10, "source_hash");
  Selector& selector = *published.selector;
  std::vector<std::uint64_t> before;
  for (std::uint64_t key = 0; key < 2000; ++key) {
    auto selection = selector.begin({});
    selection.hash = key * 0x9e3779b97f4a7c15ULL;
    before.push_back(selector.next(selection, now)->id());
  }
  ASSERT_TRUE(published.manager->update_backend("api", "10.0.0.4:80", {.state = membership::AdminState::Drain}).ok());
  for (std::uint64_t key = 0; key < 2000; ++key) {
    auto selection = selector.begin({});
    selection.hash = key * 0x9e3779b97f4a7c15ULL;
    const auto after = selector.next(selection, now)->id();
    if (before[key] != 4) {
      EXPECT_EQ(after, before[key]) << "key " << key << " moved although its backend stayed";
    }
    EXPECT_NE(after, 4u);
  }
}

TEST(SelectorHealth, EmptyPoolChoosesNobody) {
  ManagedPool published(1);
  ASSERT_TRUE(published.manager->remove_backend("api", "10.0.0.1:80").ok());
  published.manager->tick(now + std::chrono::hours(1));
  Selector& selector = *published.selector;
  auto selection = selector.begin({});
  EXPECT_EQ(selector.next(selection, now), nullptr);
}

TEST(SelectorHealth, StickyBackendThatIsDownIsNotPreferred) {
  ManagedPool published(2);
  published.set_health({kDownUnhealthy, 0});
  Selector& selector = *published.selector;
  auto selection = selector.begin({});
  selection.preferred = 1;
  auto backend = selector.next(selection, now);
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->id(), 2u);
}

TEST(SelectorHealth, EffectiveWeightsDuringSlowStart) {
  ManagedPool published(2, "weighted");
  published.set_health({}, {100, 25});  // the second is a quarter into its ramp
  Selector& selector = *published.selector;
  EXPECT_EQ(picks(selector, 125, now), (std::map<std::uint64_t, int>{{1, 100}, {2, 25}}));
  // Ramp over: configured weights (1:1) again with the next snapshot.
  published.set_health({});
  EXPECT_EQ(picks(selector, 10, now), (std::map<std::uint64_t, int>{{1, 5}, {2, 5}}));
}

}  // namespace
}  // namespace fulcrum::upstream
