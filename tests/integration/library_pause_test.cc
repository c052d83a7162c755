// Balancer::set_pool_paused through the library over real sockets: connections to a paused tcp
// pool wait (the backend accepts none) and are served when it resumes; an unknown pool is a 404
// and a balancer not running a 503, both changing nothing; the pool_paused event says each change.
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "fulcrum/balancer.h"
#include "support/eventually.h"
#include "support/sockets.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

Config paused_config(const std::string& backend) {
  Config config;
  config.workers = 2;
  config.listeners.push_back({.name = "app", .listen = "127.0.0.1:0", .pool = "app"});
  config.pools.push_back({.name = "app", .backends = {{.address = backend, .name = "a"}}});
  config.pools[0].queue.timeout = std::chrono::seconds(20);
  return config;
}

TEST(LibraryPause, ConnectionsWaitWhilePausedAndAreServedOnResume) {
  TestBackend a("a");
  Balancer balancer(paused_config(a.address()));
  std::mutex mutex;
  std::vector<nlohmann::json> events;
  balancer.on(Event::PoolPaused, [&](const EventData& data) {
    std::lock_guard lock(mutex);
    events.push_back(nlohmann::json::parse(data.details));
  });
  EXPECT_EQ(balancer.set_pool_paused("app", true).status, 503) << "not running yet";
  ASSERT_TRUE(balancer.start().ok());
  const std::string front = balancer.listeners()[0].address;

  const auto paused = balancer.set_pool_paused("app", true);
  ASSERT_TRUE(paused.ok()) << paused.error;
  EXPECT_EQ(paused.status, 200);
  auto first = Client::connect(front);
  auto second = Client::connect(front);
  ASSERT_TRUE(first.valid() && second.valid());
  EXPECT_EQ(first.read_until("\n", 300ms), "") << "a paused pool connected a client";
  EXPECT_EQ(second.read_until("\n", 100ms), "");
  EXPECT_EQ(a.accepted(), 0u);

  const auto resumed = balancer.set_pool_paused("app", false);
  ASSERT_TRUE(resumed.ok()) << resumed.error;
  EXPECT_EQ(first.read_until("\n", 5s), "a\n");
  EXPECT_EQ(second.read_until("\n", 5s), "a\n");
  EXPECT_EQ(a.accepted(), 2u);

  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return events.size() == 2;
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(events[0]["pool"], "app");
  EXPECT_EQ(events[0]["paused"], true);
  EXPECT_EQ(events[1]["paused"], false);
  EXPECT_EQ(events[1]["waiting"], 2) << "the resume event counts those it releases";
}

TEST(LibraryPause, AnUnknownPoolIsA404AndChangesNothing) {
  TestBackend a("a");
  Balancer balancer(paused_config(a.address()));
  ASSERT_TRUE(balancer.start().ok());
  const auto unknown = balancer.set_pool_paused("nope", true);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.error, "no pool named 'nope'");
  EXPECT_FALSE(unknown.ok());
  // Pool app was not paused by it: a connection is served at once.
  auto client = Client::connect(balancer.listeners()[0].address);
  EXPECT_EQ(client.read_until("\n", 3s), "a\n");
  // Pausing twice, or resuming a running pool, is no error.
  EXPECT_TRUE(balancer.set_pool_paused("app", false).ok());
  EXPECT_TRUE(balancer.set_pool_paused("app", true).ok());
  EXPECT_TRUE(balancer.set_pool_paused("app", true).ok());
}

}  // namespace
}  // namespace fulcrum::test
