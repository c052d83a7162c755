// Leases without sockets: registration, renewal, deregistration, expiry at the TTL, the
// mass-eviction guard, and what the registry submits to the PoolManager.
#include "membership/registry.h"

#include <gtest/gtest.h>

#include <optional>

namespace fulcrum::membership {
namespace {

using namespace std::chrono_literals;
using upstream::Pool;

/// Records what is emitted.
class RecordingBus final : public events::EventBus {
 public:
  bool wants(Event) const override { return true; }
  bool sample(Event) override { return true; }
  void emit(Event event, std::string details) override { emitted.push_back({event, std::move(details)}); }
  SubscriptionId subscribe(Event, EventCallback) override { return 0; }
  SubscriptionId subscribe_all(EventCallback) override { return 0; }
  void unsubscribe(SubscriptionId) override {}
  std::size_t count(Event event) const {
    std::size_t n = 0;
    for (const auto& [kind, details] : emitted) n += kind == event ? 1 : 0;
    return n;
  }
  std::vector<std::pair<Event, std::string>> emitted;
};

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() {
    PoolConfig api;
    api.name = "api";
    api.strategy = "round_robin";
    api.registration = PoolRegistrationConfig{10s};
    PoolConfig fixed;
    fixed.name = "fixed";
    fixed.strategy = "round_robin";
    fixed.backends.push_back({.address = "10.0.0.1:80"});
    configs_ = {api, fixed};
    pools_.push_back(std::make_unique<Pool>("api"));
    pools_.push_back(std::make_unique<Pool>("fixed"));
    manager_.emplace(pools_, &bus_);
    manager_->set_members(0, configs_[0], {});
    manager_->set_members(1, configs_[1], {});
    registry_.emplace(*manager_, configs_, &bus_, [this] { return "lease" + std::to_string(++next_lease_); });
  }

  LeaseResult add(int n, std::optional<core::Milliseconds> ttl = std::nullopt, std::string pool = "api") {
    Registration request;
    request.pool = std::move(pool);
    request.address = "10.0.1." + std::to_string(n) + ":8080";
    request.ttl = ttl;
    return registry_->register_backend(request, now_);
  }
  std::size_t members(std::size_t pool = 0) const { return manager_->members(pool).size(); }
  /// Members not being removed.
  std::size_t live(std::size_t pool = 0) const {
    std::size_t n = 0;
    for (const auto& member : manager_->members(pool)) n += member.removing ? 0 : 1;
    return n;
  }
  void advance(core::Milliseconds by) {
    now_ += by;
    registry_->tick(now_);
    manager_->tick(core::Clock::now());  // idle backends leave at once
  }

  RecordingBus bus_;
  std::vector<PoolConfig> configs_;
  std::vector<std::unique_ptr<Pool>> pools_;
  std::optional<PoolManager> manager_;
  std::optional<Registry> registry_;
  core::TimePoint now_ = core::Clock::now();
  int next_lease_ = 0;
};

TEST_F(RegistryTest, RegistrationAddsABackendFromTheRegistrationSource) {
  const auto result = add(1);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.status, 201);
  EXPECT_EQ(result.lease, "lease1");
  EXPECT_EQ(result.ttl, 10s);  // the pool's default
  ASSERT_EQ(members(), 1u);
  const auto backend = manager_->members(0)[0].backend;
  EXPECT_EQ(backend->address_text(), "10.0.1.1:8080");
  EXPECT_EQ(backend->source(), upstream::BackendSource::Registration);
  EXPECT_EQ(bus_.count(Event::BackendAdded), 1u);
  EXPECT_EQ(manager_->snapshot(0)->backends.size(), 1u);
}

