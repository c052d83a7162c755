// Planning a reload: what applies, what only a restart applies, what is refused (and then that
// nothing at all is planned). Pure: two Configs in, a plan out.
#include "runtime/reload_plan.h"

#include <gtest/gtest.h>

namespace fulcrum::runtime {
namespace {

Config base() {
  Config config;
  config.workers = 2;
  ListenerConfig listener;
  listener.name = "front";
  listener.listen = "127.0.0.1:0";
  listener.mode = ListenerMode::Http;
  listener.pool = "app";
  config.listeners.push_back(listener);
  PoolConfig app;
  app.name = "app";
  app.backends = {{"127.0.0.1:9001", 1, ""}, {"127.0.0.1:9002", 1, "b"}};
  PoolConfig web;
  web.name = "web";
  web.backends = {{"127.0.0.1:9101", 1, ""}};
  config.pools = {app, web};
  return config;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& line : lines) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(ReloadPlan, TheSameConfigurationChangesNothing) {
  const ReloadPlan plan = plan_reload(base(), base());
  EXPECT_TRUE(plan.errors.empty());
  EXPECT_TRUE(plan.changes.empty());
  EXPECT_TRUE(plan.pools.empty());
  EXPECT_TRUE(plan.restart_required.empty());
}

TEST(ReloadPlan, AStrategyAndBackendChangeOfOnePoolIsPlannedForThatPoolOnly) {
  Config next = base();
  next.pools[0].strategy = "random";
  next.pools[0].backends = {{"127.0.0.1:9001", 3, ""}, {"127.0.0.1:9003", 1, ""}};
  const ReloadPlan plan = plan_reload(base(), next);
  ASSERT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.pools.size(), 1u);
  EXPECT_EQ(plan.pools[0].name, "app");
  EXPECT_TRUE(plan.pools[0].settings_changed);
  EXPECT_TRUE(plan.pools[0].backends_changed);
  EXPECT_TRUE(mentions(plan.changes, "strategy round_robin -> random")) << plan.changes.size();
  EXPECT_TRUE(mentions(plan.changes, "backend 127.0.0.1:9003 added"));
  EXPECT_TRUE(mentions(plan.changes, "backend 127.0.0.1:9002 removed"));
  EXPECT_TRUE(mentions(plan.changes, "backend 127.0.0.1:9001 changed"));
}

TEST(ReloadPlan, PoolsAreMatchedByNameWhateverTheirOrderInTheFile) {
  Config next = base();
  std::swap(next.pools[0], next.pools[1]);
  next.pools[1].retries = 0;  // app, now second in the file
  const ReloadPlan plan = plan_reload(base(), next);
  ASSERT_TRUE(plan.errors.empty());
  EXPECT_TRUE(plan.added_pools.empty());
  EXPECT_TRUE(plan.removed_pools.empty());
  ASSERT_EQ(plan.pools.size(), 1u) << "moving web up changes nothing";
  EXPECT_EQ(plan.pools[0].name, "app");
}

TEST(ReloadPlan, WorkersIsReportedAsNeedingARestartAndKeepsItsRunningValue) {
  Config next = base();
  next.workers = 8;
  next.pools[1].strategy = "random";
  const ReloadPlan plan = plan_reload(base(), next);
  ASSERT_TRUE(plan.errors.empty());
  EXPECT_TRUE(mentions(plan.restart_required, "workers"));
  EXPECT_EQ(plan.next.workers, 2u);
  EXPECT_EQ(plan.pools.size(), 1u);  // the rest applies
}

TEST(ReloadPlan, PidFileUserAndGroupNeedARestartAndKeepTheirRunningValues) {
  Config running = base();
  running.pid_file = "/run/fulcrum/fulcrum.pid";
  running.user = "fulcrum";
  Config next = running;
  next.pid_file = "/run/other.pid";
  next.user = "nobody";
  next.group = "nogroup";
  const ReloadPlan plan = plan_reload(running, next);
  ASSERT_TRUE(plan.errors.empty());
  EXPECT_TRUE(mentions(plan.restart_required, "pid_file"));
  EXPECT_TRUE(mentions(plan.restart_required, "user"));
  EXPECT_TRUE(mentions(plan.restart_required, "group"));
  EXPECT_EQ(plan.next.pid_file, "/run/fulcrum/fulcrum.pid");
  EXPECT_EQ(plan.next.user, "fulcrum");
  EXPECT_EQ(plan.next.group, "");
}

TEST(ReloadPlan, WhatThisVersionCannotReloadIsRefusedAndNothingIsPlanned) {
  Config mode_in_place = base();
  mode_in_place.listeners[0].mode = ListenerMode::Tcp;
  mode_in_place.listeners[0].max_connections = 10;
  mode_in_place.pools[0].strategy = "random";
  ReloadPlan plan = plan_reload(base(), mode_in_place);
  EXPECT_TRUE(mentions(plan.errors, "listeners.front.mode"));
  EXPECT_TRUE(plan.changes.empty());
  EXPECT_TRUE(plan.pools.empty());
  EXPECT_TRUE(plan.listeners.empty());


  Config sticky = base();
  sticky.pools[0].sticky = StickyConfig{};
  plan = plan_reload(base(), sticky);
  EXPECT_TRUE(plan.errors.empty());
  EXPECT_TRUE(mentions(plan.changes, "pool 'app': client-IP sessions start over"));

}

TEST(ReloadPlan, BackendsGivenByHostNameAreFollowedOrDropped) {
  Config current = base();
  current.pools[0].backends.push_back({"old.example.com:80", 1, ""});
  current.pools[0].backends.push_back({"kept.example.com:80", 1, ""});
  Config next = current;
  next.pools[0].backends.erase(next.pools[0].backends.begin() + 2);  // old.example.com
  next.pools[0].backends.push_back({"new.example.com:80", 2, ""});
  const ReloadPlan plan = plan_reload(current, next);
  ASSERT_TRUE(plan.errors.empty()) << plan.errors.front();
  ASSERT_EQ(plan.pools.size(), 1u);
  const PoolChange& change = plan.pools[0];
  ASSERT_EQ(change.host_names_dropped.size(), 1u);
  EXPECT_EQ(change.host_names_dropped[0].address, "old.example.com:80");
  ASSERT_EQ(change.host_names_added.size(), 1u);
  EXPECT_EQ(change.host_names_added[0].address, "new.example.com:80");
  EXPECT_FALSE(change.backends_changed) << "the backends given by address did not change";
  EXPECT_TRUE(mentions(plan.changes, "pool 'app': backend new.example.com:80 (DNS) added"));
}

TEST(ReloadPlan, ListenersAreMatchedByNameAddedChangedMovedAndRemoved) {
  Config current = base();
  ListenerConfig old_tcp;
  old_tcp.name = "old";
  old_tcp.listen = "127.0.0.1:7000";
  old_tcp.pool = "web";
  current.listeners.push_back(old_tcp);
  ListenerConfig moving = old_tcp;
  moving.name = "moving";
  moving.listen = "127.0.0.1:7001";
  current.listeners.push_back(moving);

  Config next = current;
  next.listeners[0].max_connections = 10;  // front: changed in place
  next.listeners[0].routes = {RouteConfig{.match = {.path = "/api/*"}, .pool = "web"}};
  next.listeners[0].backlog = 16;  // not applied: the sockets keep theirs
  next.listeners.erase(next.listeners.begin() + 1);  // old: removed
  next.listeners[1].listen = "127.0.0.1:7002";  // moving: a new address
  ListenerConfig fresh = old_tcp;
  fresh.name = "fresh";
  fresh.listen = "127.0.0.1:7003";
  next.listeners.push_back(fresh);

  const ReloadPlan plan = plan_reload(current, next);
  ASSERT_TRUE(plan.errors.empty()) << plan.errors.front();
  using Kind = ListenerChange::Kind;
  std::vector<std::pair<Kind, std::string>> got;
  for (const auto& change : plan.listeners) got.emplace_back(change.kind, change.name);
  const std::vector<std::pair<Kind, std::string>> want = {
      {Kind::Added, "moving"}, {Kind::Added, "fresh"}, {Kind::Changed, "front"},
      {Kind::Removed, "moving"}, {Kind::Removed, "old"}};
  EXPECT_EQ(got, want) << "additions first (their binding may still fail), removals last";
  EXPECT_TRUE(mentions(plan.changes, "listener 'front': routes, max_connections changed"));
  EXPECT_TRUE(mentions(plan.changes, "listener 'moving': moved from 127.0.0.1:7001 (tcp) to 127.0.0.1:7002 (tcp)"));
  EXPECT_TRUE(mentions(plan.changes, "listener 'fresh': added"));
  EXPECT_TRUE(mentions(plan.changes, "listener 'old': removed"));
  EXPECT_TRUE(mentions(plan.restart_required, "listeners.front.backlog"));
  EXPECT_EQ(plan.next.listeners[0].backlog, current.listeners[0].backlog);
  EXPECT_EQ(plan.next.listeners[0].max_connections, 10u);
}

TEST(ReloadPlan, ThePROXYProtocolKeysOfAListenerAreAChangeInPlace) {
  Config next = base();
  next.listeners[0].accept_proxy = true;
  next.listeners[0].trusted_proxies = {"10.0.0.0/8"};
  ReloadPlan plan = plan_reload(base(), next);
  ASSERT_TRUE(plan.errors.empty()) << plan.errors.front();
  ASSERT_EQ(plan.listeners.size(), 1u);
  EXPECT_EQ(plan.listeners[0].kind, ListenerChange::Kind::Changed);
  EXPECT_TRUE(mentions(plan.changes, "listener 'front': accept_proxy, trusted_proxies changed"));

  Config wider = next;
  wider.listeners[0].trusted_proxies.push_back("192.0.2.0/24");
  plan = plan_reload(next, wider);
  EXPECT_TRUE(mentions(plan.changes, "listener 'front': trusted_proxies changed"));
}

TEST(ReloadPlan, PoolsAreAddedAndRemovedByName) {
  Config next = base();
  next.pools.erase(next.pools.begin() + 1);  // web
  next.pools.push_back(PoolConfig{.name = "extra", .strategy = "random", .backends = {{"127.0.0.1:9201", 1, ""}}});
  const ReloadPlan plan = plan_reload(base(), next);
  ASSERT_TRUE(plan.errors.empty()) << plan.errors.front();
  ASSERT_EQ(plan.added_pools.size(), 1u);
  EXPECT_EQ(plan.added_pools[0].name, "extra");
  EXPECT_EQ(plan.removed_pools, std::vector<std::string>{"web"});
  EXPECT_TRUE(plan.pools.empty()) << "app did not change";
  EXPECT_TRUE(mentions(plan.changes, "pool 'extra': added (random, 1 backends)"));
  EXPECT_TRUE(mentions(plan.changes, "pool 'web': removed"));
}

TEST(ReloadPlan, AListenersAccessListsAndLimitsApplyAtOnceTheControlListenersWaitForARestart) {
  Config current = base();
  current.admin = AdminConfig{.listen = "127.0.0.1:9900"};
  current.registration = RegistrationConfig{.listen = "127.0.0.1:9902", .token = "t"};
  Config next = current;
  next.listeners[0].allow = {"10.0.0.0/8"};
  next.listeners[0].limits = ClientLimitsConfig{.connections_per_ip = 5};
  next.admin->deny = {"127.0.0.3"};
  next.registration->allow = {"127.0.0.2"};
  const ReloadPlan plan = plan_reload(current, next);
  ASSERT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.listeners.size(), 1u);
  EXPECT_EQ(plan.listeners[0].config.allow, next.listeners[0].allow);
  EXPECT_EQ(plan.listeners[0].config.limits, next.listeners[0].limits);
  EXPECT_TRUE(mentions(plan.changes, "allow, limits changed"));
  EXPECT_TRUE(mentions(plan.restart_required, "admin (limits, state_file, allow, deny)"));
  EXPECT_TRUE(mentions(plan.restart_required, "registration (allow, deny)"));
  EXPECT_TRUE(plan.next.admin->deny.empty()) << "the running lists are kept";
  EXPECT_TRUE(plan.next.registration->allow.empty());
}

