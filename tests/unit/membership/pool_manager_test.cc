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
    pools_.push_back(std::make_unique<Pool>("api"));
    pools_.push_back(std::make_unique<Pool>("web"));
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

TEST_F(PoolManagerTest, NewcomersOfANewMembershipServeAtOnceWhenNoMemberThatStaysServes) {
  PoolConfig checked = config("api");
  checked.health = HealthCheckConfig{};
  auto a = backend(1), b = backend(2);
  manager_->set_members(0, checked, {a});
  // A reload that replaces every backend: were b to wait for its first check, the pool would have
  // no backend until then. It serves at once, as the members at start do.
  manager_->set_members(0, checked, {b});
  EXPECT_TRUE(published()->down_reasons.empty());
  EXPECT_FALSE(manager_->awaiting_first_check(0, b->id()));

  // While a member that stays serves, a newcomer waits for its check.
  auto c = backend(3);
  manager_->set_members(0, checked, {b, c});
  EXPECT_EQ(published()->down_reasons, (std::vector<std::uint8_t>{0, upstream::kDownJoining}));
  EXPECT_TRUE(manager_->awaiting_first_check(0, c->id()));

  // Members that stay but are down, or drained, serve nobody: the newcomer does not wait.
  manager_->set_health(0, {{b->id(), upstream::kDownUnhealthy, 0}, {c->id(), upstream::kDownUnhealthy, 0}});
  auto d = backend(4);
  manager_->set_members(0, checked, {b, c, d});
  EXPECT_EQ(published()->down_reasons,
            (std::vector<std::uint8_t>{upstream::kDownUnhealthy, upstream::kDownUnhealthy, 0}));
  EXPECT_FALSE(manager_->awaiting_first_check(0, d->id()));
}

TEST_F(PoolManagerTest, ABackendJoiningACheckedPoolAtRunTimeIsJoiningUntilTheMonitorChecksIt) {
  PoolConfig checked = config("api");
  checked.health = HealthCheckConfig{};
  auto a = backend(1), b = backend(2);
  manager_->set_members(0, checked, {a, b});
  // The members at start take traffic until their checks say otherwise.
  EXPECT_TRUE(published()->down_reasons.empty());

  const auto added = manager_->add_backend("api", {.address = "10.0.0.3:80"});
  ASSERT_EQ(added.status, 201);
  const std::uint64_t c = added.backend->id();
  EXPECT_EQ(published()->down_reasons, (std::vector<std::uint8_t>{0, 0, upstream::kDownJoining}));
  // Verdicts from before the monitor noticed it (it knows a and b only) leave it joining ...
  manager_->set_health(0, {{a->id(), 0, 0}, {b->id(), 0, 0}});
  EXPECT_EQ(published()->down_reasons, (std::vector<std::uint8_t>{0, 0, upstream::kDownJoining}));
  // ... until the monitor speaks for it.
  manager_->set_health(0, {{a->id(), 0, 0}, {b->id(), 0, 0}, {c, 0, 0}});
  EXPECT_TRUE(published()->down_reasons.empty());
  // Its verdict is the monitor's from then on.
  manager_->set_health(0, {{a->id(), 0, 0}, {b->id(), 0, 0}});
  EXPECT_TRUE(published()->down_reasons.empty());

  // A newcomer by a new membership (DNS, reload) waits for its check as well.
  auto d = backend(4);
  manager_->set_members(0, checked, {a, b, d});
  const auto& members = published()->backends;
  const auto at = std::find(members.begin(), members.end(), d) - members.begin();
  ASSERT_LT(static_cast<std::size_t>(at), members.size());
  EXPECT_EQ(published()->down_reasons.at(static_cast<std::size_t>(at)), upstream::kDownJoining);

  // Without checks, nothing would ever clear it: an added backend takes traffic at once.
  manager_->set_members(1, config("web"), {backend(5)});
  ASSERT_EQ(manager_->add_backend("web", {.address = "10.0.0.6:80"}).status, 201);
  EXPECT_TRUE(published(1)->down_reasons.empty());
}