TEST_F(RegistryTest, RefusalsChangeNothing) {
  EXPECT_EQ(add(1, std::nullopt, "fixed").status, 403);
  EXPECT_NE(add(1, std::nullopt, "fixed").error.find("does not accept registrations"), std::string::npos);
  EXPECT_EQ(add(1, std::nullopt, "nope").status, 404);
  EXPECT_EQ(add(1, 500ms).status, 400);
  EXPECT_EQ(add(1, 500ms).error, "ttl: must be between 1s and 1h (got 500ms)");
  EXPECT_EQ(add(1, 2h).error, "ttl: must be between 1s and 1h (got 2h)");
  Registration bad;
  bad.pool = "api";
  bad.address = "app.example:80";
  EXPECT_EQ(registry_->register_backend(bad, now_).status, 400);
  EXPECT_EQ(members(), 0u);
  EXPECT_EQ(registry_->lease_count(), 0u);
  EXPECT_EQ(members(1), 0u);  // `fixed`'s config backend is not a member here: set_members got none
}

TEST_F(RegistryTest, TheSameAddressAgainGetsItsLeaseBackRenewed) {
  ASSERT_EQ(add(1).status, 201);
  advance(9s);
  const auto again = add(1, 20s);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.lease, "lease1");
  EXPECT_EQ(again.ttl, 20s);
  EXPECT_EQ(members(), 1u);
  advance(15s);  // past the first TTL, within the second
  EXPECT_EQ(live(), 1u);
  // Under another name it is a conflict.
  Registration renamed;
  renamed.pool = "api";
  renamed.address = "10.0.1.1:8080";
  renamed.name = "other";
  EXPECT_EQ(registry_->register_backend(renamed, now_).status, 409);
  EXPECT_EQ(registry_->register_backend(renamed, now_).error,
            "name: backend '10.0.1.1:8080' is registered in pool 'api' without a name, not as 'other'");
}