TEST(ReloadPlan, TheAdminListenerMovesItsTokenChangesAndItsLimitsWaitForARestart) {
  Config current = base();
  current.admin = AdminConfig{.listen = "127.0.0.1:9900", .token = "old"};
  Config next = current;
  next.admin->listen = "127.0.0.1:9901";
  next.admin->token = "new";
  next.admin->max_connections = 7;
  const ReloadPlan plan = plan_reload(current, next);
  ASSERT_TRUE(plan.errors.empty());
  EXPECT_EQ(plan.admin_listen, "127.0.0.1:9901");
  EXPECT_TRUE(mentions(plan.changes, "admin: moved from 127.0.0.1:9900 to 127.0.0.1:9901"));
  EXPECT_TRUE(mentions(plan.changes, "admin: token changed"));
  EXPECT_TRUE(mentions(plan.restart_required, "admin (limits, state_file, allow, deny)"));
  EXPECT_EQ(plan.next.admin->max_connections, current.admin->max_connections);
  EXPECT_EQ(plan.next.admin->token, "new");

  Config without = current;
  without.admin.reset();
  const ReloadPlan dropped = plan_reload(current, without);
  EXPECT_TRUE(mentions(dropped.restart_required, "admin"));
  EXPECT_TRUE(dropped.next.admin.has_value()) << "the admin API stays until a restart";
}

