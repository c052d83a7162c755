// The one writer of pool snapshots: what it publishes from membership and health verdicts, and
// when it does not publish at all.
#include "membership/pool_manager.h"

#include <gtest/gtest.h>

namespace fulcrum::membership {
using upstream::Backend;
using upstream::Pool;
using upstream::PoolSnapshot;
using upstream::kDownUnhealthy;
using upstream::kDownEjected;
namespace {

class PoolManagerTest : public ::testing::Test {
 protected:
  PoolManagerTest() {
    pools_.push_back(std::make_unique<Pool>("api", nullptr));
    pools_.push_back(std::make_unique<Pool>("web", nullptr));
    manager_.emplace(pools_);
  }

  std::shared_ptr<Backend> backend(int n, std::uint32_t weight = 1) {
    const std::string address = "10.0.0." + std::to_string(n) + ":80";
    return manager_->make_backend(address, *net::Address::resolve(address, nullptr), weight);
  }
  static PoolConfig config(const std::string& name) {
    PoolConfig config;
    config.name = name;
    config.strategy = "weighted";
    return config;
  }
  std::shared_ptr<const PoolSnapshot> published(std::size_t pool = 0) { return pools_[pool]->snapshot(); }

  std::vector<std::unique_ptr<Pool>> pools_;
  std::optional<PoolManager> manager_;
};

TEST_F(PoolManagerTest, MembershipIsPublishedWithWhatFollowsFromIt) {
  auto a = backend(1), b = backend(2), c = backend(3);
  manager_->set_members(0, config("api"), {a, b, c});
  const auto snapshot = published();
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot, manager_->snapshot(0));
  EXPECT_EQ(snapshot->name, "api");
  EXPECT_EQ(snapshot->strategy, "weighted");
  EXPECT_EQ(snapshot->backends, (std::vector<std::shared_ptr<Backend>>{a, b, c}));
  EXPECT_EQ(snapshot->max_attempts, 3u);  // every backend once, without `retries`
  EXPECT_TRUE(snapshot->down_reasons.empty());
  EXPECT_FALSE(snapshot->panic);
  EXPECT_EQ(manager_->membership_version(0), 1u);
  EXPECT_EQ(manager_->membership_version(1), 0u);
}

TEST_F(PoolManagerTest, BackendIdsAreNeverShared) {
  auto a = backend(1), b = backend(1), c = backend(2);
  EXPECT_NE(a->id(), b->id());
  EXPECT_NE(b->id(), c->id());
  EXPECT_NE(a->id(), c->id());
}

TEST_F(PoolManagerTest, HealthThatChangesNothingIsNotPublished) {
  auto a = backend(1), b = backend(2);
  manager_->set_members(0, config("api"), {a, b});
  const auto version = pools_[0]->version();
  manager_->set_health(0, {{a->id(), 0, 0}, {b->id(), 0, 0}});
  EXPECT_EQ(pools_[0]->version(), version);  // workers rebuild nothing
  manager_->set_health(0, {{a->id(), kDownUnhealthy, 0}, {b->id(), 0, 0}});
  EXPECT_EQ(pools_[0]->version(), version + 1);
  EXPECT_EQ(published()->down_reasons, (std::vector<std::uint8_t>{kDownUnhealthy, 0}));
  manager_->set_health(0, {{a->id(), kDownUnhealthy, 0}, {b->id(), 0, 0}});
  EXPECT_EQ(pools_[0]->version(), version + 1);
}

TEST_F(PoolManagerTest, VerdictsFollowTheirBackendThroughMembershipChanges) {
  auto a = backend(1), b = backend(2), c = backend(3);
  manager_->set_members(0, config("api"), {a, b});
  manager_->set_health(0, {{a->id(), 0, 0}, {b->id(), kDownEjected, 0}});
  // A backend joins in front: b keeps its verdict at its new index, the newcomer is up.
  manager_->set_members(0, config("api"), {c, a, b});
  EXPECT_EQ(published()->down_reasons, (std::vector<std::uint8_t>{0, 0, kDownEjected}));
  EXPECT_EQ(published()->backends[2], b);  // the same object: counters and identity carry over
  // b leaves and comes back as a new backend at the same address: a new id, no old verdict.
  manager_->set_members(0, config("api"), {c, a});
  EXPECT_TRUE(published()->down_reasons.empty());
  auto b_again = backend(2);
  manager_->set_members(0, config("api"), {c, a, b_again});
  EXPECT_TRUE(published()->down_reasons.empty());
  EXPECT_EQ(manager_->membership_version(0), 4u);
}

TEST_F(PoolManagerTest, PanicWhenEveryMemberIsDownNeverForAnEmptyPool) {
  manager_->set_members(1, config("web"), {});
  EXPECT_FALSE(published(1)->panic);
  EXPECT_TRUE(published(1)->backends.empty());
  auto a = backend(1), b = backend(2);
  manager_->set_members(1, config("web"), {a, b});
  manager_->set_health(1, {{a->id(), kDownUnhealthy, 0}, {b->id(), kDownEjected, 0}});
  EXPECT_TRUE(published(1)->panic);
  manager_->set_health(1, {{a->id(), kDownUnhealthy, 0}, {b->id(), 0, 0}});
  EXPECT_FALSE(published(1)->panic);
}

TEST_F(PoolManagerTest, SlowStartWeightsOnlyWhenEveryMemberHasOne) {
  auto a = backend(1, 2), b = backend(2, 1);
  manager_->set_members(0, config("api"), {a, b});
  manager_->set_health(0, {{a->id(), 0, 200}, {b->id(), 0, 25}});
  EXPECT_EQ(published()->effective_weights, (std::vector<std::uint32_t>{200, 25}));
  // A newcomer has no slow-start weight yet: every member gets its configured weight until the
  // monitor has looked at the new membership, rather than weights of two scales side by side.
  auto c = backend(3);
  manager_->set_members(0, config("api"), {a, b, c});
  EXPECT_TRUE(published()->effective_weights.empty());
}

}  // namespace
}  // namespace fulcrum::membership