TEST_F(PoolManagerTest, ABackendThatLeavesIsRetiredBeforeTheHookIsCalled) {
  std::vector<std::pair<std::uint64_t, bool>> hooked;  // id, retired() when the hook ran
  manager_->set_retired_hook([&](const std::shared_ptr<Backend>& gone) { hooked.emplace_back(gone->id(), gone->retired()); });
  auto a = backend(1), b = backend(2), c = backend(3);
  manager_->set_members(0, config("api"), {a, b, c});
  // Removal drains first: b is out of rotation but not retired until it has left.
  ASSERT_EQ(manager_->remove_backend("api", b->address_text()).status, 202);
  EXPECT_FALSE(b->retired());
  manager_->tick(core::Clock::now());
  EXPECT_TRUE(b->retired());
  // Leaving by a new membership (a reload, say) retires as well.
  manager_->set_members(0, config("api"), {a});
  EXPECT_TRUE(c->retired());
  EXPECT_FALSE(a->retired());
  EXPECT_EQ(hooked, (std::vector<std::pair<std::uint64_t, bool>>{{b->id(), true}, {c->id(), true}}));
}

}  // namespace
}  // namespace fulcrum::membership

namespace fulcrum::membership {
namespace {

// Runtime changes: what each one publishes, what it refuses (with the status the API answers),
// and removal as a drain that ends when the backend is idle or out of time.
class RuntimeChangesTest : public ::testing::Test {
 protected:
  RuntimeChangesTest() {
    pools_.push_back(std::make_unique<upstream::Pool>("api"));
    manager_.emplace(pools_);
    PoolConfig config;
    config.name = "api";
    const auto address = *net::Address::parse_numeric("10.0.0.1:80");
    manager_->set_members(0, config, {manager_->make_backend("10.0.0.1:80", address, 1, "one")});
  }
  std::shared_ptr<const upstream::PoolSnapshot> published() { return pools_[0]->snapshot(); }

  std::vector<std::unique_ptr<upstream::Pool>> pools_;
  std::optional<PoolManager> manager_;
};

TEST_F(RuntimeChangesTest, AddedBackendIsPublishedWithItsNameAndSource) {
  const auto result = manager_->add_backend("api", {"10.0.0.2:80", 3, "two", upstream::BackendSource::Api});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.status, 201);
  ASSERT_EQ(published()->backends.size(), 2u);
  EXPECT_EQ(published()->backends[1]->name(), "two");
  EXPECT_EQ(published()->backends[1]->weight(), 3u);
  EXPECT_EQ(published()->backends[1]->source(), upstream::BackendSource::Api);
  EXPECT_TRUE(published()->in_rotation(1));
}

TEST_F(RuntimeChangesTest, RefusalsSayWhyAndChangeNothing) {
  const auto version = pools_[0]->version();
  struct Case {
    NewBackend request;
    int status;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"10.0.0.1:80", 1, "", upstream::BackendSource::Api}, 409, "address: backend '10.0.0.1:80' is already in pool 'api'"},
      {{"10.0.0.9:80", 1, "one", upstream::BackendSource::Api}, 409, "name: backend name 'one' is already used in pool 'api'"},
      {{"10.0.0.9", 1, "", upstream::BackendSource::Api}, 400,
       "address: invalid address '10.0.0.9': address has no port (expected host:port)"},
      {{"10.0.0.9:80", 0, "", upstream::BackendSource::Api}, 400, "weight: must be between 1 and 1000000 (got 0)"},
      {{"10.0.0.9:80", 1, "a b", upstream::BackendSource::Api}, 400,
       "name: backend name 'a b' may only contain letters, digits, '_' and '-'"},
      {{"app.internal:80", 1, "", upstream::BackendSource::Api}, 400,
       "address: invalid address 'app.internal:80': give an IP address and port (host names are resolved only from "
       "the configuration)"},
  };
  for (const Case& c : cases) {
    const auto result = manager_->add_backend("api", c.request);
    EXPECT_EQ(result.status, c.status) << c.request.address;
    EXPECT_EQ(result.error, c.error);
  }
  EXPECT_EQ(manager_->add_backend("web", {"10.0.0.9:80"}).status, 404);
  EXPECT_EQ(manager_->update_backend("api", "nobody", {.weight = 2}).status, 404);
  EXPECT_EQ(manager_->update_backend("api", "one", {.weight = 0}).error, "weight: must be between 1 and 1000000 (got 0)");
  EXPECT_EQ(pools_[0]->version(), version);
  EXPECT_EQ(published()->backends.size(), 1u);
}