TEST(ReloadPlan, CookieStickinessMayChange) {
  Config next = base();
  next.pools[0].sticky = StickyConfig{.cookie = "srv"};
  const ReloadPlan plan = plan_reload(base(), next);
  EXPECT_TRUE(plan.errors.empty());
  EXPECT_EQ(plan.pools.size(), 1u);
}


Config with_managed_app(const ManagedConfig& managed) {
  Config config = base();
  config.pools[0].backends.clear();
  config.pools[0].managed = managed;
  return config;
}

ManagedConfig app_instances() {
  ManagedConfig managed;
  managed.command = {"./app", "--port", "{port}"};
  managed.port_min = 9100;
  managed.port_max = 9199;
  managed.instances = {3, 3};
  return managed;
}

TEST(ReloadPlan, AManagedPoolWhoseProgramChangesRolls) {
  for (const char* what : {"command", "env", "cwd"}) {
    ManagedConfig changed = app_instances();
    if (std::string(what) == "command") changed.command.push_back("--verbose");
    if (std::string(what) == "env") changed.env = {{"APP_RELEASE", "2"}};
    if (std::string(what) == "cwd") changed.cwd = "/srv/app";
    const ReloadPlan plan = plan_reload(with_managed_app(app_instances()), with_managed_app(changed));
    EXPECT_TRUE(plan.errors.empty()) << what;
    ASSERT_EQ(plan.pools.size(), 1u) << what;
    EXPECT_TRUE(plan.pools[0].managed_changed) << what;
    EXPECT_TRUE(plan.pools[0].managed_roll) << what;
    EXPECT_FALSE(plan.pools[0].settings_changed) << what;
    EXPECT_EQ(plan.pools[0].config.managed, changed) << what;
    EXPECT_TRUE(mentions(plan.changes, std::string("pool 'app': managed ") + what + " changed (its instances roll)"))
        << what;
  }
}