TEST_F(RegistryTest, RenewalsKeepALeaseAndItsAbsenceExpiresIt) {
  const auto lease = add(1).lease;
  for (int i = 0; i < 5; ++i) {
    advance(5s);
    const auto renewed = registry_->renew(lease, {}, now_);
    ASSERT_EQ(renewed.status, 200) << renewed.error;
  }
  EXPECT_EQ(live(), 1u);
  advance(9'900ms);
  EXPECT_EQ(live(), 1u);
  EXPECT_EQ(bus_.count(Event::BackendExpired), 0u);
  advance(100ms);  // the TTL since the last renewal
  EXPECT_EQ(members(), 0u);
  EXPECT_EQ(bus_.count(Event::BackendExpired), 1u);
  EXPECT_EQ(registry_->renew(lease, {}, now_).status, 404);
  EXPECT_EQ(registry_->lease_count(), 0u);
}

TEST_F(RegistryTest, RenewalsCarryWeightAndLoad) {
  const auto lease = add(1).lease;
  Renewal renewal;
  renewal.weight = 5;
  renewal.load = 0.25;
  ASSERT_EQ(registry_->renew(lease, renewal, now_).status, 200);
  const auto backend = manager_->members(0)[0].backend;
  EXPECT_EQ(backend->weight(), 5u);
  EXPECT_EQ(backend->reported_load(), 250);
  EXPECT_EQ(bus_.count(Event::BackendWeight), 1u);
  renewal = {};
  renewal.load = 1.5;
  EXPECT_EQ(registry_->renew(lease, renewal, now_).status, 400);
  EXPECT_EQ(registry_->renew(lease, renewal, now_).error, "load: must be a number between 0.0 and 1.0 (got 1.5)");
  EXPECT_EQ(backend->reported_load(), 250);
}

TEST_F(RegistryTest, DeregistrationDrainsAndRemoves) {
  const auto lease = add(1).lease;
  const auto backend = manager_->members(0)[0].backend;
  backend->add_active(1);  // a request in flight
  const auto result = registry_->deregister(lease);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(live(), 0u);
  EXPECT_EQ(members(), 1u);  // draining
  manager_->tick(core::Clock::now());
  EXPECT_EQ(members(), 1u);
  backend->add_active(-1);
  manager_->tick(core::Clock::now());
  EXPECT_EQ(members(), 0u);
  EXPECT_EQ(bus_.count(Event::BackendRemoved), 1u);
  EXPECT_EQ(bus_.count(Event::BackendExpired), 0u);
  EXPECT_EQ(registry_->deregister(lease).status, 404);
  EXPECT_EQ(registry_->renew(lease, {}, now_).status, 404);
}

TEST_F(RegistryTest, ABackendRemovedThroughTheAdminApiLosesItsLease) {
  const auto lease = add(1).lease;
  manager_->remove_backend("api", "10.0.1.1:8080");
  EXPECT_EQ(registry_->renew(lease, {}, now_).status, 404);
  EXPECT_EQ(registry_->lease_count(), 0u);
}

TEST_F(RegistryTest, GuardKeepsAMajorityOfAtLeastThreeThatLapseTogether) {
  std::vector<std::string> leases;
  for (int i = 1; i <= 4; ++i) leases.push_back(add(i).lease);
  // Only the fourth renews: three of four overdue.
  for (int step = 0; step < 4; ++step) {
    advance(4s);
    ASSERT_EQ(registry_->renew(leases[3], {}, now_).status, 200);
  }
  EXPECT_TRUE(registry_->guarded(0));
  EXPECT_EQ(live(), 4u);
  EXPECT_EQ(bus_.count(Event::RegistrationGuard), 1u);  // once per episode, not per tick
  EXPECT_EQ(bus_.count(Event::BackendExpired), 0u);
  // A guarded lease is still a lease: its backend may come back.
  ASSERT_EQ(registry_->renew(leases[0], {}, now_).status, 200);
  // Two of four overdue: not a majority any more; they expire.
  advance(100ms);
  EXPECT_FALSE(registry_->guarded(0));
  EXPECT_EQ(live(), 2u);
  EXPECT_EQ(bus_.count(Event::BackendExpired), 2u);
}

TEST_F(RegistryTest, GuardSeesASplitWhoseLeasesLapseOneByOne) {
  // Renewed at different moments, as sidecars do: when they all fall silent, their deadlines are
  // spread out, and the first to lapse is alone among the overdue.
  std::vector<std::string> leases;
  for (int i = 1; i <= 4; ++i) {
    leases.push_back(add(i).lease);
    advance(1s);
  }
  // t = 4s; the split: nobody renews from here. The first lease lapses at 10s.
  for (int step = 0; step < 58; ++step) advance(100ms);
  EXPECT_EQ(bus_.count(Event::BackendExpired), 0u);
  EXPECT_FALSE(registry_->guarded(0));
  advance(200ms);  // t = 10s
  EXPECT_TRUE(registry_->guarded(0));
  EXPECT_EQ(bus_.count(Event::BackendExpired), 0u);
  for (int step = 0; step < 50; ++step) advance(100ms);  // every lease has lapsed
  EXPECT_EQ(live(), 4u);
  EXPECT_EQ(bus_.count(Event::RegistrationGuard), 1u);
}

TEST_F(RegistryTest, OneLapsedLeaseOfFourExpires) {
  std::vector<std::string> leases;
  for (int i = 1; i <= 4; ++i) leases.push_back(add(i).lease);
  for (int step = 0; step < 4; ++step) {
    advance(4s);
    for (int i = 1; i < 4; ++i) ASSERT_EQ(registry_->renew(leases[i], {}, now_).status, 200);
  }
  EXPECT_FALSE(registry_->guarded(0));
  EXPECT_EQ(live(), 3u);
  EXPECT_EQ(bus_.count(Event::BackendExpired), 1u);
  EXPECT_EQ(bus_.count(Event::RegistrationGuard), 0u);
}

TEST_F(RegistryTest, TwoOfTwoLapsingExpireTheGuardNeedsThree) {
  add(1);
  add(2);
  advance(10s);
  EXPECT_EQ(members(), 0u);
  EXPECT_EQ(bus_.count(Event::BackendExpired), 2u);
  EXPECT_EQ(bus_.count(Event::RegistrationGuard), 0u);
}

}  // namespace
}  // namespace fulcrum::membership