TEST_F(RuntimeChangesTest, DrainAndMaintTakeABackendOutOfRotationEvenInPanic) {
  ASSERT_TRUE(manager_->add_backend("api", {"10.0.0.2:80"}).ok());
  ASSERT_TRUE(manager_->update_backend("api", "one", {.state = AdminState::Drain}).ok());
  EXPECT_FALSE(published()->in_rotation(0));
  EXPECT_TRUE(published()->in_rotation(1));
  // The one backend in rotation is unhealthy: panic concerns it alone; the drained one stays out.
  manager_->set_health(0, {{published()->backends[1]->id(), upstream::kDownUnhealthy, 0}});
  EXPECT_TRUE(published()->panic);
  EXPECT_FALSE(published()->in_rotation(0));
  ASSERT_TRUE(manager_->update_backend("api", "10.0.0.1:80", {.state = AdminState::Maint}).ok());
  EXPECT_EQ(published()->down_reasons[0], upstream::kDownMaint);
  ASSERT_TRUE(manager_->update_backend("api", "one", {.state = AdminState::Ready}).ok());
  EXPECT_TRUE(published()->in_rotation(0));
  EXPECT_FALSE(published()->panic);
}

TEST_F(RuntimeChangesTest, RemovalDrainsUntilIdleThenRetires) {
  std::vector<std::uint64_t> retired;
  manager_->set_retired_hook([&](const std::shared_ptr<upstream::Backend>& backend) { retired.push_back(backend->id()); });
  const auto added = manager_->add_backend("api", {"10.0.0.2:80", 1, "two"});
  ASSERT_TRUE(added.ok());
  added.backend->add_active(1);  // a request in flight
  const auto removed = manager_->remove_backend("api", "two");
  EXPECT_EQ(removed.status, 202);
  EXPECT_FALSE(published()->in_rotation(1));
  manager_->tick(core::Clock::now());
  EXPECT_EQ(published()->backends.size(), 2u) << "still busy: stays until idle";
  added.backend->add_active(-1);
  manager_->tick(core::Clock::now());
  ASSERT_EQ(published()->backends.size(), 1u);
  EXPECT_EQ(retired, std::vector<std::uint64_t>{added.backend->id()});
  // Gone: its address may be added again, as a new backend with a new id.
  const auto again = manager_->add_backend("api", {"10.0.0.2:80"});
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again.backend->id(), added.backend->id());
}

TEST_F(RuntimeChangesTest, RemovalEndsAtTheDrainTimeoutWhateverIsInFlight) {
  manager_->set_drain_timeout(core::Milliseconds(1000));
  const auto added = manager_->add_backend("api", {"10.0.0.2:80"});
  added.backend->add_active(1);
  manager_->remove_backend("api", "10.0.0.2:80");
  manager_->tick(core::Clock::now());
  EXPECT_EQ(published()->backends.size(), 2u);
  manager_->tick(core::Clock::now() + std::chrono::seconds(2));
  EXPECT_EQ(published()->backends.size(), 1u);
}

TEST_F(RuntimeChangesTest, WeightChangeRepublishesAndKeepsTheBackend) {
  const auto before = published()->backends[0];
  const auto version = pools_[0]->version();
  ASSERT_TRUE(manager_->update_backend("api", "one", {.weight = 5}).ok());
  EXPECT_GT(pools_[0]->version(), version);
  EXPECT_EQ(published()->backends[0], before);
  EXPECT_EQ(published()->backends[0]->weight(), 5u);
}

TEST_F(RuntimeChangesTest, ConfigMembershipChangesLeaveOtherSourcesAlone) {
  ASSERT_TRUE(manager_->add_backend("api", {"10.0.0.2:80"}).ok());
  PoolConfig config;
  config.name = "api";
  const auto address = *net::Address::parse_numeric("10.0.0.3:80");
  manager_->set_members(0, config, {manager_->make_backend("10.0.0.3:80", address, 1)});
  ASSERT_EQ(published()->backends.size(), 2u);
  EXPECT_EQ(published()->backends[0]->address_text(), "10.0.0.3:80");
  EXPECT_EQ(published()->backends[1]->address_text(), "10.0.0.2:80");
}

}  // namespace
}  // namespace fulcrum::membership