TEST(ReloadPlan, OtherManagedSettingsApplyToNewInstancesWithoutARoll) {
  ManagedConfig changed = app_instances();
  changed.instances = {5, 5};
  changed.max_parallel = 2;
  changed.port_max = 9150;
  const ReloadPlan plan = plan_reload(with_managed_app(app_instances()), with_managed_app(changed));
  ASSERT_EQ(plan.pools.size(), 1u);
  EXPECT_TRUE(plan.pools[0].managed_changed);
  EXPECT_FALSE(plan.pools[0].managed_roll);
  EXPECT_TRUE(mentions(plan.changes, "pool 'app': managed ports, instances, max_parallel changed"));
  EXPECT_FALSE(mentions(plan.changes, "roll"));
}

TEST(ReloadPlan, AManagedSectionAddedOrRemovedIsAChangeOfThePool) {
  const Config managed = with_managed_app(app_instances());
  Config plain = managed;
  plain.pools[0].managed.reset();
  plain.pools[0].backends = {{"127.0.0.1:9001", 1, ""}};

  ReloadPlan plan = plan_reload(managed, plain);
  EXPECT_TRUE(plan.errors.empty());
  EXPECT_TRUE(plan.restart_required.empty());
  ASSERT_EQ(plan.pools.size(), 1u);
  EXPECT_TRUE(plan.pools[0].managed_changed);
  EXPECT_FALSE(plan.pools[0].managed_roll);
  EXPECT_FALSE(plan.pools[0].config.managed);
  EXPECT_TRUE(mentions(plan.changes, "pool 'app': managed removed (its instances stop)"));

  plan = plan_reload(plain, managed);
  ASSERT_EQ(plan.pools.size(), 1u);
  EXPECT_TRUE(plan.pools[0].managed_changed);
  EXPECT_EQ(plan.pools[0].config.managed, app_instances());
  EXPECT_TRUE(mentions(plan.changes, "pool 'app': managed added (its instances start)"));
}

}  // namespace
}  // namespace fulcrum::runtime
