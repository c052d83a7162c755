// The library's runtime changes to pools (Balancer::add_backend, update_backend, remove_backend,
// backends) over real sockets: traffic follows each change, refusals change nothing, events say
// what happened, and a callback may change a pool itself without deadlocking.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "fulcrum/balancer.h"
#include "support/eventually.h"
#include "support/sockets.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

Config tcp_config(const std::string& backend) {
  Config config;
  config.workers = 1;  // one round-robin cursor: exact shares
  config.drain_timeout = std::chrono::seconds(2);
  config.listeners.push_back({.name = "app", .listen = "127.0.0.1:0", .pool = "app"});
  config.pools.push_back({.name = "app", .backends = {{.address = backend, .name = "a"}}});
  return config;
}

std::map<std::string, int> answers(const std::string& front, int count) {
  std::map<std::string, int> seen;
  for (int i = 0; i < count; ++i) {
    auto client = Client::connect(front);
    ++seen[client.read_until("\n")];
  }
  return seen;
}

TEST(LibraryBackends, AddDrainReadyRemoveFollowedByTraffic) {
  TestBackend a("a"), b("b");
  Config config = tcp_config(a.address());
  config.pools[0].strategy = "weighted";
  Balancer balancer(config);
  std::mutex mutex;
  std::vector<std::string> seen_events;
  for (Event event : {Event::BackendAdded, Event::BackendState, Event::BackendWeight, Event::BackendRemoved}) {
    balancer.on(event, [&](const EventData& data) {
      std::lock_guard lock(mutex);
      seen_events.push_back(std::string(event_name(data.event)));
    });
  }
  ASSERT_TRUE(balancer.start().ok());
  const std::string front = balancer.listeners()[0].address;

  const auto added = balancer.add_backend("app", {.address = b.address(), .weight = 1, .name = "b"});
  ASSERT_TRUE(added.ok()) << added.error;
  EXPECT_EQ(added.status, 201);
  EXPECT_EQ(added.backend.name, "b");
  EXPECT_EQ(added.backend.source, "api");
  EXPECT_EQ(added.backend.admin_state, "ready");
  EXPECT_EQ(answers(front, 10), (std::map<std::string, int>{{"a\n", 5}, {"b\n", 5}}));

  const auto drained = balancer.update_backend("app", "a", {.state = "drain"});
  ASSERT_TRUE(drained.ok()) << drained.error;
  EXPECT_EQ(drained.backend.admin_state, "drain");
  EXPECT_EQ(answers(front, 6), (std::map<std::string, int>{{"b\n", 6}}));

  ASSERT_TRUE(balancer.update_backend("app", a.address(), {.weight = 3, .state = "ready"}).ok());
  // Weights 3:1, smooth weighted round robin rebuilt from the new snapshot: exactly 6 of 8.
  EXPECT_EQ(answers(front, 8), (std::map<std::string, int>{{"a\n", 6}, {"b\n", 2}}));
  const auto listed = balancer.backends("app");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].weight, 3u);

  const auto removed = balancer.remove_backend("app", "b");
  ASSERT_TRUE(removed.ok()) << removed.error;
  EXPECT_EQ(removed.status, 202);
  EXPECT_TRUE(eventually([&] { return balancer.backends("app").size() == 1; }));
  EXPECT_EQ(answers(front, 4), (std::map<std::string, int>{{"a\n", 4}}));
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return std::find(seen_events.begin(), seen_events.end(), "backend_removed") != seen_events.end();
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen_events.front(), "backend_added");
  EXPECT_NE(std::find(seen_events.begin(), seen_events.end(), "backend_state"), seen_events.end());
  EXPECT_NE(std::find(seen_events.begin(), seen_events.end(), "backend_weight"), seen_events.end());
}

TEST(LibraryBackends, RefusalsAreValuesAndChangeNothing) {
  TestBackend a("a");
  Balancer balancer(tcp_config(a.address()));
  EXPECT_EQ(balancer.add_backend("app", {.address = "127.0.0.1:1"}).status, 503);  // not started
  ASSERT_TRUE(balancer.start().ok());
  struct Case {
    BackendResult result;
    int status;
    std::string error;
  };
  const std::vector<Case> cases = {
      {balancer.add_backend("nope", {.address = "127.0.0.1:1"}), 404, "no pool named 'nope'"},
      {balancer.add_backend("app", {.address = a.address()}), 409,
       "address: backend '" + a.address() + "' is already in pool 'app'"},
      {balancer.add_backend("app", {.address = "127.0.0.1:1", .weight = 0}), 400,
       "weight: must be between 1 and 1000000 (got 0)"},
      {balancer.update_backend("app", "zz", {.weight = 2}), 404, "no backend 'zz' in pool 'app'"},
      {balancer.update_backend("app", "a", {.state = "asleep"}), 400,
       "state: unknown state 'asleep' (expected one of: ready, drain, maint)"},
      {balancer.update_backend("app", "a", {}), 400, "nothing to change: give a weight and/or a state"},
      {balancer.remove_backend("app", "zz"), 404, "no backend 'zz' in pool 'app'"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.result.status, c.status) << c.error;
    EXPECT_EQ(c.result.error, c.error);
  }
  const auto listed = balancer.backends("app");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].weight, 1u);
  EXPECT_EQ(listed[0].admin_state, "ready");
}

TEST(LibraryBackends, AnEventCallbackMayChangeAPool) {
  // Callbacks run on the control thread, where changes are made: a change from a callback runs
  // at once rather than waiting for itself.
  TestBackend a("a"), b("b");
  Balancer balancer(tcp_config(a.address()));
  std::atomic<bool> done{false};
  std::atomic<int> status{0};
  balancer.on(Event::BackendAdded, [&](const EventData&) {
    if (done.exchange(true)) return;
    status = balancer.update_backend("app", "b", {.state = "drain"}).status;
  });
  ASSERT_TRUE(balancer.start().ok());
  ASSERT_TRUE(balancer.add_backend("app", {.address = b.address(), .name = "b"}).ok());
  ASSERT_TRUE(eventually([&] { return status.load() != 0; }));
  EXPECT_EQ(status.load(), 200);
  EXPECT_EQ(answers(balancer.listeners()[0].address, 4), (std::map<std::string, int>{{"a\n", 4}}));
}

}  // namespace
}  // namespace fulcrum::test
